/**
 * Who may approve or reject a run, and when a decision is reached. Pure functions of the environment's policy
 * (from the worker's configuration, never from the request), the run's current state and the payload: each
 * returns accepted, or refused with the reason the caller and the history see. No workflow APIs here, so the
 * rules are tested without a server.
 */
import type { EnvironmentPolicy } from '../contracts/activity-types';
import { ownEntry } from '../contracts/own-entry';
import { normalizePersonName } from '../contracts/person-name';
import { proveSigned, renderStatement, type DecisionAction } from '../contracts/signed-statement';
import {
  formatZodError,
  type SignedProof,
  schemasFor,
  type NameRules,
  type ApprovePayload,
  type DecisionRecord,
  type Phase,
  type PromotionStatus,
  type RefusalReason,
  type RejectPayload,
  cancelPayloadSchema,
  type CancelPayload,
} from '../contracts/types';

/** What the rules look at in a run. */
export interface ApprovalState {
  /** Runs started before names were normalized keep comparing names as written (replay). */
  names?: NameRules;
  /** Someone cancelled the run through the cancel update: no more decisions. */
  cancelled?: boolean;
  phase: Phase;
  /** Undefined until the environment has been resolved. */
  policy: EnvironmentPolicy | undefined;
  requestedBy: string;
  environment: string;
  planHash?: string;
  approvals: readonly DecisionRecord[];
  rejections: readonly DecisionRecord[];
  /** What a signed statement names besides the payload: the run and its pinned commit. */
  workflowId?: string;
  runId?: string;
  commit?: string;
  /** The workflow clock, in ms: signed statements must be recent. */
  now?: number;
  /** Registered people who authored commits in the promoted range (approval.excludeCommitAuthors). */
  commitAuthors?: readonly string[];
  /** Runs started since signed identities: no cancel before the environment's policy is known. */
  strictCancel?: boolean;
}

export type Verdict<P> =
  | { accepted: true; payload: P; signed?: SignedProof }
  /** `approver` is who the payload claims to be, or "(unknown)" when it names nobody. */
  | { accepted: false; approver: string; reason: string; code: RefusalReason };

/**
 * How names are compared: normalized (configured names are normalized at start-up; normalizing again keeps
 * policies recorded before that comparable), or as written for runs started before names were normalized.
 */
function nameComparer(state: Pick<ApprovalState, 'names'>): (name: string) => string {
  return state.names === 'legacy' ? (name) => name : normalizePersonName;
}

function claimedName(raw: unknown, field: 'approver' | 'by' = 'approver'): string {
  const name = (raw as Record<string, unknown> | null | undefined)?.[field];
  return typeof name === 'string' ? name.slice(0, 100) : '(unknown)';
}

const refused = (approver: string, code: RefusalReason, reason: string) => ({
  accepted: false as const,
  approver,
  reason,
  code,
});

/**
 * In a `signed` environment, the payload must carry a statement for exactly this decision, run, commit and plan,
 * signed by one of the person's registered keys, and recent. Elsewhere there is nothing to check.
 */
function signedBy<P extends { signature?: string; signedAt?: string }>(
  state: ApprovalState,
  action: DecisionAction,
  person: string,
  payload: P,
): Verdict<P> {
  const policy = state.policy;
  if (policy?.identity !== 'signed') return { accepted: true, payload };
  const statement = decisionStatement(state, action, person, payload.signedAt ?? '');
  const check = proveSigned({ statement, payload, person, policy, now: state.now ?? 0 });
  if (!check.ok) return refused(person, check.code, `${action} by ${person}: ${check.why}`);
  return { accepted: true, payload, signed: check.proof };
}

/** The statement a decision on this run must sign: the run's own facts, plus who and when. */
export function decisionStatement(
  state: Pick<ApprovalState, 'environment' | 'workflowId' | 'runId' | 'commit' | 'planHash'>,
  action: DecisionAction,
  person: string,
  time: string,
): string {
  return renderStatement({
    action,
    environment: state.environment,
    workflowId: state.workflowId ?? '',
    runId: state.runId ?? '',
    commit: state.commit,
    planHash: state.planHash,
    person,
    time,
  });
}

export function judgeApproval(state: ApprovalState, raw: unknown): Verdict<ApprovePayload> {
  const parsed = schemasFor(state.names ?? 'normalized').approve.safeParse(raw);
  if (!parsed.success)
    return refused(
      claimedName(raw),
      'invalid_payload',
      `invalid approve payload: ${formatZodError(parsed.error)}`,
    );
  const p = parsed.data;
  if (state.cancelled) return refused(p.approver, 'already_finished', 'the run is being cancelled');
  if (state.phase !== 'awaiting_approval')
    return refused(p.approver, 'not_awaiting_approval', `not awaiting approval (phase is ${state.phase})`);
  const policy = state.policy;
  if (!policy) return refused(p.approver, 'policy_not_loaded', 'environment policy not loaded');
  const norm = nameComparer(state);
  const approvers = policy.approvers.map(norm);
  if (!approvers.includes(p.approver))
    return refused(
      p.approver,
      'not_an_approver',
      `${p.approver} is not an approver for ${policy.environment}`,
    );
  if (!policy.allowSelfApproval && p.approver === norm(state.requestedBy))
    return refused(p.approver, 'self_approval', 'the requester cannot approve their own promotion');
  if (p.planHash !== undefined && p.planHash !== state.planHash)
    return refused(
      p.approver,
      'stale_plan',
      `stale plan: approved ${p.planHash} but the plan is ${state.planHash}`,
    );
  if (state.approvals.some((a) => a.approver === p.approver))
    return refused(p.approver, 'duplicate', `${p.approver} has already approved`);
  if (policy.excludeCommitAuthors && state.commitAuthors?.includes(p.approver))
    return refused(
      p.approver,
      'commit_author',
      `${p.approver} authored commits in the promoted range and may not approve it`,
    );
  // Last: the cheap rules refuse a flood before any signature is verified.
  return signedBy(state, 'approve', p.approver, p);
}

export function judgeRejection(state: ApprovalState, raw: unknown): Verdict<RejectPayload> {
  const parsed = schemasFor(state.names ?? 'normalized').reject.safeParse(raw);
  if (!parsed.success)
    return refused(
      claimedName(raw),
      'invalid_payload',
      `invalid reject payload: ${formatZodError(parsed.error)}`,
    );
  const p = parsed.data;
  if (state.cancelled) return refused(p.approver, 'already_finished', 'the run is being cancelled');
  if (state.phase !== 'awaiting_approval')
    return refused(p.approver, 'not_awaiting_approval', `not awaiting approval (phase is ${state.phase})`);
  // The requester may withdraw; otherwise only configured approvers decide.
  const policy = state.policy;
  const norm = nameComparer(state);
  if (!policy || (!policy.approvers.map(norm).includes(p.approver) && p.approver !== norm(state.requestedBy)))
    return refused(p.approver, 'may_not_decide', `${p.approver} may not reject in ${state.environment}`);
  return signedBy(state, 'reject', p.approver, p);
}

/**
 * Who may cancel a run through the cancel update: its requester and the environment's approvers, until the run
 * has an outcome.
 */
export function judgeCancel(
  state: ApprovalState & { outcomeSet: boolean },
  raw: unknown,
): Verdict<CancelPayload> {
  const parsed = cancelPayloadSchema.safeParse(raw);
  if (!parsed.success)
    return refused(
      claimedName(raw, 'by'),
      'invalid_payload',
      `invalid cancel payload: ${formatZodError(parsed.error)}`,
    );
  const p = parsed.data;
  if (state.cancelled) return refused(p.by, 'already_finished', 'the run is already being cancelled');
  if (state.outcomeSet || state.phase === 'alerting' || state.phase === 'done')
    return refused(p.by, 'already_finished', `the run already has an outcome (phase is ${state.phase})`);
  // Until the policy is known, so is not whether cancels must be signed.
  if (state.strictCancel && !state.policy)
    return refused(
      p.by,
      'policy_not_loaded',
      'the environment policy is not loaded yet: try again in a moment',
    );
  const approvers = state.policy?.approvers.map(normalizePersonName) ?? [];
  if (p.by !== normalizePersonName(state.requestedBy) && !approvers.includes(p.by))
    return refused(
      p.by,
      'may_not_decide',
      `${p.by} may not cancel a run in ${state.environment}: only its requester and the approvers`,
    );
  return signedBy(state, 'cancel', p.by, p);
}

export type ApprovalDecision = 'pending' | 'approved' | 'rejected';

/** One rejection ends the wait; otherwise the quorum of distinct approvals does. */
export function approvalDecision(
  state: Pick<ApprovalState, 'approvals' | 'rejections'>,
  requiredApprovals: number,
  groups: Pick<EnvironmentPolicy, 'groups' | 'requiredFromGroups'> = {},
): ApprovalDecision {
  if (state.rejections.length > 0) return 'rejected';
  if (state.approvals.length < requiredApprovals) return 'pending';
  return missingGroupApprovals(state, groups).length === 0 ? 'approved' : 'pending';
}

/**
 * The named groups that still lack approvals, as "release-managers: 1 more". Approvals are distinct people, so
 * one person in two groups counts for both.
 */
export function missingGroupApprovals(
  state: Pick<ApprovalState, 'approvals'>,
  { groups = {}, requiredFromGroups = {} }: Pick<EnvironmentPolicy, 'groups' | 'requiredFromGroups'>,
): string[] {
  const approvedBy = new Set(state.approvals.map((a) => normalizePersonName(a.approver)));
  return Object.entries(requiredFromGroups).flatMap(([group, needed]) => {
    const members = (ownEntry(groups, group) ?? []).map(normalizePersonName);
    const have = members.filter((m) => approvedBy.has(m)).length;
    return have >= needed ? [] : [`${group}: ${needed - have} more`];
  });
}

/** Approvers who have not decided yet; the requester is left out unless the environment allows self-approval. */
export function stillToDecide(
  status: Pick<PromotionStatus, 'approvals' | 'rejections'>,
  env: Pick<EnvironmentPolicy, 'approvers' | 'allowSelfApproval'>,
  requestedBy: string,
): string[] {
  const requester = normalizePersonName(requestedBy);
  const decided = new Set([...status.approvals, ...status.rejections].map((d) => d.approver));
  return env.approvers
    .map(normalizePersonName)
    .filter((a) => !decided.has(a) && (env.allowSelfApproval || a !== requester));
}

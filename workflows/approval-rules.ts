/**
 * Who may approve or reject a run, and when a decision is reached. Pure functions of the environment's policy
 * (from the worker's configuration, never from the request), the run's current state and the payload: each
 * returns accepted, or refused with the reason the caller and the history see. No workflow APIs here, so the
 * rules are tested without a server.
 */
import type { EnvironmentPolicy } from '../contracts/activity-types';
import {
  approveSignalPayloadSchema,
  formatZodError,
  rejectSignalPayloadSchema,
  type ApprovePayload,
  type DecisionRecord,
  type Phase,
  type RejectPayload,
} from '../contracts/types';

/** What the rules look at in a run. */
export interface ApprovalState {
  phase: Phase;
  /** Undefined until the environment has been resolved. */
  policy: EnvironmentPolicy | undefined;
  requestedBy: string;
  environment: string;
  planHash?: string;
  approvals: readonly DecisionRecord[];
  rejections: readonly DecisionRecord[];
}

export type Verdict<P> =
  | { accepted: true; payload: P }
  /** `approver` is who the payload claims to be, or "(unknown)" when it names nobody. */
  | { accepted: false; approver: string; reason: string };

function claimedApprover(raw: unknown): string {
  const approver = (raw as { approver?: unknown } | null | undefined)?.approver;
  return typeof approver === 'string' ? approver : '(unknown)';
}

const refused = (approver: string, reason: string) => ({ accepted: false as const, approver, reason });

export function judgeApproval(state: ApprovalState, raw: unknown): Verdict<ApprovePayload> {
  const parsed = approveSignalPayloadSchema.safeParse(raw);
  if (!parsed.success)
    return refused(claimedApprover(raw), `invalid approve payload: ${formatZodError(parsed.error)}`);
  const p = parsed.data;
  if (state.phase !== 'awaiting_approval')
    return refused(p.approver, `not awaiting approval (phase is ${state.phase})`);
  const policy = state.policy;
  if (!policy) return refused(p.approver, 'environment policy not loaded');
  if (!policy.approvers.includes(p.approver))
    return refused(p.approver, `${p.approver} is not an approver for ${policy.environment}`);
  if (!policy.allowSelfApproval && p.approver === state.requestedBy)
    return refused(p.approver, 'the requester cannot approve their own promotion');
  if (p.planHash !== undefined && p.planHash !== state.planHash)
    return refused(p.approver, `stale plan: approved ${p.planHash} but the plan is ${state.planHash}`);
  if (state.approvals.some((a) => a.approver === p.approver))
    return refused(p.approver, `${p.approver} has already approved`);
  return { accepted: true, payload: p };
}

export function judgeRejection(state: ApprovalState, raw: unknown): Verdict<RejectPayload> {
  const parsed = rejectSignalPayloadSchema.safeParse(raw);
  if (!parsed.success)
    return refused(claimedApprover(raw), `invalid reject payload: ${formatZodError(parsed.error)}`);
  const p = parsed.data;
  if (state.phase !== 'awaiting_approval')
    return refused(p.approver, `not awaiting approval (phase is ${state.phase})`);
  // The requester may withdraw; otherwise only configured approvers decide.
  const policy = state.policy;
  if (!policy || (!policy.approvers.includes(p.approver) && p.approver !== state.requestedBy))
    return refused(p.approver, `${p.approver} may not reject in ${state.environment}`);
  return { accepted: true, payload: p };
}

export type ApprovalDecision = 'pending' | 'approved' | 'rejected';

/** One rejection ends the wait; otherwise the quorum of distinct approvals does. */
export function approvalDecision(
  state: Pick<ApprovalState, 'approvals' | 'rejections'>,
  requiredApprovals: number,
): ApprovalDecision {
  if (state.rejections.length > 0) return 'rejected';
  if (state.approvals.length >= requiredApprovals) return 'approved';
  return 'pending';
}

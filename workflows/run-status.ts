/**
 * The run's status as the `status` query shows it, and the result it ends with: phases with their timings,
 * decisions, refusals. Plain data changes; times come in as arguments (the workflow passes its clock).
 */
import {
  MAX_REFUSED_KEPT,
  type Outcome,
  type Phase,
  type PromotionResult,
  type PromotionStatus,
  type RefusalReason,
  type WorkflowKind,
} from '../contracts/types';

export interface RunRequest {
  kind: WorkflowKind;
  environment: string;
  ref: string;
  requestedBy: string;
  reason?: string;
  /** A rollback without a commit: it targets the environment's last known good, known once the run holds it. */
  toLastKnownGood?: boolean;
  /** Signed environments: the requester's signed statement (signed-statement.ts). */
  signature?: string;
  signedAt?: string;
  /** Promotions from another environment: its last known good commit is promoted (`ref` shows "from:<it>"). */
  from?: string;
  /** Passes the lineage gate or a quarantine, with a reason that is recorded. */
  override?: { reason: string };
  /** Automatic rollbacks: the promotion whose smoke tests failed (it is this run's parent). */
  triggeredBy?: { workflowId: string; runId: string };
}

export function newStatus(input: RunRequest): PromotionStatus {
  return {
    kind: input.kind,
    phase: 'preparing',
    environment: input.environment,
    ref: input.ref,
    requestedBy: input.requestedBy,
    reason: input.reason,
    ...(input.from ? { from: input.from } : {}),
    ...(input.triggeredBy ? { triggeredBy: { ...input.triggeredBy } } : {}),
    requiredApprovals: 1,
    approvals: [],
    rejections: [],
    refusedApprovals: [],
    timings: [],
    smokeResults: [],
  };
}

/** Closes the open step's timing and opens one for `phase` ('done' opens none). */
export function enterPhase(status: PromotionStatus, phase: Phase, nowMs: number): void {
  const open = status.timings[status.timings.length - 1];
  if (open && open.endedAt === undefined) {
    open.endedAt = new Date(nowMs).toISOString();
    open.durationMs = nowMs - Date.parse(open.startedAt);
  }
  status.phase = phase;
  if (phase !== 'done') status.timings.push({ step: phase, startedAt: new Date(nowMs).toISOString() });
}

/**
 * Records a refused signal so the history and the status show it, within bounds: whatever callers send, the
 * status keeps the last MAX_REFUSED_KEPT refusals with short fields, plus counts by reason.
 */
export function recordRefusal(
  status: PromotionStatus,
  refusal: { approver: string; why: string; reason: RefusalReason },
  at: string,
): void {
  status.refusedApprovals.push({
    approver: refusal.approver.slice(0, 100),
    at,
    why: refusal.why.slice(0, 300),
    reason: refusal.reason,
  });
  if (status.refusedApprovals.length > MAX_REFUSED_KEPT) status.refusedApprovals.shift();
  status.refusedCount = (status.refusedCount ?? 0) + 1;
  const counts = (status.refusedByReason ??= {});
  counts[refusal.reason] = (counts[refusal.reason] ?? 0) + 1;
}

export function toResult(
  status: PromotionStatus,
  input: RunRequest,
  outcome: Outcome,
  alertsSent: number,
): PromotionResult {
  return {
    outcome,
    kind: input.kind,
    environment: input.environment,
    ref: input.ref,
    commit: status.commit,
    ...(status.toolkitVersion !== undefined ? { toolkitVersion: status.toolkitVersion } : {}),
    planHash: status.planHash,
    planSummary: status.planSummary,
    approvals: status.approvals,
    rejections: status.rejections,
    refusedApprovals: status.refusedApprovals,
    ...(status.refusedCount !== undefined
      ? { refusedCount: status.refusedCount, refusedByReason: status.refusedByReason }
      : {}),
    ...(status.cancelledBy ? { cancelledBy: status.cancelledBy } : {}),
    ...(status.requestSigned ? { requestSigned: status.requestSigned } : {}),
    ...(status.commitAuthors ? { commitAuthors: status.commitAuthors } : {}),
    ...(status.planChanges ? { planChanges: status.planChanges } : {}),
    ...(status.from ? { from: status.from } : {}),
    ...(status.overrides ? { overrides: status.overrides } : {}),
    ...(status.triggeredBy ? { triggeredBy: status.triggeredBy } : {}),
    ...(status.rollback ? { rollback: status.rollback } : {}),
    smokeResults: status.smokeResults,
    leftovers: status.leftovers,
    failure: status.failure,
    alertsSent,
    ...(status.alertFailure ? { alertFailure: status.alertFailure } : {}),
    timings: status.timings,
  };
}

/** Outcomes after which operators must hear about it. */
export const ALERTING_OUTCOMES: ReadonlySet<Outcome> = new Set([
  'diff_failed',
  'apply_failed',
  'smoke_failed',
]);

/** Once the apply has started CDF may be half-deployed, so a cancellation then is alerted too. */
export function cancellationTouchedCdf(phase: Phase): boolean {
  return phase === 'applying' || phase === 'smoke_testing';
}

/**
 * The run's status as the `status` query shows it, and the result it ends with: phases with their timings,
 * decisions, refusals. Plain data changes; times come in as arguments (the workflow passes its clock).
 */
import type { Outcome, Phase, PromotionResult, PromotionStatus, WorkflowKind } from '../contracts/types';

export interface RunRequest {
  kind: WorkflowKind;
  environment: string;
  ref: string;
  requestedBy: string;
  reason?: string;
}

export function newStatus(input: RunRequest): PromotionStatus {
  return {
    kind: input.kind,
    phase: 'preparing',
    environment: input.environment,
    ref: input.ref,
    requestedBy: input.requestedBy,
    reason: input.reason,
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

export function recordRefusal(status: PromotionStatus, approver: string, why: string, at: string): void {
  status.refusedApprovals.push({ approver, at, why });
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

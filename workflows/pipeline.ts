/**
 * The playbook as one durable pipeline: prepare -> diff -> approval -> apply -> smoke -> alert.
 * Promotion and rollback differ only in how the commit is chosen and whether approval may be skipped.
 *
 * Determinism: no I/O here; time comes from the workflow clock (Date is replay-safe inside the sandbox).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createActivities } from '../activities';
import type { EnvironmentPolicy } from '../contracts/activity-types';
import { ErrorType } from '../contracts/errors';
import { approveSignal, rejectSignal, statusQuery } from '../contracts/messages';
import {
  commitSearchAttribute,
  environmentSearchAttribute,
  phaseSearchAttribute,
} from '../contracts/search-attributes';
import {
  approveSignalPayloadSchema,
  formatZodError,
  rejectSignalPayloadSchema,
  type Outcome,
  type Phase,
  type PromotionResult,
  type PromotionStatus,
  type WorkflowKind,
} from '../contracts/types';
import { alertActivity, applyActivity, diffActivity, quickActivity, smokeActivity } from './activity-options';

type Activities = ReturnType<typeof createActivities>;

const quick = proxyActivities<Activities>(quickActivity);
const diffing = proxyActivities<Activities>(diffActivity);
const applying = proxyActivities<Activities>(applyActivity);
const smoke = proxyActivities<Activities>(smokeActivity);
const alerts = proxyActivities<Activities>(alertActivity);

export interface PipelineInput {
  kind: WorkflowKind;
  environment: string;
  ref: string;
  requestedBy: string;
  reason?: string;
}

/** Outcomes after which operators must hear about it. */
const ALERTING_OUTCOMES: ReadonlySet<Outcome> = new Set(['diff_failed', 'apply_failed', 'smoke_failed']);

export async function runPipeline(input: PipelineInput): Promise<PromotionResult> {
  const info = workflowInfo();
  const status: PromotionStatus = {
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
  let policy: EnvironmentPolicy | undefined;
  let alertsSent = 0;

  setHandler(statusQuery, () => status);

  const now = (): string => new Date(Date.now()).toISOString();
  const refuse = (approver: string, why: string): void => {
    status.refusedApprovals.push({ approver, at: now(), why });
    log.warn('approval signal refused', { approver, why });
  };

  // Signals are recorded even when refused: the history then shows every attempt and why it did not count.
  setHandler(approveSignal, (raw) => {
    const parsed = approveSignalPayloadSchema.safeParse(raw);
    const who =
      typeof (raw as { approver?: unknown })?.approver === 'string'
        ? (raw as { approver: string }).approver
        : '(unknown)';
    if (!parsed.success) return refuse(who, `invalid approve payload: ${formatZodError(parsed.error)}`);
    const p = parsed.data;
    if (status.phase !== 'awaiting_approval')
      return refuse(p.approver, `not awaiting approval (phase is ${status.phase})`);
    if (!policy) return refuse(p.approver, 'environment policy not loaded');
    if (!policy.approvers.includes(p.approver)) {
      return refuse(p.approver, `${p.approver} is not an approver for ${policy.environment}`);
    }
    if (!policy.allowSelfApproval && p.approver === input.requestedBy) {
      return refuse(p.approver, 'the requester cannot approve their own promotion');
    }
    if (p.planHash !== undefined && p.planHash !== status.planHash) {
      return refuse(p.approver, `stale plan: approved ${p.planHash} but the plan is ${status.planHash}`);
    }
    if (status.approvals.some((a) => a.approver === p.approver)) {
      return refuse(p.approver, `${p.approver} has already approved`);
    }
    status.approvals.push({ approver: p.approver, at: now(), comment: p.comment });
    log.info('approval recorded', { approver: p.approver });
  });

  setHandler(rejectSignal, (raw) => {
    const parsed = rejectSignalPayloadSchema.safeParse(raw);
    const who =
      typeof (raw as { approver?: unknown })?.approver === 'string'
        ? (raw as { approver: string }).approver
        : '(unknown)';
    if (!parsed.success) return refuse(who, `invalid reject payload: ${formatZodError(parsed.error)}`);
    const p = parsed.data;
    if (status.phase !== 'awaiting_approval')
      return refuse(p.approver, `not awaiting approval (phase is ${status.phase})`);
    // The requester may withdraw; otherwise only configured approvers decide.
    if (!policy || (!policy.approvers.includes(p.approver) && p.approver !== input.requestedBy)) {
      return refuse(p.approver, `${p.approver} may not reject in ${input.environment}`);
    }
    status.rejections.push({ approver: p.approver, at: now(), reason: p.reason });
    log.info('rejection recorded', { approver: p.approver });
  });

  const enter = async (phase: Phase): Promise<void> => {
    const at = Date.now();
    const open = status.timings[status.timings.length - 1];
    if (open && open.endedAt === undefined) {
      open.endedAt = new Date(at).toISOString();
      open.durationMs = at - Date.parse(open.startedAt);
    }
    status.phase = phase;
    if (phase !== 'done') status.timings.push({ step: phase, startedAt: new Date(at).toISOString() });
    upsertSearchAttributes([{ key: phaseSearchAttribute, value: phase }]);
  };

  const finish = async (outcome: Outcome, failure?: string, alsoAlert = false): Promise<PromotionResult> => {
    status.outcome = outcome;
    if (failure) status.failure = failure;
    // Alerts and cleanup must happen even if the workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (ALERTING_OUTCOMES.has(outcome) || alsoAlert) {
        await enter('alerting');
        try {
          const delivery = await alerts.sendAlert({
            kind: input.kind,
            environment: input.environment,
            outcome,
            workflowId: info.workflowId,
            runId: info.runId,
            ref: input.ref,
            commit: status.commit,
            planHash: status.planHash,
            requestedBy: input.requestedBy,
            failure: failure ?? outcome,
            failedChecks: status.smokeResults.filter((r) => !r.passed),
          });
          alertsSent = delivery.delivered.length;
        } catch (err) {
          status.alertFailure = describeFailure(err);
          log.error('alert delivery failed for good', { error: status.alertFailure });
        }
      }
      try {
        await quick.cleanupRun({ run: { workflowId: info.workflowId, runId: info.runId } });
      } catch (err) {
        log.warn('cleanup failed; the run folder stays on disk', { error: String(err) });
      }
      await enter('done');
      // Inside the non-cancellable scope: after a cancellation, a new wait in the root scope would throw at once.
      await condition(allHandlersFinished);
    });
    return {
      outcome,
      kind: input.kind,
      environment: input.environment,
      ref: input.ref,
      commit: status.commit,
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
  };

  try {
    await enter('preparing');
    upsertSearchAttributes([{ key: environmentSearchAttribute, value: input.environment }]);
    // An unknown environment or a ref that does not exist is bad input: fail typed, before any side effect.
    policy = await asInvalidInput(
      quick.resolveEnvironment({ environment: input.environment, kind: input.kind }),
      ErrorType.UnknownEnvironment,
    );
    status.requiredApprovals = policy.requiredApprovals;

    let checkout;
    try {
      checkout = await asInvalidInput(
        quick.prepareCheckout({
          run: { workflowId: info.workflowId, runId: info.runId },
          ref: input.ref,
          kind: input.kind,
        }),
        ErrorType.GitRefNotFound,
      );
    } catch (err) {
      if (isCancellation(err) || err instanceof ApplicationFailure) throw err;
      // Git or repository trouble that retries did not fix: an outcome with an alert, not a failed workflow.
      return await finish('diff_failed', `could not check out ${input.ref}: ${describeFailure(err)}`);
    }
    status.commit = checkout.commit;
    upsertSearchAttributes([{ key: commitSearchAttribute, value: checkout.commit }]);

    await enter('diffing');
    let diff;
    try {
      diff = await diffing.buildAndDiff({
        run: { workflowId: info.workflowId, runId: info.runId },
        environment: input.environment,
        commit: checkout.commit,
        kind: input.kind,
        removeLeftovers: policy.removeLeftovers,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return await finish('diff_failed', describeFailure(err));
    }
    status.planHash = diff.planHash;
    status.planSummary = diff.planSummary;
    if (diff.planSummary.leftovers) status.leftovers = { ...diff.planSummary.leftovers };
    if (diff.planSummary.empty) return await finish('no_changes');

    if (policy.approvalRequired) {
      await enter('awaiting_approval');
      status.approvalDeadline = new Date(Date.now() + policy.approvalTimeoutMs).toISOString();
      const required = policy.requiredApprovals;
      const decided = await condition(
        () => status.rejections.length > 0 || status.approvals.length >= required,
        policy.approvalTimeoutMs,
      );
      if (!decided) return await finish('expired', `no decision within ${policy.approvalTimeoutMs} ms`);
      if (status.rejections.length > 0) {
        const r = status.rejections[0]!;
        return await finish('rejected', `rejected by ${r.approver}${r.reason ? `: ${r.reason}` : ''}`);
      }
    }

    await enter('applying');
    try {
      await applying.applyPlan({
        run: { workflowId: info.workflowId, runId: info.runId },
        environment: input.environment,
        commit: checkout.commit,
        planHash: diff.planHash,
        kind: input.kind,
        leftovers: status.leftovers?.resources,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return await finish('apply_failed', describeFailure(err));
    }

    if (status.leftovers) {
      if (status.leftovers.action === 'remove' && (status.leftovers.existing ?? 1) > 0) {
        try {
          status.leftovers = await applying.removeLeftovers({
            run: { workflowId: info.workflowId, runId: info.runId },
            environment: input.environment,
            commit: checkout.commit,
            leftovers: status.leftovers,
          });
        } catch (err) {
          if (isCancellation(err)) throw err;
          status.leftovers = { ...status.leftovers, result: 'remove_failed', detail: describeFailure(err) };
          return await finish(
            'apply_failed',
            `rollback applied, but removing leftovers failed: ${describeFailure(err)}`,
          );
        }
      } else {
        status.leftovers = { ...status.leftovers, result: 'left' };
      }
    }

    await enter('smoke_testing');
    try {
      status.smokeResults = await smoke.runSmokeChecks({ environment: input.environment });
    } catch (err) {
      if (isCancellation(err)) throw err;
      return await finish('smoke_failed', `smoke checks could not run: ${describeFailure(err)}`);
    }
    const failed = status.smokeResults.filter((r) => !r.passed);
    if (failed.length > 0) {
      return await finish(
        'smoke_failed',
        `failed smoke checks: ${failed.map((f) => `${f.name} (${f.detail})`).join('; ')}`,
      );
    }
    return await finish('succeeded');
  } catch (err) {
    if (isCancellation(err)) {
      // Once the apply has started CDF may be half-deployed: operators must hear about it.
      const touchedCdf = status.phase === 'applying' || status.phase === 'smoke_testing';
      return await finish('cancelled', `cancelled during ${status.phase}`, touchedCdf);
    }
    throw err;
  }
}

/** The most specific message in a failure chain: activity failures wrap the error the activity threw. */
function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    const type = err.cause.type ? `${err.cause.type}: ` : '';
    return `${type}${err.cause.message}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

async function asInvalidInput<T>(call: Promise<T>, type: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (
      err instanceof ActivityFailure &&
      err.cause instanceof ApplicationFailure &&
      err.cause.type === type
    ) {
      throw invalidInput(err.cause.message);
    }
    throw err;
  }
}

/** Turns an input validation error into the failure the issue asks for: typed and not retried. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.InvalidInput,
    message: `invalid input: ${message}`,
    nonRetryable: true,
  });
}

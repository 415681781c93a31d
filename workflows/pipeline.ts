/**
 * The playbook as one durable pipeline: prepare -> diff -> approval -> apply -> smoke tests -> alert or finish.
 * Promotion and rollback differ only in how the commit is chosen and whether approval may be skipped.
 *
 * The decisions live in their own modules: approval-rules.ts (who may decide, when it is decided),
 * decision-handlers.ts (the updates, signals and query that carry them) and run-status.ts (phases, timings, the
 * result). This file only sequences the steps.
 * Determinism: no I/O here; time comes from the workflow clock (Date is replay-safe inside the sandbox).
 */
import {
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  setCurrentDetails,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  DiffResult,
  EnvironmentPolicy,
  NoticeRequest,
  PromotionActivities,
  RunRef,
} from '../contracts/activity-types';
import {
  AUTOMATIC_REQUESTER,
  environmentGrantedSignal,
  environmentUnfrozenSignal,
  environmentWorkflowId,
  releaseSignal,
  rollbackQueuedSignal,
  supersededSignal,
  type Grant,
  type LedgerRecord,
} from '../contracts/environment-entity';
import { ErrorType, describeFailure, invalidInput } from '../contracts/errors';
import { MESSAGE_DESCRIPTIONS, ROLLBACK_WORKFLOW_TYPE } from '../contracts/messages';
import { proveSigned, renderStatement } from '../contracts/signed-statement';
import {
  commitSearchAttribute,
  environmentSearchAttribute,
  outcomeSearchAttribute,
  phaseSearchAttribute,
} from '../contracts/search-attributes';
import type { ApplyWait, NameRules, Outcome, Phase, PromotionResult } from '../contracts/types';
import {
  alertActivity,
  applyActivity,
  diffActivity,
  noticeActivity,
  quickActivity,
  smokeActivity,
} from './activity-options';
import { approvalDecision, missingGroupApprovals, stillToDecide, type ApprovalState } from './approval-rules';
import { renderCurrentDetails } from './current-details';
import { checkRequest, closedGates, lineageUpstream, rollbackTargetRefusal } from './promotion-gates';
import { registerDecisionHandlers } from './decision-handlers';
import { recordRunEnded, recordRunFailed } from './run-metrics';
import {
  ALERTING_OUTCOMES,
  cancellationTouchedCdf,
  enterPhase,
  newStatus,
  toResult,
  type RunRequest,
} from './run-status';

const quick = proxyActivities<PromotionActivities>(quickActivity);
const diffing = proxyActivities<PromotionActivities>(diffActivity);
const applying = proxyActivities<PromotionActivities>(applyActivity);
const smoke = proxyActivities<PromotionActivities>(smokeActivity);
const alerts = proxyActivities<PromotionActivities>(alertActivity);
const notices = proxyActivities<PromotionActivities>(noticeActivity);

export type PipelineInput = RunRequest;

/** After this many changed plans the run fails instead of asking again (CDF keeps changing under it). */
const MAX_REAPPROVALS = 3;

/** An activity's one-line summary in the Temporal UI's timeline (at most 200 bytes). */
const summarized = (options: ActivityOptions, summary: string): ActivityOptions => ({
  ...options,
  summary: summary.slice(0, 200),
});

/** How long a failed promotion waits for its automatic rollback to join the queue before releasing anyway. */
const ROLLBACK_QUEUE_WAIT_MS = 2 * 60_000;

/** The type of the application failure an activity failed with. */
function failureType(err: unknown): string | undefined {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure
    ? (err.cause.type ?? undefined)
    : undefined;
}

/** Thrown by a step that ends the run early with an outcome; the pipeline turns it into the result. */
class RunEnded {
  constructor(
    readonly outcome: Outcome,
    readonly failure?: string,
  ) {}
}

export async function runPipeline(
  input: PipelineInput,
  names: NameRules = 'normalized',
): Promise<PromotionResult> {
  const info = workflowInfo();
  const run: RunRef = { workflowId: info.workflowId, runId: info.runId };
  const status = newStatus(input);
  let policy: EnvironmentPolicy | undefined;
  let alertsSent = 0;

  // ---- messages --------------------------------------------------------------------------------------------
  // The run is cancelled from within (the cancel update) by cancelling the scope the steps run in.
  const steps = new CancellationScope();
  // Runs recorded before signed identities replay without the rules that came with them.
  const strictCancel = patched('signed-identity');
  // Runs recorded before environment entities neither ask for the environment nor release it.
  const entity = patched('environment-entity');
  /** The environment, once the entity has granted it; `holding` once the run has asked (granted or queued). */
  let grant: Grant | undefined;
  let holding = false;
  let applied = false;
  // Runs recorded before promotion paths (from, gates, freezes, automatic rollbacks) replay without them.
  const paths = entity && patched('promotion-paths');
  let unfrozen = false;
  let rollbackQueued = false;
  if (paths) {
    setHandler(
      environmentUnfrozenSignal,
      () => {
        unfrozen = true;
      },
      { description: MESSAGE_DESCRIPTIONS.environmentUnfrozen },
    );
    setHandler(
      rollbackQueuedSignal,
      (r) => {
        if (status.rollback?.workflowId === r.workflowId) rollbackQueued = true;
      },
      { description: MESSAGE_DESCRIPTIONS.rollbackQueued },
    );
  }
  if (entity) {
    setHandler(
      environmentGrantedSignal,
      (g) => {
        grant = g;
      },
      { description: MESSAGE_DESCRIPTIONS.environmentGranted },
    );
    // A newer run took the environment while this one waited for approval (whenBusy: supersede).
    setHandler(
      supersededSignal,
      ({ by }) => {
        if (status.supersededBy || status.outcome) return;
        status.supersededBy = by;
        steps.cancel();
      },
      { description: MESSAGE_DESCRIPTIONS.superseded },
    );
  }
  /** The Temporal UI's "current details": rendered again whenever the status changes. */
  const refreshDetails = (): void => {
    setCurrentDetails(
      renderCurrentDetails(status, {
        workflowId: info.workflowId,
        policy,
        waitingFor: policy ? stillToDecide(status, policy, input.requestedBy) : [],
      }),
    );
  };
  registerDecisionHandlers({
    status,
    steps,
    onChange: refreshDetails,
    state: (): ApprovalState => ({
      names,
      cancelled: status.cancelledBy !== undefined,
      phase: status.phase,
      policy,
      requestedBy: input.requestedBy,
      environment: input.environment,
      planHash: status.planHash,
      approvals: status.approvals,
      rejections: status.rejections,
      workflowId: info.workflowId,
      runId: info.runId,
      commit: status.commit,
      now: Date.now(),
      commitAuthors: status.commitAuthors?.people,
      strictCancel,
    }),
  });

  const enter = (phase: Phase): void => {
    enterPhase(status, phase, Date.now());
    upsertSearchAttributes([{ key: phaseSearchAttribute, value: phase }]);
    refreshDetails();
  };

  // ---- the playbook's steps --------------------------------------------------------------------------------

  /** Resolve the environment and pin the ref to a commit; bad input fails typed, before any side effect. */
  const prepare = async (): Promise<string> => {
    enter('preparing');
    upsertSearchAttributes([{ key: environmentSearchAttribute, value: input.environment }]);
    policy = await asInvalidInput(
      quick.resolveEnvironment({ environment: input.environment, kind: input.kind }),
      ErrorType.UnknownEnvironment,
    );
    status.requiredApprovals = policy.requiredApprovals;
    if (paths) policy = checkRequestAllowed(policy);
    // An automatic rollback was checked by its parent (checkRequest proves the parent); it has no person to sign.
    if (policy.identity === 'signed' && !input.triggeredBy) verifyRequest(policy);
    if (entity) await holdEnvironment(policy);
    let ref = input.ref;
    if (input.toLastKnownGood) {
      const good = grant?.lastKnownGood;
      if (!good)
        throw invalidInput(
          `${input.environment} has no last known good commit yet (no run has passed its smoke tests there): give the commit to roll back to`,
        );
      ref = good.commit;
    }
    if (input.from) {
      const good = await quick.lastKnownGood({ environment: input.from });
      if (!good)
        throw invalidInput(
          `${input.from} has no last known good commit yet (no run has passed its smoke tests there): nothing to promote from it`,
        );
      ref = good.commit;
    }
    // A rollback to a commit the user names must be one deployed here before, or on the allowed branch.
    const explicitRollback =
      paths && input.kind === 'rollback' && !input.toLastKnownGood && !input.triggeredBy;
    const onBranch = explicitRollback ? policy.rollbackBranch : undefined;
    let commit: string;
    let isOnBranch: boolean | undefined;
    try {
      ({ commit, onBranch: isOnBranch } = await asInvalidInput(
        quick.prepareCheckout.executeWithOptions(
          summarized(quickActivity, `git: pin ${ref} to a commit and check it out`),
          [{ run, ref, kind: input.kind, ...(onBranch ? { onBranch } : {}) }],
        ),
        ErrorType.GitRefNotFound,
      ));
    } catch (err) {
      if (isCancellation(err) || err instanceof ApplicationFailure) throw err;
      // Git or repository trouble that retries did not fix: an outcome with an alert, not a failed workflow.
      throw new RunEnded('diff_failed', `could not check out ${input.ref}: ${describeFailure(err)}`);
    }
    status.commit = commit;
    upsertSearchAttributes([{ key: commitSearchAttribute, value: commit }]);
    if (paths) await checkGates(commit, policy, explicitRollback, isOnBranch === true);
    if (policy.excludeCommitAuthors && policy.approvalRequired) {
      status.commitAuthors = await quick.findCommitAuthors({ run, environment: input.environment, commit });
    }
    return commit;
  };

  /** A request the configuration refuses fails as invalid input; otherwise it gives the policy the run follows. */
  const checkRequestAllowed = (env: EnvironmentPolicy): EnvironmentPolicy => {
    const checked = checkRequest(input, env, info.parent);
    if ('refused' in checked) throw invalidInput(checked.refused);
    return checked.policy;
  };

  /**
   * The ledgers decide what may reach the environment: a rollback's commit must have been deployed here before
   * (or be on the allowed branch); a promotion's commit that is quarantined or never passed upstream needs an
   * override, which is recorded with what it passed.
   */
  const checkGates = async (
    commit: string,
    env: EnvironmentPolicy,
    explicitRollback: boolean,
    onBranch: boolean,
  ): Promise<void> => {
    if (explicitRollback) {
      if (onBranch) return;
      const here = await quick.commitFacts({ environment: input.environment, commit });
      const refused = rollbackTargetRefusal(input.environment, env, here);
      if (refused) throw invalidInput(refused);
      return;
    }
    if (input.kind !== 'promotion') return;
    const here = await quick.commitFacts({ environment: input.environment, commit });
    const from = lineageUpstream(env);
    const upstream = from ? await quick.commitFacts({ environment: from, commit }) : undefined;
    for (const { gate, detail } of closedGates(input.environment, env, here, upstream)) {
      if (!input.override)
        throw invalidInput(
          `${detail}; to go ahead anyway, give override.reason (recorded and shown to approvers)`,
        );
      (status.overrides ??= []).push({
        gate,
        detail,
        reason: input.override.reason,
        by: input.requestedBy,
        at: new Date(Date.now()).toISOString(),
      });
    }
  };

  /**
   * One change at a time: ask the environment's entity for the environment and, if another run holds it, wait
   * in its queue (or be refused, as the environment says).
   */
  const holdEnvironment = async (env: EnvironmentPolicy): Promise<void> => {
    let answer;
    try {
      answer = await quick.acquireEnvironment({
        environment: input.environment,
        claim: {
          workflowId: info.workflowId,
          runId: info.runId,
          kind: input.kind,
          ref: input.ref,
          requestedBy: input.requestedBy,
          ...(paths && status.requestSigned ? { signedRequest: true } : {}),
          // An automatic rollback waits at the front, behind the failed run that holds the environment.
          ...(input.triggeredBy
            ? { whenBusy: 'queue' as const, front: true }
            : { whenBusy: env.whenBusy ?? 'queue' }),
        },
      });
    } catch (err) {
      if (failureType(err) === ErrorType.InvalidInput) throw invalidInput(describeFailure(err));
      if (failureType(err) === ErrorType.EnvironmentBusy) {
        throw ApplicationFailure.create({
          type: ErrorType.EnvironmentBusy,
          message: describeFailure(err),
          nonRetryable: true,
        });
      }
      throw err;
    }
    holding = true;
    if (input.triggeredBy) {
      // The failed run releases the environment only once this rollback is first in line.
      try {
        await getExternalWorkflowHandle(input.triggeredBy.workflowId, input.triggeredBy.runId).signal(
          rollbackQueuedSignal,
          { workflowId: info.workflowId, runId: info.runId },
        );
      } catch (err) {
        log.warn('could not tell the failed run that its rollback is queued', {
          error: describeFailure(err),
        });
      }
    }
    if (answer.granted) {
      grant = answer.grant;
      return;
    }
    status.queue = { position: answer.position, holder: answer.holder?.workflowId };
    enter('queued');
    await condition(() => grant !== undefined);
    status.queue = undefined;
    enter('preparing');
  };

  /** Tells the entity the run is done with the environment, with its ledger record. Never fails the run. */
  const releaseEnvironment = async (outcome: LedgerRecord['outcome'], failure?: string): Promise<void> => {
    if (!holding) return;
    holding = false;
    const record: LedgerRecord = {
      workflowId: info.workflowId,
      runId: info.runId,
      kind: input.kind,
      ref: input.ref,
      ...(status.commit ? { commit: status.commit } : {}),
      ...(status.planHash ? { planHash: status.planHash } : {}),
      ...(status.toolkitVersion !== undefined ? { toolkitVersion: status.toolkitVersion } : {}),
      requestedBy: input.requestedBy,
      approvals: status.approvals.map((a) => a.approver),
      outcome,
      applied,
      startedAt: info.runStartTime.toISOString(),
      endedAt: new Date(Date.now()).toISOString(),
      ...(failure ? { failure: failure.slice(0, 500) } : {}),
      ...(input.from ? { from: input.from } : {}),
      ...(status.overrides ? { overrides: status.overrides } : {}),
      ...(status.triggeredBy ? { triggeredBy: status.triggeredBy } : {}),
      ...(status.rollback ? { rollback: status.rollback } : {}),
    };
    try {
      await getExternalWorkflowHandle(environmentWorkflowId(input.environment, info.taskQueue)).signal(
        releaseSignal,
        {
          workflowId: info.workflowId,
          runId: info.runId,
          record,
        },
      );
    } catch (err) {
      log.warn('could not release the environment; its entity will notice the run ended', {
        error: describeFailure(err),
      });
    }
  };

  /**
   * A signed environment takes requests only with the requester's signed statement, so the self-approval and
   * author rules compare a verified person. A missing or bad one is invalid input: the run fails before any
   * checkout.
   */
  const verifyRequest = (env: EnvironmentPolicy): void => {
    const statement = renderStatement({
      action: input.kind === 'promotion' ? 'promote' : 'rollback',
      environment: input.environment,
      workflowId: info.workflowId,
      ref: input.ref,
      person: input.requestedBy,
      time: input.signedAt ?? '',
    });
    const check = proveSigned({
      statement,
      payload: input,
      person: input.requestedBy,
      policy: env,
      now: info.runStartTime.getTime(),
    });
    if (!check.ok)
      throw invalidInput(
        `${input.environment} requires a signed request from ${input.requestedBy}: ${check.why}`,
      );
    status.requestSigned = check.proof;
  };

  /** Diff against the environment: build, dry-run, and store the plan the approver reads. */
  const diff = async (commit: string, env: EnvironmentPolicy): Promise<DiffResult> => {
    enter('diffing');
    let result: DiffResult;
    try {
      result = await diffing.buildAndDiff.executeWithOptions(
        summarized(
          diffActivity,
          `cdf build + cdf deploy --dry-run of ${commit.slice(0, 12)} against ${env.cdfProject}`,
        ),
        [
          {
            run,
            environment: input.environment,
            commit,
            kind: input.kind,
            removeLeftovers: env.removeLeftovers,
          },
        ],
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw new RunEnded('diff_failed', describeFailure(err));
    }
    status.planHash = result.planHash;
    if (result.toolkitVersion !== undefined) status.toolkitVersion = result.toolkitVersion;
    status.planSummary = result.planSummary;
    if (result.planSummary.leftovers) status.leftovers = { ...result.planSummary.leftovers };
    return result;
  };

  /** Tells the environment's channels a plan waits, without waiting for the delivery. */
  const notify = (notice: NoticeRequest['notice'], env: EnvironmentPolicy, plan: DiffResult): void => {
    notices
      .sendNotice({
        notice,
        kind: input.kind,
        environment: input.environment,
        workflowId: info.workflowId,
        runId: info.runId,
        ref: input.ref,
        commit: status.commit,
        planHash: plan.planHash,
        planSummary: plan.planSummary,
        requestedBy: input.requestedBy,
        reason: input.reason,
        approvalDeadline: status.approvalDeadline ?? '',
        approvals: status.approvals.length,
        requiredApprovals: env.requiredApprovals,
        waitingFor: stillToDecide(status, env, input.requestedBy),
      })
      .catch((err: unknown) =>
        log.warn('approval notice not delivered', { notice, error: describeFailure(err) }),
      );
  };

  /** A person reviews the plan: wait for the approvals the environment requires, a rejection, or expiry. */
  const awaitApproval = async (env: EnvironmentPolicy, plan: DiffResult): Promise<void> => {
    enter('awaiting_approval');
    const deadline = Date.now() + env.approvalTimeoutMs;
    status.approvalDeadline = new Date(deadline).toISOString();
    if (env.requiredFromGroups) status.approvalsMissingFrom = missingGroupApprovals(status, env);
    const isDecided = () => approvalDecision(status, env.requiredApprovals, env) !== 'pending';
    let decided: boolean;
    // Runs recorded before notices existed replay without them.
    if (patched('approval-notices')) {
      notify('needs_approval', env, plan);
      const every = env.remindEveryMs;
      for (;;) {
        const left = deadline - Date.now();
        decided = await condition(isDecided, every ? Math.min(every, left) : left);
        if (decided || !every || deadline - Date.now() <= 0) break;
        notify('reminder', env, plan);
      }
    } else {
      decided = await condition(isDecided, env.approvalTimeoutMs);
    }
    if (!decided) throw new RunEnded('expired', `no decision within ${env.approvalTimeoutMs} ms`);
    if (approvalDecision(status, env.requiredApprovals, env) === 'rejected') {
      const r = status.rejections[0]!;
      throw new RunEnded('rejected', `rejected by ${r.approver}${r.reason ? `: ${r.reason}` : ''}`);
    }
  };

  /** Approved runs wait for the environment's deployment window and the end of a freeze, then begin the apply. */
  const waitForApplyTurn = async (env: EnvironmentPolicy): Promise<void> => {
    const wait = async (w: ApplyWait, untilUnfrozen: boolean): Promise<void> => {
      status.waitingToApply = w;
      if (status.phase !== 'waiting_to_apply') enter('waiting_to_apply');
      unfrozen = false;
      const left = Math.max(Date.parse(w.until) - Date.now(), 1_000);
      if (untilUnfrozen) await condition(() => unfrozen, left);
      else await sleep(left);
    };
    for (;;) {
      if (env.hasDeployWindows && !env.throughFreeze) {
        const window = await quick.checkDeployWindow({ environment: input.environment });
        if (!window.open) {
          await wait({ why: window.why, until: window.opensAt }, false);
          continue;
        }
      }
      const begun = await quick.beginApply({
        environment: input.environment,
        run,
        ...(env.throughFreeze ? { throughFreeze: true } : {}),
      });
      if (begun?.frozen) {
        const f = begun.frozen;
        await wait({ why: `${input.environment} is frozen by ${f.by}: ${f.reason}`, until: f.until }, true);
        continue;
      }
      status.waitingToApply = undefined;
      return;
    }
  };

  /** Apply exactly the approved plan; for rollbacks, then deal with leftovers as the environment says. */
  const apply = async (commit: string, planHash: string, reapproveOnChange: boolean): Promise<boolean> => {
    if (entity) {
      // From here on no newer run can supersede this one.
      try {
        if (paths) await waitForApplyTurn(policy!);
        else await quick.beginApply({ environment: input.environment, run });
      } catch (err) {
        if (isCancellation(err)) throw err;
        if (failureType(err) === ErrorType.Superseded) throw new RunEnded('cancelled', describeFailure(err));
        throw new RunEnded(
          'apply_failed',
          `could not confirm the environment before the apply: ${describeFailure(err)}`,
        );
      }
      applied = true;
    }
    enter('applying');
    try {
      await applying.applyPlan.executeWithOptions(
        summarized(applyActivity, `cdf deploy of plan ${planHash.slice(0, 12)} to ${policy!.cdfProject}`),
        [
          {
            run,
            environment: input.environment,
            commit,
            planHash,
            ...(status.toolkitVersion !== undefined ? { toolkitVersion: status.toolkitVersion } : {}),
            kind: input.kind,
            leftovers: status.leftovers?.resources,
          },
        ],
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (reapproveOnChange && failureType(err) === ErrorType.PlanMismatch) {
        // Nothing was applied: the approvers decide again, on the plan as it is now.
        (status.planChanges ??= []).push({
          at: new Date(Date.now()).toISOString(),
          previousPlanHash: planHash,
          why: describeFailure(err),
        });
        log.warn('the plan changed before the apply; asking for approval again', {
          previousPlanHash: planHash,
        });
        return false;
      }
      throw new RunEnded('apply_failed', describeFailure(err));
    }
    if (!status.leftovers) return true;
    if (!(status.leftovers.action === 'remove' && (status.leftovers.existing ?? 1) > 0)) {
      status.leftovers = { ...status.leftovers, result: 'left' };
      return true;
    }
    try {
      status.leftovers = await applying.removeLeftovers({
        run,
        environment: input.environment,
        commit,
        leftovers: status.leftovers,
      });
    } catch (err) {
      if (isCancellation(err)) throw err;
      status.leftovers = { ...status.leftovers, result: 'remove_failed', detail: describeFailure(err) };
      throw new RunEnded(
        'apply_failed',
        `rollback applied, but removing leftovers failed: ${describeFailure(err)}`,
      );
    }
    return true;
  };

  /** Post-deploy smoke tests. */
  const smokeTest = async (): Promise<void> => {
    enter('smoke_testing');
    try {
      status.smokeResults = await smoke.runSmokeChecks.executeWithOptions(
        summarized(smokeActivity, `smoke checks (@cognite/sdk) on ${policy!.cdfProject}`),
        [{ environment: input.environment }],
      );
    } catch (err) {
      if (isCancellation(err)) throw err;
      throw new RunEnded('smoke_failed', `smoke checks could not run: ${describeFailure(err)}`);
    }
    const failed = status.smokeResults.filter((r) => !r.passed);
    if (failed.length > 0) {
      throw new RunEnded(
        'smoke_failed',
        `failed smoke checks: ${failed.map((f) => `${f.name} (${f.detail})`).join('; ')}`,
      );
    }
  };

  /**
   * rollback.automatic: after failed smoke tests, start a rollback to the last known good as a child that
   * outlives this run, and hold the environment until it waits at the front of the queue (or a while passed).
   */
  const startAutomaticRollback = async (): Promise<void> => {
    const mode = policy?.automaticRollback;
    if (!mode || mode === 'off') return;
    const good = grant?.lastKnownGood;
    if (!good || good.commit === status.commit) {
      log.warn('no automatic rollback: the environment has no other last known good commit', {
        lastKnownGood: good?.commit,
      });
      return;
    }
    const workflowId = `${info.workflowId}-rollback`;
    status.rollback = { workflowId };
    try {
      const child = await startChild(ROLLBACK_WORKFLOW_TYPE, {
        workflowId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            environment: input.environment,
            commit: good.commit,
            requestedBy: AUTOMATIC_REQUESTER,
            reason: `automatic rollback: the smoke tests of ${info.workflowId} failed (rollback.automatic: ${mode})`,
            triggeredBy: { workflowId: info.workflowId, runId: info.runId },
          },
        ],
      });
      status.rollback = { workflowId, runId: child.firstExecutionRunId };
      await condition(() => rollbackQueued, ROLLBACK_QUEUE_WAIT_MS);
    } catch (err) {
      status.rollback = undefined;
      log.error('could not start the automatic rollback', { error: describeFailure(err) });
    }
  };

  /** Alert the operators when the outcome calls for it, clean up, and return the result. */
  const finish = async (outcome: Outcome, failure?: string, alsoAlert = false): Promise<PromotionResult> => {
    status.outcome = outcome;
    if (failure) status.failure = failure;
    // Outcome and approval waits for Prometheus; not commands, and never recorded while replaying (run-metrics.ts).
    recordRunEnded(input, status.timings, outcome, policy !== undefined);
    // Runs recorded before the outcome was a search attribute replay without it.
    if (patched('outcome-search-attribute'))
      upsertSearchAttributes([{ key: outcomeSearchAttribute, value: outcome }]);
    // Alerts and cleanup must happen even if the workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      if (paths && outcome === 'smoke_failed' && applied && input.kind === 'promotion')
        await startAutomaticRollback();
      const cleanup = async (): Promise<void> => {
        try {
          await quick.cleanupRun({ run });
        } catch (err) {
          log.warn('cleanup failed; the run folder stays on disk', { error: String(err) });
        }
      };
      // The release, the alert and the cleanup do not wait for one another (runs recorded before this did them
      // one after the other): no step needs the run's folder any more, and the audit record waits only for the
      // alert it records.
      const together = patched('finish-concurrently');
      const cleaning = together ? cleanup() : undefined;
      // The smoke tests are over: the next run may have the environment while this one alerts and cleans up.
      const releasing = releaseEnvironment(outcome, failure);
      if (!together) await releasing;
      if (ALERTING_OUTCOMES.has(outcome) || alsoAlert) {
        enter('alerting');
        try {
          const delivery = await alerts.sendAlert.executeWithOptions(
            summarized(alertActivity, `alert ${input.environment}'s channels: ${outcome}`),
            [
              {
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
                ...(status.rollback ? { rollbackWorkflowId: status.rollback.workflowId } : {}),
                ...(status.triggeredBy ? { triggeredBy: status.triggeredBy.workflowId } : {}),
              },
            ],
          );
          alertsSent = delivery.delivered.length;
        } catch (err) {
          status.alertFailure = describeFailure(err);
          log.error('alert delivery failed for good', { error: status.alertFailure });
        }
      }
      // Runs recorded before audit records replay without them.
      if (patched('audit-record')) {
        try {
          await quick.storeAuditRecord({
            run,
            record: {
              kind: input.kind,
              environment: input.environment,
              ref: input.ref,
              requestedBy: input.requestedBy,
              ...(input.reason ? { reason: input.reason } : {}),
              startedAt: info.runStartTime.toISOString(),
              endedAt: new Date(Date.now()).toISOString(),
              result: toResult(status, input, outcome, alertsSent),
            },
          });
        } catch (err) {
          log.warn('the audit record could not be stored; the history still has everything', {
            error: describeFailure(err),
          });
        }
      }
      if (together) await Promise.all([releasing, cleaning]);
      else await cleanup();
      enter('done');
      // Inside the non-cancellable scope: after a cancellation, a new wait in the root scope would throw at once.
      await condition(allHandlersFinished);
    });
    return toResult(status, input, outcome, alertsSent);
  };

  // ---- the sequence ----------------------------------------------------------------------------------------
  return steps.run(async () => {
    try {
      const commit = await prepare();
      const env = policy!;
      let plan = await diff(commit, env);
      if (plan.planSummary.empty) return await finish('no_changes');
      // A plan that changes before the apply goes back to approval (runs recorded before this fail instead).
      const reapprove =
        env.approvalRequired && env.onPlanChange !== 'fail' && patched('reapprove-on-plan-change');
      for (let round = 1; ; round++) {
        if (env.approvalRequired) await awaitApproval(env, plan);
        if (await apply(commit, plan.planHash, reapprove && round <= MAX_REAPPROVALS)) break;
        status.approvals = [];
        status.rejections = [];
        plan = await diff(commit, env);
        if (plan.planSummary.empty) return await finish('no_changes');
      }
      await smokeTest();
      return await finish('succeeded');
    } catch (err) {
      if (err instanceof RunEnded) return await finish(err.outcome, err.failure);
      if (isCancellation(err)) {
        const c = status.cancelledBy;
        const by = status.supersededBy
          ? ` (superseded by ${status.supersededBy})`
          : c
            ? ` by ${c.approver}${c.reason ? `: ${c.reason}` : ''}`
            : '';
        return await finish(
          'cancelled',
          `cancelled during ${status.phase}${by}`,
          cancellationTouchedCdf(status.phase),
        );
      }
      // Failing for good (bad input found late, an unexpected error): the environment must not stay held.
      const refused =
        paths && err instanceof ApplicationFailure && err.type === ErrorType.InvalidInput
          ? 'refused'
          : 'abandoned';
      recordRunFailed(input, status.timings, err, policy !== undefined);
      await CancellationScope.nonCancellable(() => releaseEnvironment(refused, describeFailure(err)));
      throw err;
    }
  });
}

/** An activity failure of the given type means the request itself was bad: fail the run typed, not retried. */
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

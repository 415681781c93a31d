/**
 * One long-lived workflow per environment (id `environment-<name>`, started on demand by a run's update-with-
 * start): it lets one promotion or rollback at a time hold the environment, keeps the others in a queue whose
 * order is its state (so it survives restarts), and keeps the environment's ledger: what each run did, what CDF
 * runs now, and the last known good commit. Its decisions are the pure functions of environment-queue.ts.
 *
 * Runs release the environment themselves; a run that dies without doing so (terminated, timed out) is found by
 * a periodic check and released for it. History stays small: the entity continues as new with its state.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PromotionActivities, RunRef } from '../contracts/activity-types';
import {
  acquireUpdate,
  beginApplyUpdate,
  commitFactsQuery,
  environmentGrantedSignal,
  environmentStateQuery,
  environmentUnfrozenSignal,
  ENTITY_MESSAGE_DESCRIPTIONS as D,
  freezeUpdate,
  unfreezeUpdate,
  recordDeploymentUpdate,
  releaseSignal,
  supersededSignal,
  type EnvironmentWorkflowInput,
  type HolderInfo,
  type QueuedRun,
} from '../contracts/environment-entity';
import { ErrorType } from '../contracts/errors';
import { quickActivity } from './activity-options';
import {
  abandonedRecord,
  acquire,
  beginApply,
  commitFacts,
  freeze,
  freezeRefusal,
  grantOf,
  newEnvironmentState,
  recordDeployment,
  release,
  unfreeze,
  watchedRuns,
} from './environment-queue';

const quick = proxyActivities<PromotionActivities>(quickActivity);

const DEFAULT_CHECK_EVERY_MS = 60_000;
const DEFAULT_CONTINUE_AFTER_EVENTS = 2_000;
/** A holder with nobody queued behind it is checked this many times less often (every 10 minutes by default). */
const ALONE_CHECK_FACTOR = 10;

export async function environmentWorkflow(input: EnvironmentWorkflowInput): Promise<void> {
  // Entities recorded before this stop their dead-run timer only when it fires (see the wait below).
  const idleStopsTimer = patched('entity-idle-stops-timer');
  const state = input.state ?? newEnvironmentState(input.environment);
  const checkEvery = input.checkEveryMs ?? DEFAULT_CHECK_EVERY_MS;
  const continueAfter = input.continueAfterEvents ?? DEFAULT_CONTINUE_AFTER_EVENTS;
  const now = (): string => new Date(Date.now()).toISOString();
  /** Runs that have just become the holder and must be told; holders that must hear they were superseded. */
  const toGrant: QueuedRun[] = [];
  const toSupersede: Array<{ holder: HolderInfo; by: string }> = [];
  /** The holder to tell that a freeze was lifted (it may be waiting to apply). */
  let toUnfreeze: HolderInfo | undefined;

  // Validators decide on a copy: a refused update must leave no trace, not even in memory.
  const probe = (): typeof state => JSON.parse(JSON.stringify(state)) as typeof state;
  // A holder that died matters most to the runs queued behind it: with none queued the entity checks its holder
  // ten times less often. Each check is 2 workflow tasks and an activity, per parked run and interval: with
  // thousands of runs parked at approval, checks every minute kept a worker busy. Entities recorded before this
  // check every interval.
  const slowerWhileAlone = patched('entity-slower-check-while-alone');
  const refuse = (type: string, message: string): never => {
    throw ApplicationFailure.create({ type, message, nonRetryable: true });
  };

  setHandler(environmentStateQuery, () => state, { description: D.state });
  setHandler(
    acquireUpdate,
    (req) => {
      const outcome = acquire(state, req, now());
      if (!outcome.accepted)
        return refuse(outcome.invalid ? ErrorType.InvalidInput : ErrorType.EnvironmentBusy, outcome.reason);
      if (outcome.superseded) toSupersede.push({ holder: outcome.superseded, by: req.workflowId });
      log.info('environment requested', {
        run: req.workflowId,
        granted: outcome.result.granted,
        holder: state.holder?.workflowId,
        queued: state.queue.length,
      });
      return outcome.result;
    },
    {
      description: D.acquire,
      // A refusal (whenBusy: refuse) is answered before anything reaches history.
      validator: (req) => {
        if (typeof req?.workflowId !== 'string' || typeof req.runId !== 'string')
          refuse(ErrorType.InvalidInput, 'acquire needs workflowId and runId');
        const outcome = acquire(probe(), req, now());
        if (!outcome.accepted)
          refuse(outcome.invalid ? ErrorType.InvalidInput : ErrorType.EnvironmentBusy, outcome.reason);
      },
    },
  );
  setHandler(commitFactsQuery, (commit) => commitFacts(state, commit), { description: D.commit });
  setHandler(
    beginApplyUpdate,
    (run) => {
      const outcome = beginApply(state, run, now());
      if (!outcome.accepted) return refuse(ErrorType.Superseded, outcome.reason);
      return outcome.result;
    },
    {
      description: D.beginApply,
      validator: (run) => {
        const outcome = beginApply(probe(), run, now());
        if (!outcome.accepted) refuse(ErrorType.Superseded, outcome.reason);
      },
    },
  );
  setHandler(
    freezeUpdate,
    (req) => {
      const f = freeze(state, req, now());
      log.info('environment frozen', { by: f.by, until: f.until });
      return f;
    },
    {
      description: D.freeze,
      validator: (req) => {
        const why = freezeRefusal(req, now());
        if (why) refuse(ErrorType.InvalidInput, why);
      },
    },
  );
  setHandler(
    unfreezeUpdate,
    (req) => {
      const lifted = unfreeze(state, req, now());
      if (!lifted) return refuse(ErrorType.InvalidInput, `${state.environment} is not frozen`);
      log.info('environment unfrozen', { by: req.by });
      toUnfreeze = state.holder;
      return lifted;
    },
    {
      description: D.unfreeze,
      validator: (req) => {
        if (typeof req?.by !== 'string' || !req.by.trim() || req.by.length > 100)
          refuse(ErrorType.InvalidInput, 'unfreeze needs who (by)');
        if (!unfreeze(probe(), req, now()))
          refuse(ErrorType.InvalidInput, `${state.environment} is not frozen`);
      },
    },
  );
  setHandler(
    recordDeploymentUpdate,
    (deployment) => {
      recordDeployment(state, deployment);
      log.info('deployment recorded', { commit: deployment.commit, run: deployment.workflowId });
    },
    { description: D.recordDeployment },
  );
  setHandler(
    releaseSignal,
    (req) => {
      const next = release(state, req, req.record, now());
      if (next) toGrant.push(next);
      log.info('environment released', { run: req.workflowId, next: next?.workflowId });
    },
    { description: D.release },
  );

  // Once per entity: what a worker recorded on its own disk before environments were entities.
  if (!state.legacyImported) {
    try {
      const legacy = await quick.importLegacyLedger({ environment: state.environment });
      if (legacy.deployed && !state.deployed) state.deployed = legacy.deployed;
      state.ledger = [...legacy.records, ...state.ledger];
    } catch (err) {
      log.warn('could not import the JSONL ledger; continuing without it', { error: String(err) });
    }
    state.legacyImported = true;
  }

  const releaseDead = (runs: RunRef[]): void => {
    for (const run of runs) {
      const entry =
        state.holder?.workflowId === run.workflowId && state.holder.runId === run.runId
          ? state.holder
          : state.queue.find((q) => q.workflowId === run.workflowId && q.runId === run.runId);
      if (!entry) continue;
      const applied = (entry as Partial<HolderInfo>).applying === true;
      const next = release(state, run, abandonedRecord(entry, now(), applied), now());
      log.warn('a run ended without releasing the environment; released for it', { run: run.workflowId });
      if (next) toGrant.push(next);
    }
  };

  for (;;) {
    const busy = () => toGrant.length > 0 || toSupersede.length > 0 || toUnfreeze !== undefined;
    // While someone holds or waits, look for dead runs now and then; while nobody does, sleep until someone asks.
    // A holder alone is checked less often, until someone queues behind it.
    const alone = slowerWhileAlone && state.queue.length === 0;
    // Once nobody holds or waits, the timer is cancelled at once rather than left to fire with nothing to check.
    // A timer firing into a workflow task that sends no command let a worker handle it together with the next
    // update, on a stale cached copy of the entity, and send other commands than a replay does: a nondeterminism
    // error that stuck the environment (found by the crash harness; bench/findings/).
    const woken = watchedRuns(state).length
      ? await condition(
          () =>
            busy() ||
            (alone && state.queue.length > 0) ||
            (idleStopsTimer && watchedRuns(state).length === 0),
          alone ? checkEvery * ALONE_CHECK_FACTOR : checkEvery,
        )
      : (await condition(() => busy() || watchedRuns(state).length > 0), true);
    while (toSupersede.length) {
      const { holder, by } = toSupersede.shift()!;
      try {
        await getExternalWorkflowHandle(holder.workflowId, holder.runId).signal(supersededSignal, { by });
      } catch (err) {
        log.warn('could not tell a superseded run', { run: holder.workflowId, error: String(err) });
      }
    }
    if (toUnfreeze) {
      const holder = toUnfreeze;
      toUnfreeze = undefined;
      try {
        await getExternalWorkflowHandle(holder.workflowId, holder.runId).signal(environmentUnfrozenSignal);
      } catch (err) {
        log.warn('could not tell the holder the freeze was lifted', {
          run: holder.workflowId,
          error: String(err),
        });
      }
    }
    while (toGrant.length) {
      const run = toGrant.shift()!;
      if (state.holder?.workflowId !== run.workflowId || state.holder.runId !== run.runId) continue;
      try {
        await getExternalWorkflowHandle(run.workflowId, run.runId).signal(
          environmentGrantedSignal,
          grantOf(state),
        );
      } catch (err) {
        // The run is gone (cancelled or terminated while it waited): pass the environment on.
        log.warn('a granted run could not be told; releasing it', {
          run: run.workflowId,
          error: String(err),
        });
        releaseDead([run]);
      }
    }
    if (!woken && watchedRuns(state).length) {
      try {
        releaseDead(await quick.findClosedRuns({ runs: watchedRuns(state) }));
      } catch (err) {
        // The entity must outlive a bad minute of the server or the workers: look again at the next check.
        log.warn('could not check whether waiting runs are alive', { error: String(err) });
      }
    }
    if (workflowInfo().historyLength > continueAfter || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (!busy()) await continueAsNew<typeof environmentWorkflow>({ ...input, state });
    }
  }
}

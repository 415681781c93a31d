/**
 * The environment entity's decisions as pure functions of its state: who holds the environment, who waits in
 * which order, what a release, a deployment or a dead run changes, and what the ledger keeps. The entity
 * workflow (environment-workflow.ts) only applies them and sends the signals they call for.
 */
import {
  MAX_FREEZE_LOG,
  MAX_FREEZE_MS,
  MAX_LEDGER_RECORDS,
  MAX_QUEUED_RUNS,
  type AcquireRequest,
  type AcquireResult,
  type BeginApplyRequest,
  type BeginApplyResult,
  type CommitFacts,
  type Deployment,
  type Freeze,
  type FreezeLogEntry,
  type FreezeRequest,
  type UnfreezeRequest,
  type EnvironmentState,
  type Grant,
  type HolderInfo,
  type LedgerRecord,
  type QueuedRun,
} from '../contracts/environment-entity';

export function newEnvironmentState(environment: string): EnvironmentState {
  return { environment, queue: [], ledger: [], droppedRecords: 0 };
}

const same = (a: { workflowId: string; runId: string }, b: { workflowId: string; runId: string }) =>
  a.workflowId === b.workflowId && a.runId === b.runId;

export function grantOf(state: EnvironmentState): Grant {
  return {
    environment: state.environment,
    ...(state.deployed ? { deployed: state.deployed } : {}),
    ...(state.lastKnownGood ? { lastKnownGood: state.lastKnownGood } : {}),
  };
}

const describeHolder = (h: HolderInfo): string =>
  `${h.workflowId} (${h.kind} of ${h.ref} by ${h.requestedBy}, ${h.applying ? 'applying' : 'not applying yet'}, since ${h.since})`;

export type AcquireOutcome =
  | { accepted: true; result: AcquireResult; superseded?: HolderInfo }
  | { accepted: false; reason: string; invalid?: true };

/**
 * A run asks for the environment. Asking again (an activity retry) answers the same. Free: granted. Held: queued
 * at the back (or the front), refused naming the holder, or, with supersede, the holder is replaced if it has not
 * begun applying (otherwise the run queues behind it).
 */
export function acquire(state: EnvironmentState, req: AcquireRequest, now: string): AcquireOutcome {
  if (state.holder && same(state.holder, req))
    return { accepted: true, result: { granted: true, grant: grantOf(state) } };
  const earlier = req.signedRequest
    ? state.ledger.find((r) => r.workflowId === req.workflowId && r.runId !== req.runId)
    : undefined;
  if (earlier)
    return {
      accepted: false,
      invalid: true,
      reason: `the signed request of ${req.workflowId} was already used by its run ${earlier.runId} (${earlier.outcome}): sign a new request under a new workflow id`,
    };
  const queuedAt = state.queue.findIndex((q) => same(q, req));
  if (queuedAt >= 0)
    return { accepted: true, result: { granted: false, position: queuedAt + 1, holder: state.holder } };
  const claim: QueuedRun = {
    workflowId: req.workflowId,
    runId: req.runId,
    kind: req.kind,
    ref: req.ref,
    commit: req.commit,
    requestedBy: req.requestedBy,
    since: now,
  };
  if (!state.holder) {
    state.holder = { ...claim, applying: false };
    return { accepted: true, result: { granted: true, grant: grantOf(state) } };
  }
  if (state.queue.length >= MAX_QUEUED_RUNS)
    return { accepted: false, reason: `${state.environment} already has ${MAX_QUEUED_RUNS} runs waiting` };
  if (req.whenBusy === 'refuse')
    return { accepted: false, reason: `${state.environment} is held by ${describeHolder(state.holder)}` };
  if (req.whenBusy === 'supersede' && !state.holder.applying) {
    const superseded = state.holder;
    state.holder = { ...claim, applying: false };
    return { accepted: true, result: { granted: true, grant: grantOf(state) }, superseded };
  }
  if (req.front) state.queue.unshift(claim);
  else state.queue.push(claim);
  const position = state.queue.findIndex((q) => same(q, req)) + 1;
  return { accepted: true, result: { granted: false, position, holder: state.holder } };
}

/**
 * The holder's apply is about to begin: from now on it cannot be superseded. During a freeze (unless the run may
 * pass it) nothing changes and the freeze is returned: the run waits and asks again.
 */
export function beginApply(
  state: EnvironmentState,
  run: BeginApplyRequest,
  now: string,
): { accepted: true; result: BeginApplyResult } | { accepted: false; reason: string } {
  if (state.holder && same(state.holder, run)) {
    const frozen = activeFreeze(state, now);
    if (frozen && !run.throughFreeze) return { accepted: true, result: { frozen } };
    state.holder.applying = true;
    return { accepted: true, result: {} };
  }
  return {
    accepted: false,
    reason: state.holder
      ? `${run.workflowId} no longer holds ${state.environment}: ${state.holder.workflowId} superseded it`
      : `${run.workflowId} does not hold ${state.environment}`,
  };
}

export function recordDeployment(state: EnvironmentState, deployment: Deployment): void {
  state.deployed = deployment;
}

function appendRecord(state: EnvironmentState, record: LedgerRecord): void {
  // A release sent twice (a retried finish) records the run once.
  const existing = state.ledger.findIndex((r) => same(r, record));
  if (existing >= 0) {
    state.ledger[existing] = record;
    return;
  }
  state.ledger.push(record);
  if (record.outcome === 'succeeded' && record.commit) {
    state.lastKnownGood = {
      commit: record.commit,
      workflowId: record.workflowId,
      at: record.endedAt,
      toolkitVersion: record.toolkitVersion,
    };
  }
  while (state.ledger.length > MAX_LEDGER_RECORDS) {
    state.ledger.shift();
    state.droppedRecords++;
  }
}

/**
 * A run is done with the environment (or died): it leaves the holder's place or the queue, its record goes into
 * the ledger, and the next queued run (if the holder left) becomes the holder and is returned, to be told.
 */
export function release(
  state: EnvironmentState,
  run: { workflowId: string; runId: string },
  record: LedgerRecord | undefined,
  now: string,
): QueuedRun | undefined {
  if (record) appendRecord(state, record);
  const queuedAt = state.queue.findIndex((q) => same(q, run));
  if (queuedAt >= 0) state.queue.splice(queuedAt, 1);
  if (!state.holder || !same(state.holder, run)) return undefined;
  state.holder = undefined;
  return promoteNext(state, now);
}

/** The first queued run becomes the holder. */
export function promoteNext(state: EnvironmentState, now: string): QueuedRun | undefined {
  const next = state.queue.shift();
  if (next) state.holder = { ...next, since: now, applying: false };
  return next;
}

/** Every run the entity is waiting on (holder first), to check whether they are still alive. */
export function watchedRuns(state: EnvironmentState): Array<{ workflowId: string; runId: string }> {
  return [...(state.holder ? [state.holder] : []), ...state.queue].map(({ workflowId, runId }) => ({
    workflowId,
    runId,
  }));
}

/** The ledger record of a run that ended without telling (terminated, timed out, failed). */
export function abandonedRecord(run: QueuedRun | HolderInfo, now: string, applied: boolean): LedgerRecord {
  return {
    workflowId: run.workflowId,
    runId: run.runId,
    kind: run.kind,
    ref: run.ref,
    commit: run.commit,
    requestedBy: run.requestedBy,
    approvals: [],
    outcome: 'abandoned',
    applied,
    startedAt: run.since,
    endedAt: now,
    failure: 'the run ended without releasing the environment (terminated, timed out or failed)',
  };
}

/** The freeze in force at `now`, if any (one whose end has passed is over, though still recorded). */
export function activeFreeze(state: EnvironmentState, now: string): Freeze | undefined {
  const f = state.freeze;
  return f && Date.parse(f.until) > Date.parse(now) ? f : undefined;
}

/** Why a freeze request cannot be taken, or undefined. */
export function freezeRefusal(req: FreezeRequest, now: string): string | undefined {
  if (typeof req?.by !== 'string' || !req.by.trim()) return 'freeze needs who (by)';
  if (typeof req.reason !== 'string' || !req.reason.trim()) return 'freeze needs a reason';
  if (req.reason.length > 500 || req.by.length > 100) return 'freeze reason (500) or name (100) too long';
  const until = typeof req.until === 'string' ? Date.parse(req.until) : NaN;
  if (Number.isNaN(until)) return `until must be a time (ISO 8601): ${String(req.until).slice(0, 40)}`;
  if (until <= Date.parse(now)) return `until ${req.until} is not in the future`;
  if (until - Date.parse(now) > MAX_FREEZE_MS) return 'a freeze may last at most 90 days';
  return undefined;
}

function logFreeze(state: EnvironmentState, entry: FreezeLogEntry): void {
  const log = (state.freezeLog ??= []);
  const at = log.findIndex((e) => e.at === entry.at && e.by === entry.by);
  if (at >= 0) log[at] = entry;
  else log.push(entry);
  while (log.length > MAX_FREEZE_LOG) log.shift();
}

/** Sets (or replaces) the freeze. */
export function freeze(state: EnvironmentState, req: FreezeRequest, now: string): Freeze {
  const f: Freeze = {
    by: req.by,
    reason: req.reason,
    at: now,
    until: new Date(Date.parse(req.until)).toISOString(),
  };
  state.freeze = f;
  logFreeze(state, f);
  return f;
}

/** Lifts the freeze in force; refused (undefined) when there is none. */
export function unfreeze(
  state: EnvironmentState,
  req: UnfreezeRequest,
  now: string,
): FreezeLogEntry | undefined {
  const f = activeFreeze(state, now);
  if (!f) return undefined;
  const lifted: FreezeLogEntry = {
    ...f,
    liftedBy: req.by,
    liftedAt: now,
    ...(req.reason ? { liftReason: req.reason.slice(0, 500) } : {}),
  };
  state.freeze = undefined;
  logFreeze(state, lifted);
  return lifted;
}

/**
 * What the ledger says of one commit: whether this service deployed it here, whether it passed its smoke tests
 * here, and whether it is quarantined (its latest smoke-tested run here failed them).
 */
export function commitFacts(state: EnvironmentState, commit: string): CommitFacts {
  const matches = (c: string | undefined) => c !== undefined && c === commit;
  const records = state.ledger.filter((r) => matches(r.commit));
  const tested = records.filter((r) => r.outcome === 'succeeded' || r.outcome === 'smoke_failed');
  const latest = tested[tested.length - 1];
  return {
    commit,
    deployed: matches(state.deployed?.commit) || records.some((r) => r.applied),
    passed: tested.some((r) => r.outcome === 'succeeded'),
    ...(latest?.outcome === 'smoke_failed'
      ? { quarantined: { workflowId: latest.workflowId, at: latest.endedAt } }
      : {}),
    ...(state.lastKnownGood ? { lastKnownGood: state.lastKnownGood } : {}),
  };
}

/** The environment entity's decisions: who holds, who waits in which order, what the ledger keeps. */
import { TEMPORAL_DEFAULTS } from '../../config/defaults';
import {
  MAX_LEDGER_RECORDS,
  MAX_QUEUED_RUNS,
  environmentWorkflowId,
  type AcquireRequest,
  type LedgerRecord,
} from '../../contracts/environment-entity';
import {
  acquire,
  beginApply,
  newEnvironmentState,
  release,
  watchedRuns,
} from '../../workflows/environment-queue';

const T = '2026-11-29T12:00:00.000Z';
const req = (id: string, over: Partial<AcquireRequest> = {}): AcquireRequest => ({
  workflowId: id,
  runId: `${id}-run`,
  kind: 'promotion',
  ref: 'main',
  requestedBy: 'alice',
  whenBusy: 'queue',
  ...over,
});
const record = (id: string, outcome: LedgerRecord['outcome'], commit = `${id}-sha`): LedgerRecord => ({
  workflowId: id,
  runId: `${id}-run`,
  kind: 'promotion',
  ref: 'main',
  commit,
  requestedBy: 'alice',
  approvals: ['bob'],
  outcome,
  applied: outcome !== 'rejected',
  endedAt: T,
});

test('first come holds; the others queue in order; asking again answers the same; release hands over', () => {
  const s = newEnvironmentState('prod');
  expect(acquire(s, req('a'), T)).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ granted: true }) }),
  );
  expect(acquire(s, req('b'), T)).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ granted: false, position: 1 }) }),
  );
  expect(acquire(s, req('c'), T)).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ position: 2 }) }),
  );
  // A retried acquire (same workflow and run) keeps its place.
  expect(acquire(s, req('b'), T)).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ position: 1 }) }),
  );
  expect(acquire(s, req('a'), T)).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ granted: true }) }),
  );
  // A rollback that jumps the queue goes first.
  acquire(s, req('r', { kind: 'rollback', front: true }), T);
  expect(s.queue.map((q) => q.workflowId)).toEqual(['r', 'b', 'c']);
  expect(release(s, req('a'), record('a', 'succeeded'), T)?.workflowId).toBe('r');
  expect(s.holder?.workflowId).toBe('r');
  // A queued run that leaves (cancelled while waiting) just leaves the queue.
  expect(release(s, req('c'), record('c', 'cancelled'), T)).toBeUndefined();
  expect(watchedRuns(s).map((r) => r.workflowId)).toEqual(['r', 'b']);
});

test('refuse names the holder; supersede replaces a holder that has not begun applying, never one that has', () => {
  const s = newEnvironmentState('prod');
  acquire(s, req('a', { ref: 'v1' }), T);
  expect(acquire(s, req('b', { whenBusy: 'refuse' }), T)).toEqual({
    accepted: false,
    reason: expect.stringMatching(/^prod is held by a \(promotion of v1 by alice, not applying yet/),
  });
  const out = acquire(s, req('c', { whenBusy: 'supersede' }), T);
  expect(out).toEqual(
    expect.objectContaining({ accepted: true, superseded: expect.objectContaining({ workflowId: 'a' }) }),
  );
  expect(s.holder?.workflowId).toBe('c');
  // The superseded run can no longer begin its apply.
  expect(beginApply(s, req('a'), T)).toEqual({
    accepted: false,
    reason: expect.stringMatching(/c superseded it/),
  });
  expect(beginApply(s, req('c'), T)).toEqual({ accepted: true, result: {} });
  const late = acquire(s, req('d', { whenBusy: 'supersede' }), T);
  expect(late).toEqual(
    expect.objectContaining({ result: expect.objectContaining({ granted: false, position: 1 }) }),
  );
  expect(late).not.toHaveProperty('superseded');
});

test('the ledger: the last known good is the last run whose smoke tests passed; old records are counted, not kept', () => {
  const s = newEnvironmentState('prod');
  release(s, req('a'), record('a', 'succeeded'), T);
  release(s, req('b'), record('b', 'smoke_failed'), T);
  release(s, req('b'), record('b', 'smoke_failed'), T); // a retried release counts once
  expect(s.ledger.map((r) => r.workflowId)).toEqual(['a', 'b']);
  expect(s.lastKnownGood?.commit).toBe('a-sha');
  for (let i = 0; i < MAX_LEDGER_RECORDS; i++) release(s, req(`x${i}`), record(`x${i}`, 'rejected'), T);
  expect(s.ledger).toHaveLength(MAX_LEDGER_RECORDS);
  expect(s.droppedRecords).toBe(2);
  expect(s.lastKnownGood?.commit).toBe('a-sha');
});

test('entity ids: environment-<name> on the default task queue, with the queue otherwise', () => {
  expect(environmentWorkflowId('prod', TEMPORAL_DEFAULTS.taskQueue)).toBe('environment-prod');
  expect(environmentWorkflowId('prod', 'team-b')).toBe('environment-prod@team-b');
});

test('the queue is bounded: past the limit a run is refused, whatever it asked for', () => {
  const s = newEnvironmentState('prod');
  acquire(s, req('holder'), T);
  for (let i = 0; i < MAX_QUEUED_RUNS; i++) acquire(s, req(`q${i}`), T);
  expect(acquire(s, req('one-too-many'), T)).toEqual({
    accepted: false,
    reason: `prod already has ${MAX_QUEUED_RUNS} runs waiting`,
  });
  expect(s.queue).toHaveLength(MAX_QUEUED_RUNS);
});

/** Status bookkeeping: phases with their timings, and the result a run ends with. */
import {
  cancellationTouchedCdf,
  enterPhase,
  newStatus,
  recordRefusal,
  toResult,
} from '../../workflows/run-status';

const request = { kind: 'promotion' as const, environment: 'prod', ref: 'main', requestedBy: 'alice' };
const T0 = Date.parse('2026-11-29T10:00:00.000Z');

test('a new run is preparing, needs one approval and has no history yet', () => {
  expect(newStatus(request)).toEqual(
    expect.objectContaining({
      phase: 'preparing',
      requiredApprovals: 1,
      approvals: [],
      refusedApprovals: [],
      timings: [],
    }),
  );
});

test('entering a phase closes the open step with its duration and opens the next', () => {
  const s = newStatus(request);
  enterPhase(s, 'preparing', T0);
  enterPhase(s, 'diffing', T0 + 1500);
  enterPhase(s, 'done', T0 + 4000);
  expect(s.phase).toBe('done');
  expect(s.timings).toEqual([
    {
      step: 'preparing',
      startedAt: '2026-11-29T10:00:00.000Z',
      endedAt: '2026-11-29T10:00:01.500Z',
      durationMs: 1500,
    },
    {
      step: 'diffing',
      startedAt: '2026-11-29T10:00:01.500Z',
      endedAt: '2026-11-29T10:00:04.000Z',
      durationMs: 2500,
    },
  ]);
});

test('the result carries the decisions, refusals and timings the status had', () => {
  const s = newStatus(request);
  enterPhase(s, 'awaiting_approval', T0);
  s.approvals.push({ approver: 'bob', at: '2026-11-29T10:05:00.000Z' });
  recordRefusal(
    s,
    { approver: 'mallory', why: 'mallory is not an approver for prod', reason: 'not_an_approver' },
    '2026-11-29T10:04:00.000Z',
  );
  s.failure = 'x';
  const result = toResult(s, request, 'succeeded', 2);
  expect(result).toEqual(
    expect.objectContaining({
      outcome: 'succeeded',
      environment: 'prod',
      alertsSent: 2,
      approvals: [{ approver: 'bob', at: '2026-11-29T10:05:00.000Z' }],
      refusedApprovals: [
        {
          approver: 'mallory',
          why: 'mallory is not an approver for prod',
          at: '2026-11-29T10:04:00.000Z',
          reason: 'not_an_approver',
        },
      ],
      failure: 'x',
    }),
  );
  expect(result).not.toHaveProperty('alertFailure');
  s.alertFailure = 'webhook down';
  expect(toResult(s, request, 'apply_failed', 0).alertFailure).toBe('webhook down');
});

test('a cancellation alerts only once CDF may have been touched', () => {
  expect(cancellationTouchedCdf('applying')).toBe(true);
  expect(cancellationTouchedCdf('smoke_testing')).toBe(true);
  expect(cancellationTouchedCdf('awaiting_approval')).toBe(false);
  expect(cancellationTouchedCdf('diffing')).toBe(false);
});

test('refused signals are bounded: the last 20 with short fields are kept, all are counted by reason', () => {
  const s = newStatus(request);
  const huge = 'x'.repeat(1_500_000);
  for (let i = 0; i < 10_000; i++) {
    recordRefusal(
      s,
      { approver: `${huge}${i}`, why: `${huge}`, reason: i % 2 ? 'not_an_approver' : 'invalid_payload' },
      '2026-11-29T10:04:00.000Z',
    );
  }
  expect(s.refusedApprovals).toHaveLength(20);
  expect(s.refusedApprovals.every((r) => r.approver.length <= 100 && r.why.length <= 300)).toBe(true);
  expect(s.refusedCount).toBe(10_000);
  expect(s.refusedByReason).toEqual({ not_an_approver: 5_000, invalid_payload: 5_000 });
  // The whole status, and so the result, stays small whatever was sent.
  expect(JSON.stringify(toResult(s, request, 'succeeded', 0)).length).toBeLessThan(20_000);
});

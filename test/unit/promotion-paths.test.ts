/**
 * The decisions behind promotion paths, gates and freezes, without a server: what the ledger says of a commit
 * (deployed, passed, quarantined), freezes and their limits, deployment windows across time zones and daylight
 * saving, and the configuration's refusals of paths that cannot work.
 */
import { MAX_FREEZE_LOG, type AcquireRequest, type LedgerRecord } from '../../contracts/environment-entity';
import { promotionInputSchema, rollbackInputSchema } from '../../contracts/types';
import path from 'node:path';
import { parseUntil } from '../../client/commands/freeze';
import { dataLayout } from '../../config/data-layout';
import { windowState, type DeployWindow } from '../../config/deploy-windows';
import { parseConfig } from '../../config/load-config';
import {
  acquire,
  activeFreeze,
  beginApply,
  commitFacts,
  freeze,
  freezeRefusal,
  newEnvironmentState,
  recordDeployment,
  release,
  unfreeze,
} from '../../workflows/environment-queue';
import { expectConfigError, minimalRawConfig } from './helpers';

const T = '2026-11-29T12:00:00.000Z';
const later = (ms: number) => new Date(Date.parse(T) + ms).toISOString();
const req = (id: string): AcquireRequest => ({
  workflowId: id,
  runId: `${id}-run`,
  kind: 'promotion',
  ref: 'main',
  requestedBy: 'alice',
  whenBusy: 'queue',
});
const record = (id: string, commit: string, outcome: LedgerRecord['outcome']): LedgerRecord => ({
  workflowId: id,
  runId: `${id}-run`,
  kind: 'promotion',
  ref: 'main',
  commit,
  requestedBy: 'alice',
  approvals: [],
  outcome,
  applied: outcome === 'succeeded' || outcome === 'smoke_failed',
  endedAt: T,
});
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('what the ledger says of a commit', () => {
  test('deployed and passed; a failed smoke test quarantines it until a later run of it passes', () => {
    const s = newEnvironmentState('prod');
    expect(commitFacts(s, A)).toEqual({ commit: A, deployed: false, passed: false });
    release(s, req('r1'), record('r1', A, 'succeeded'), T);
    release(s, req('r2'), record('r2', B, 'smoke_failed'), T);
    expect(commitFacts(s, A)).toEqual(
      expect.objectContaining({
        deployed: true,
        passed: true,
        lastKnownGood: expect.objectContaining({ commit: A }),
      }),
    );
    expect(commitFacts(s, A)).not.toHaveProperty('quarantined');
    expect(commitFacts(s, B)).toEqual(
      expect.objectContaining({ deployed: true, passed: false, quarantined: { workflowId: 'r2', at: T } }),
    );
    // A rejected or empty run of it says nothing about its smoke tests: still quarantined.
    release(s, req('r3'), record('r3', B, 'rejected'), T);
    release(s, req('r4'), record('r4', B, 'no_changes'), T);
    expect(commitFacts(s, B).quarantined?.workflowId).toBe('r2');
    release(s, req('r5'), record('r5', B, 'succeeded'), T);
    expect(commitFacts(s, B)).toEqual(expect.objectContaining({ passed: true }));
    expect(commitFacts(s, B)).not.toHaveProperty('quarantined');
  });

  test('what CDF runs now counts as deployed (imported or recorded by an apply), but only the exact commit', () => {
    const s = newEnvironmentState('prod');
    recordDeployment(s, {
      commit: A,
      workflowId: 'w',
      runId: 'r',
      kind: 'promotion',
      at: T,
      resources: null,
    });
    expect(commitFacts(s, A).deployed).toBe(true);
    expect(commitFacts(s, A.slice(0, 12)).deployed).toBe(false);
    expect(commitFacts(s, '').deployed).toBe(false);
  });
});

describe('freezes', () => {
  test('a freeze holds the apply of the holder (not rollbacks allowed through) until it ends or is lifted', () => {
    const s = newEnvironmentState('prod');
    acquire(s, req('run'), T);
    const f = freeze(s, { by: 'alice', reason: 'holiday', until: later(3600_000) }, T);
    expect(f).toEqual({ by: 'alice', reason: 'holiday', at: T, until: later(3600_000) });
    expect(beginApply(s, req('run'), later(1000))).toEqual({ accepted: true, result: { frozen: f } });
    expect(s.holder?.applying).toBe(false);
    // Past its end the freeze is over by itself.
    expect(activeFreeze(s, later(3600_000))).toBeUndefined();
    expect(beginApply(s, { ...req('run'), throughFreeze: true }, later(1000))).toEqual({
      accepted: true,
      result: {},
    });
    expect(s.holder?.applying).toBe(true);
  });

  test('unfreeze lifts it and is logged; unfreezing nothing is refused', () => {
    const s = newEnvironmentState('prod');
    expect(unfreeze(s, { by: 'bob' }, T)).toBeUndefined();
    freeze(s, { by: 'alice', reason: 'incident', until: later(60_000) }, T);
    const lifted = unfreeze(s, { by: 'bob', reason: 'fixed' }, later(1000));
    expect(lifted).toEqual(expect.objectContaining({ by: 'alice', liftedBy: 'bob', liftReason: 'fixed' }));
    expect(activeFreeze(s, later(2000))).toBeUndefined();
    expect(s.freezeLog).toEqual([lifted]);
    for (let i = 0; i < MAX_FREEZE_LOG + 5; i++)
      freeze(s, { by: `p${i}`, reason: 'x', until: later(60_000) }, later(i));
    expect(s.freezeLog).toHaveLength(MAX_FREEZE_LOG);
  });

  test.each([
    [{ by: '', reason: 'r', until: later(60_000) }, 'needs who'],
    [{ by: 'a', reason: ' ', until: later(60_000) }, 'needs a reason'],
    [{ by: 'a', reason: 'r', until: 'tomorrow' }, 'must be a time'],
    [{ by: 'a', reason: 'r', until: later(-1) }, 'not in the future'],
    [{ by: 'a', reason: 'r', until: later(91 * 24 * 3600_000) }, 'at most 90 days'],
  ])('a freeze request %j is refused: %s', (request, why) => {
    expect(freezeRefusal(request, T)).toContain(why);
  });
});

describe('deployment windows', () => {
  const weekdays: DeployWindow = {
    days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    from: '08:00',
    to: '16:00',
    timezone: 'Europe/Oslo',
  };
  test('no windows: always open', () => {
    expect(windowState([], Date.parse(T))).toEqual({ open: true });
  });
  test('open inside, and the next opening outside, in the window’s own time zone', () => {
    // Friday 2026-11-27 10:00 in Oslo (UTC+1) is 09:00Z.
    expect(windowState([weekdays], Date.parse('2026-11-27T09:00:00Z'))).toEqual({ open: true });
    // Friday 16:30 Oslo: closed until Monday 08:00 Oslo = 07:00Z.
    expect(windowState([weekdays], Date.parse('2026-11-27T15:30:00Z'))).toEqual({
      open: false,
      opensAt: '2026-11-30T07:00:00.000Z',
      why: expect.stringContaining('mon,tue,wed,thu,fri 08:00-16:00 Europe/Oslo'),
    });
  });
  test('daylight saving time is followed: in summer 08:00 Oslo is 06:00Z', () => {
    expect(windowState([weekdays], Date.parse('2026-06-01T05:00:00Z'))).toEqual(
      expect.objectContaining({ open: false, opensAt: '2026-06-01T06:00:00.000Z' }),
    );
  });
  test('the earliest of several windows opens first', () => {
    const saturday: DeployWindow = { days: ['sat'], from: '10:00', to: '12:00', timezone: 'UTC' };
    expect(windowState([weekdays, saturday], Date.parse('2026-11-27T15:30:00Z'))).toEqual(
      expect.objectContaining({ opensAt: '2026-11-28T10:00:00.000Z' }),
    );
  });
});

describe('configuration of paths and windows', () => {
  const withEnvs = (mutate: (envs: Record<string, any>) => void) => {
    const raw = minimalRawConfig();
    raw.environments.dev = { ...raw.environments.prod, cdfProject: 'demo-dev' };
    mutate(raw.environments);
    return raw;
  };
  test('a path dev -> prod is accepted with its defaults', () => {
    const config = parseConfig(
      withEnvs((e) => (e.prod.promotion = { from: 'dev' })),
      '/srv/promo/c.yaml',
    );
    expect(config.environments.prod!.promotion).toEqual({ from: 'dev', allowRef: true, lineage: 'required' });
    expect(config.environments.prod!.rollback).toEqual(
      expect.objectContaining({ automatic: 'off', duringFreeze: 'allow' }),
    );
  });
  test('from an unknown environment, or round in a circle, is refused naming the key', () => {
    expectConfigError(
      withEnvs((e) => (e.prod.promotion = { from: 'staging' })),
      'environments.prod.promotion.from',
      'no environment "staging"',
    );
    expectConfigError(
      withEnvs((e) => {
        e.prod.promotion = { from: 'dev' };
        e.dev.promotion = { from: 'prod' };
      }),
      'go round in a circle',
    );
  });
  test('windows must close after they open, in a real time zone', () => {
    expectConfigError(
      withEnvs((e) => (e.prod.deployWindows = [{ from: '16:00', to: '08:00' }])),
      'deployWindows.0.to',
      'later than from',
    );
    expectConfigError(
      withEnvs((e) => (e.prod.deployWindows = [{ from: '08:00', to: '16:00', timezone: 'Mars/Olympus' }])),
      'IANA time zone',
    );
    expectConfigError(
      withEnvs((e) => (e.prod.deployWindows = [{ from: '8am', to: '16:00' }])),
      'time of day',
    );
  });
});

describe('inputs', () => {
  test('a promotion names a ref or a source environment, not both and not neither', () => {
    const base = { environment: 'prod', requestedBy: 'alice' };
    expect(promotionInputSchema.safeParse({ ...base, from: 'dev' }).success).toBe(true);
    expect(promotionInputSchema.safeParse({ ...base, ref: 'main' }).success).toBe(true);
    expect(promotionInputSchema.safeParse(base).error?.issues[0]?.message).toMatch(/either ref .* or from/);
    expect(
      promotionInputSchema.safeParse({ ...base, ref: 'main', from: 'dev' }).error?.issues[0]?.message,
    ).toMatch(/not both/);
    expect(
      promotionInputSchema.safeParse({ ...base, ref: 'main', override: { reason: 'because' } }).error
        ?.issues[0]?.path,
    ).toEqual(['override', 'reason']);
  });
  test('triggeredBy has a fixed shape (the workflow checks it names its parent)', () => {
    const base = { environment: 'prod', requestedBy: 'alice' };
    expect(
      rollbackInputSchema.safeParse({ ...base, triggeredBy: { workflowId: 'w', runId: 'r' } }).success,
    ).toBe(true);
    expect(rollbackInputSchema.safeParse({ ...base, triggeredBy: { workflowId: 'w' } }).success).toBe(false);
  });
});

test('a signed request is good for one run: another run under a workflow id the ledger has is refused', () => {
  const s = newEnvironmentState('prod');
  const signed = { ...req('promotion-prod-1'), signedRequest: true };
  acquire(s, signed, T);
  release(s, signed, record('promotion-prod-1', A, 'rejected'), T);
  expect(acquire(s, { ...signed, runId: 'replayed-run' }, T)).toEqual({
    accepted: false,
    invalid: true,
    reason:
      'the signed request of promotion-prod-1 was already used by its run promotion-prod-1-run (rejected): sign a new request under a new workflow id',
  });
  // The same run asking again (an activity retry) is answered as before; unsigned environments reuse ids freely.
  expect(acquire(s, signed, T)).toEqual(expect.objectContaining({ accepted: true }));
  expect(acquire(newEnvironmentState('dev'), { ...req('x'), signedRequest: true }, T).accepted).toBe(true);
  expect(acquire(s, { ...req('promotion-prod-1'), runId: 'unsigned-rerun' }, T).accepted).toBe(true);
});

test('run folders stay one folder under runs/ for any workflow id the server accepts', () => {
  const root = '/srv/data';
  const layout = dataLayout(root);
  for (const workflowId of [
    '..',
    '.',
    '../../etc',
    '..\\..',
    '/abs',
    'a/../../b',
    '.hidden',
    'x'.repeat(1000),
    'ümlaut id',
    '\u0000nul',
  ]) {
    const dir = layout.run({ workflowId, runId: '../../run' }).dir;
    expect(path.dirname(path.dirname(dir))).toBe(path.join(root, 'runs'));
    expect(path.basename(path.dirname(dir))).not.toMatch(/^\.|\//);
  }
});

test('freeze --until takes an ISO time or a duration from now; anything else is a usage error', () => {
  expect(parseUntil('2h', Date.parse(T))).toBe(later(2 * 3600_000));
  expect(parseUntil('3d', Date.parse(T))).toBe(later(3 * 24 * 3600_000));
  expect(parseUntil('2026-12-24T18:00:00+01:00')).toBe('2026-12-24T17:00:00.000Z');
  for (const bad of ['tomorrow', '2026-12-24', '-2h', ''])
    expect(() => parseUntil(bad)).toThrow(/invalid --until/);
  expect(() => parseUntil(undefined)).toThrow(/missing required option --until/);
});

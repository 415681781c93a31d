/**
 * Promotion paths on the real workflows with mocked activities (time-skipping server): promoting what the
 * upstream environment last passed, the lineage and quarantine gates and their recorded overrides, rollback
 * targets, deployment windows and freezes before the apply, and the automatic rollback after failed smoke tests.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentUnfrozenSignal } from '../../contracts/environment-entity';
import { approveUpdate, PROMOTION_WORKFLOW_TYPE } from '../../contracts/messages';
import type { PromotionInput, PromotionResult } from '../../contracts/types';
import { COMMIT, PLAN_HASH, mockActivities, passingSmokeChecks, policyFor } from '../helpers/mock-activities';
import {
  startPromotion,
  startRollback,
  startTimeSkipping,
  withWorker,
  type PromotionWorkflow,
} from '../helpers/time-skipping';
import { uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(() => env?.teardown());

const DEV_GOOD = 'd'.repeat(40);
const OLD_GOOD = '0'.repeat(40);
const fromDev = { promotesFrom: 'dev', lineageRequired: true };

const startFrom = (taskQueue: string, input: Partial<PromotionInput>) =>
  env.client.workflow.start<PromotionWorkflow>(PROMOTION_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: uniqueId('promotion'),
    args: [{ environment: 'prod', from: 'dev', requestedBy: 'alice', ...input }],
  });

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause as { type?: string; message: string };
  expect(cause.type).toBe('InvalidInput');
  return cause.message.replace(/^invalid input: /, '');
}

async function approve(handle: Parameters<typeof waitForPhase>[0]): Promise<void> {
  await waitForPhase(handle, 'awaiting_approval');
  await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: PLAN_HASH }] });
}

test('from dev: the run promotes what dev last passed, shows where it came from, and records it', async () => {
  const mock = mockActivities(
    {
      async lastKnownGood(req) {
        return req.environment === 'dev'
          ? { commit: DEV_GOOD, workflowId: 'promotion-dev-1', at: 'x' }
          : null;
      },
    },
    { policy: fromDev },
  );
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startFrom(taskQueue, {});
    const waiting = await waitForPhase(handle, 'awaiting_approval');
    expect(waiting).toEqual(expect.objectContaining({ ref: 'from:dev', from: 'dev', commit: DEV_GOOD }));
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: PLAN_HASH }] });
    expect(await handle.result()).toEqual(expect.objectContaining({ outcome: 'succeeded', from: 'dev' }));
    expect(mock.calls.prepareCheckout[0]?.ref).toBe(DEV_GOOD);
    // The lineage gate asked dev about the commit (it passed there: the mock says every commit did).
    expect(mock.calls.commitFacts).toEqual(
      expect.arrayContaining([{ environment: 'dev', commit: DEV_GOOD }]),
    );
  });
});

test('from an environment that is not upstream, or a ref where only `from` is allowed: refused before any work', async () => {
  const mock = mockActivities({}, { policy: { ...fromDev, allowRef: false } });
  await withWorker(env, mock.activities, async (taskQueue) => {
    expect(await failure((await startFrom(taskQueue, { from: 'qa' })).result())).toBe(
      'prod takes promotions from dev (promotion.from), not from qa',
    );
    expect(await failure((await startPromotion(env, taskQueue)).result())).toMatch(
      /prod takes only promotions from dev \(promotion.allowRef is false\): give from instead of ref/,
    );
    // An upstream that never passed anything has nothing to promote.
    const none = await failure((await startFrom(taskQueue, {})).result());
    expect(none).toMatch(/dev has no last known good commit yet/);
    expect(mock.calls.acquireEnvironment).toHaveLength(1);
    expect(mock.calls.buildAndDiff).toHaveLength(0);
  });
});

test('the lineage gate: a commit that never passed upstream is refused, unless overridden with a reason that is recorded', async () => {
  const mock = mockActivities(
    {
      async commitFacts(req) {
        return { commit: req.commit, deployed: false, passed: req.environment !== 'dev' };
      },
    },
    { policy: fromDev },
  );
  await withWorker(env, mock.activities, async (taskQueue) => {
    const refused = await failure((await startPromotion(env, taskQueue)).result());
    expect(refused).toBe(
      `${COMMIT} has not passed its smoke tests in dev; to go ahead anyway, give override.reason (recorded and shown to approvers)`,
    );
    expect(mock.calls.buildAndDiff).toHaveLength(0);

    const reason = 'hotfix for incident 4711, dev is down';
    const handle = await startPromotion(env, taskQueue, { override: { reason } });
    await approve(handle);
    const result = await handle.result();
    expect(result.outcome).toBe('succeeded');
    expect(result.overrides).toEqual([
      expect.objectContaining({
        gate: 'lineage',
        reason,
        by: 'alice',
        detail: `${COMMIT} has not passed its smoke tests in dev`,
      }),
    ]);
  });
});

test('a quarantined commit needs an override to be promoted again', async () => {
  const mock = mockActivities({
    async commitFacts(req) {
      return {
        commit: req.commit,
        deployed: true,
        passed: false,
        quarantined: { workflowId: 'promotion-prod-broken', at: '2026-11-29T10:00:00.000Z' },
      };
    },
  });
  await withWorker(env, mock.activities, async (taskQueue) => {
    expect(await failure((await startPromotion(env, taskQueue)).result())).toMatch(
      new RegExp(`^${COMMIT} is quarantined in prod: its smoke tests failed there in promotion-prod-broken`),
    );
    const handle = await startPromotion(env, taskQueue, {
      override: { reason: 'the smoke check itself was wrong' },
    });
    await approve(handle);
    expect((await handle.result()).overrides?.map((o) => o.gate)).toEqual(['quarantine']);
  });
});

test('a rollback takes only commits deployed here before, or on the allowed branch', async () => {
  const neverDeployed = {
    async commitFacts(req: { commit: string }) {
      return { commit: req.commit, deployed: false, passed: false };
    },
  };
  const strict = mockActivities(neverDeployed);
  await withWorker(env, strict.activities, async (taskQueue) => {
    const msg = await failure(
      (
        await startRollback(env, taskQueue, { environment: 'prod', commit: COMMIT, requestedBy: 'alice' })
      ).result(),
    );
    expect(msg).toMatch(
      new RegExp(`^${COMMIT} was never deployed to prod by this service: roll back to a commit listed by`),
    );
  });
  const branch = mockActivities(
    {
      ...neverDeployed,
      async prepareCheckout(req) {
        return { commit: COMMIT, ...(req.onBranch === 'main' ? { onBranch: true } : {}) };
      },
    },
    { policy: { rollbackBranch: 'main' } },
  );
  await withWorker(env, branch.activities, async (taskQueue) => {
    const handle = await startRollback(env, taskQueue, {
      environment: 'prod',
      commit: COMMIT,
      requestedBy: 'alice',
    });
    await approve(handle);
    expect((await handle.result()).outcome).toBe('succeeded');
    expect(branch.calls.prepareCheckout[0]?.onBranch).toBe('main');
  });
});

test('outside the deployment window an approved run waits, visible in status, and applies when it opens', async () => {
  let checks = 0;
  const mock = mockActivities(
    {
      async checkDeployWindow() {
        checks++;
        return checks === 1
          ? {
              open: false,
              opensAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
              why: 'outside the deployment windows (mon 08:00-16:00 UTC)',
            }
          : { open: true };
      },
    },
    { policy: { hasDeployWindows: true } },
  );
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await approve(handle);
    const result = await handle.result();
    expect(result.outcome).toBe('succeeded');
    expect(result.timings.map((t) => t.step)).toEqual(
      expect.arrayContaining(['awaiting_approval', 'waiting_to_apply', 'applying']),
    );
    expect(checks).toBe(2);
  });
});

test('during a freeze the approved run waits until it is lifted; the status says who froze it and why', async () => {
  let frozen = true;
  const mock = mockActivities({
    async beginApply() {
      return frozen
        ? {
            frozen: {
              by: 'carol',
              reason: 'board demo',
              at: 'x',
              until: new Date(Date.now() + 24 * 3600_000).toISOString(),
            },
          }
        : {};
    },
  });
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await approve(handle);
    const waiting = await waitForPhase(handle, 'waiting_to_apply');
    expect(waiting.waitingToApply?.why).toBe('prod is frozen by carol: board demo');
    expect(mock.calls.applyPlan).toHaveLength(0);
    frozen = false;
    await handle.signal(environmentUnfrozenSignal);
    expect((await handle.result()).outcome).toBe('succeeded');
    expect(mock.calls.beginApply).toHaveLength(2);
  });
});

test('automatic rollback: failed smoke tests start a rollback to the last known good, linked both ways', async () => {
  let smokeRuns = 0;
  const mock = mockActivities(
    {
      async acquireEnvironment(req) {
        return {
          granted: true,
          grant: {
            environment: req.environment,
            lastKnownGood: { commit: OLD_GOOD, workflowId: 'promotion-prod-0', at: 'x' },
          },
        };
      },
      async runSmokeChecks() {
        smokeRuns++;
        return smokeRuns === 1
          ? [{ name: 'assets', kind: 'assets', passed: false, detail: 'none' }]
          : passingSmokeChecks();
      },
    },
    { policy: { automaticRollback: 'without_approval' } },
  );
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await approve(handle);
    const result = await handle.result();
    expect(result.outcome).toBe('smoke_failed');
    const rollbackId = `${handle.workflowId}-rollback`;
    expect(result.rollback?.workflowId).toBe(rollbackId);
    const rollback: PromotionResult = await env.client.workflow.getHandle(rollbackId).result();
    expect(rollback).toEqual(
      expect.objectContaining({
        kind: 'rollback',
        outcome: 'succeeded',
        commit: OLD_GOOD,
        triggeredBy: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
      }),
    );
    // Without approval, by setting; it asked for the front of the queue.
    expect(rollback.timings.map((t) => t.step)).not.toContain('awaiting_approval');
    expect(mock.calls.acquireEnvironment[1]?.claim).toEqual(
      expect.objectContaining({ workflowId: rollbackId, front: true, requestedBy: 'cdf-promote' }),
    );
    expect(mock.calls.sendAlert[0]).toEqual(
      expect.objectContaining({ outcome: 'smoke_failed', rollbackWorkflowId: rollbackId }),
    );

    // Nobody else can claim to be an automatic rollback.
    const forged = await startRollback(env, taskQueue, {
      environment: 'prod',
      commit: OLD_GOOD,
      requestedBy: 'mallory',
      triggeredBy: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId },
    });
    expect(await failure(forged.result())).toMatch(/triggeredBy is set only by the promotion/);
  });
});

test('the default (alert only) starts no rollback', async () => {
  const mock = mockActivities(
    {
      async runSmokeChecks() {
        return [{ name: 'assets', kind: 'assets', passed: false, detail: 'none' }];
      },
    },
    { policy: policyFor('prod', { automaticRollback: 'off' }) },
  );
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await approve(handle);
    const result = await handle.result();
    expect(result.outcome).toBe('smoke_failed');
    expect(result.rollback).toBeUndefined();
    expect(mock.calls.acquireEnvironment).toHaveLength(1);
  });
});

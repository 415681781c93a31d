/**
 * Failure paths: transient failures are retried to success, permanent ones end the run with the right outcome
 * and an alert that a real HTTP receiver gets on both channels.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { approveSignal, approveUpdate } from '../../contracts/messages';
import { CliToolkitRunner, type ToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import type { PromotionResult } from '../../contracts/types';
import { commitFiles } from '../helpers/git';
import { startHarness, type Harness } from '../helpers/harness';
import { failureAlerts, startStack, TASK_QUEUE, type Stack } from '../helpers/stack';
import { recordHistory, uniqueId, waitForPhase, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    rawConfig: (raw) => ({
      ...raw,
      environments: {
        ...raw.environments,
        // Same CDF project, but credentials that can read and not write: the dry-run says "Able to deploy: No".
        readonly: {
          ...raw.environments.prod!,
          credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_READONLY' },
          configFile: 'org/config.prod.yaml',
        },
      },
    }),
    beforeWorker: (s) => {
      s.secrets.CDF_TOKEN_READONLY = 'readonly-token-abcdef';
    },
  });
  ({ env, stack } = harness);
});

beforeEach(async () => {
  await stack.admin.clearRequests();
});

afterEach(async () => {
  await stack.admin.clearFaults();
  stack.alerts.received.length = 0;
});

afterAll(() => harness?.stop());

const start = (ref: string, environment = 'prod') =>
  env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId(`promotion-${environment}`),
    args: [{ environment, ref, requestedBy: 'alice', reason: 'failure test' }],
  });

async function approveWhenReady(handle: Awaited<ReturnType<typeof start>>): Promise<PromotionResult> {
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  return handle.result();
}

test('a transient apply failure is retried by Temporal and the promotion succeeds', async () => {
  // The real cdf retries 5xx ten times itself (minutes of backoff), so the worker gets a runner that fails the
  // first apply the way a dropped connection does, then runs the real cdf: the retry seen here is Temporal's.
  const taskQueue = 'cdf-promotions-transient';
  const own = await startStack({
    rawConfig: (raw) => ({ ...raw, temporal: { ...raw.temporal, taskQueue } }),
  });
  try {
    const real = new CliToolkitRunner({ config: own.config, secrets: own.secrets });
    let applies = 0;
    const flaky: ToolkitRunner = {
      has: (step) => real.has(step),
      run: async (step, ctx) => {
        if (step === 'apply' && ++applies === 1) {
          throw new PromotionError(
            ErrorType.ToolkitTransient,
            'toolkit apply exited with 1: ConnectError: connection reset by peer',
          );
        }
        return real.run(step, ctx);
      },
    };
    const w = await own.startWorker(env.nativeConnection, { toolkit: flaky });
    const handle = await env.client.workflow.start('promotionWorkflow', {
      taskQueue,
      workflowId: uniqueId('promotion-prod-transient'),
      args: [{ environment: 'prod', ref: 'v1', requestedBy: 'alice' }],
    });
    const result: PromotionResult = await w.runUntil(async () => {
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
      return handle.result();
    });
    expect(result.outcome).toBe('succeeded');
    expect(applies).toBe(2);
    const creates = (await own.admin.requests()).filter(
      (r) => r.method === 'POST' && /\/models\/spaces$/.test(r.path),
    );
    expect(creates.map((r) => r.status)).toEqual([200]);
    const history = await handle.fetchHistory();
    const retried = history.events?.filter(
      (e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 0) > 1,
    );
    expect(retried?.length).toBeGreaterThanOrEqual(1);
    expect(failureAlerts(own.alerts.received)).toHaveLength(0);
    await recordHistory(handle, 'promotion-transient-apply-retried');
  } finally {
    await own.stop();
  }
});

test('a permanent apply failure gives apply_failed and an alert on every channel', async () => {
  await stack.admin.reset();
  const handle = await start('v1');
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await stack.admin.addFault({ method: 'POST', pathPattern: '^/models/containers$', status: 400, count: -1 });
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('apply_failed');
  expect(result.failure).toMatch(/ToolkitFailedError/);
  expect(result.alertsSent).toBe(2);
  // Not retried: exactly one attempt at creating containers.
  const creates = (await stack.admin.requests()).filter(
    (r) => r.method === 'POST' && /\/models\/containers$/.test(r.path),
  );
  expect(creates).toHaveLength(1);

  const webhook = await stack.alerts.waitFor((a) => a.path === '/webhook' && failureAlerts([a]).length === 1);
  expect(webhook.body).toEqual(
    expect.objectContaining({
      environment: 'prod',
      outcome: 'apply_failed',
      commit: stack.repo.first,
      planHash: waiting.planHash,
      workflowId: handle.workflowId,
      runUrl: expect.stringContaining(`/namespaces/default/workflows/${handle.workflowId}/`),
    }),
  );
  const slack = await stack.alerts.waitFor((a) => a.path === '/slack' && failureAlerts([a]).length === 1);
  expect(JSON.stringify(slack.body)).toContain('apply failed');
  expect(JSON.stringify(slack.body)).toContain(handle.workflowId);
  // The token never leaves the worker.
  expect(JSON.stringify(stack.alerts.received)).not.toContain(stack.secrets.CDF_TOKEN_PROD);
  await recordHistory(handle, 'promotion-apply-failed');
});

test('a failed build gives diff_failed with an alert and never reaches approval', async () => {
  commitFiles(stack.repo.dir, {
    branch: 'broken',
    from: 'v1',
    files: { 'org/modules/demo_module/data_modeling/broken.Space.yaml': 'space: [unclosed\n' },
    message: 'broken yaml',
  });

  const handle = await start('broken');
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('diff_failed');
  expect(result.failure).toMatch(/BuildFailedError/);
  expect(result.timings.map((t) => t.step)).not.toContain('awaiting_approval');
  const alert = await stack.alerts.waitFor((a) => a.path === '/webhook' && failureAlerts([a]).length === 1);
  expect(alert.body).toEqual(expect.objectContaining({ outcome: 'diff_failed' }));
  await recordHistory(handle, 'promotion-diff-failed');
});

test('"Able to deploy: No" in the dry-run gives diff_failed', async () => {
  await stack.admin.reset();
  const handle = await start('v1', 'readonly');
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('diff_failed');
  expect(result.failure).toMatch(/Able to deploy: No/);
});

test('cancelling a run that waits for approval ends it as cancelled and cleans up', async () => {
  const handle = await start('v1');
  await waitForPhase(handle, 'awaiting_approval');
  await handle.cancel();
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('cancelled');
  expect(result.failure).toContain('awaiting_approval');
  await recordHistory(handle, 'promotion-cancelled-awaiting-approval');
});

test('cancelling during apply waits for the Toolkit to stop, then alerts: CDF may be half-deployed', async () => {
  await stack.admin.reset();
  const handle = await start('v1');
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await stack.admin.addFault({ method: 'POST', pathPattern: '^/models/views$', latencyMs: 20_000, count: 1 });
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  await waitForPhase(handle, 'applying');
  const deadline = Date.now() + 60_000;
  while (
    !(await stack.admin.requests()).some((r) => r.method === 'POST' && /\/models\/containers$/.test(r.path))
  ) {
    if (Date.now() > deadline) throw new Error('apply never reached the containers step');
    await new Promise((r) => setTimeout(r, 200));
  }
  await handle.cancel();
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('cancelled');
  expect(result.failure).toBe('cancelled during applying');
  expect(result.alertsSent).toBe(2);
  const alert = await stack.alerts.waitFor((a) => a.path === '/webhook' && failureAlerts([a]).length === 1);
  expect(alert.body).toEqual(expect.objectContaining({ outcome: 'cancelled', environment: 'prod' }));
  // The apply activity reported its cancellation before the run cleaned up and finished.
  const history = await handle.fetchHistory();
  const kinds = history.events?.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes'))) ?? [];
  const cancelledAt = kinds.indexOf('activityTaskCanceledEventAttributes');
  expect(cancelledAt).toBeGreaterThan(-1);
  expect(kinds.lastIndexOf('activityTaskScheduledEventAttributes')).toBeGreaterThan(cancelledAt);
  await recordHistory(handle, 'promotion-cancelled-during-apply');
});

test('if CDF changed between approval and apply, nothing is applied and the run asks for approval again', async () => {
  await stack.admin.reset();
  const handle = await start('v1');
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  // Someone creates the space by hand while the plan waits: the approved plan said "create", CDF now differs.
  const res = await fetch(`${stack.fakeCdf.url}/api/v1/projects/demo-prod/models/spaces`, {
    method: 'POST',
    headers: { authorization: 'Bearer someone-else', 'content-type': 'application/json' },
    body: JSON.stringify({
      items: [{ space: 'demo_space', name: 'Hand-made', description: 'created outside the pipeline' }],
    }),
  });
  expect(res.status).toBe(200);
  await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: waiting.planHash }] });
  // Back to approval, with a new plan and the reason; nothing of the old plan was applied.
  const again = await waitForStatus(
    handle,
    (s) => s.phase === 'awaiting_approval' && s.planHash !== waiting.planHash,
    120_000,
  );
  expect(again.planChanges).toEqual([
    expect.objectContaining({
      previousPlanHash: waiting.planHash,
      why: expect.stringMatching(
        /PlanMismatchError: the plan changed since it was approved \(spaces counts differ/,
      ),
    }),
  ]);
  expect(again.approvals).toEqual([]);
  const state = await stack.admin.state('demo-prod');
  expect(Object.keys(state.views)).toHaveLength(0);
  expect(Object.keys(state.assets)).toHaveLength(0);
  // The old approval does not carry over: approving the old hash is refused, the new one applies.
  await expect(
    handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol', planHash: waiting.planHash }] }),
  ).rejects.toThrow();
  await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol', planHash: again.planHash }] });
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('succeeded');
  expect(result.planHash).toBe(again.planHash);
  await recordHistory(handle, 'promotion-plan-changed-reapproved');
});

describe('smoke failures', () => {
  test('a failed smoke check gives smoke_failed and an alert naming the check', async () => {
    const taskQueue = 'cdf-promotions-smoke';
    const smokeStack = await startStack({
      prod: {
        smoke: {
          dataModels: [
            { space: 'demo_space', externalId: 'PumpModel', version: 'v1' },
            { space: 'demo_space', externalId: 'ValveModel', version: 'v1' },
          ],
          minAssets: 1,
        },
      },
      rawConfig: (raw) => ({ ...raw, temporal: { ...raw.temporal, taskQueue } }),
    });
    try {
      const w = await smokeStack.startWorker(env.nativeConnection);
      const handle = await env.client.workflow.start('promotionWorkflow', {
        taskQueue,
        workflowId: uniqueId('promotion-prod-smoke'),
        args: [{ environment: 'prod', ref: 'v1', requestedBy: 'alice' }],
      });
      const result: PromotionResult = await w.runUntil(approveWhenReady(handle));
      expect(result.outcome).toBe('smoke_failed');
      const failed = result.smokeResults.filter((r) => !r.passed);
      expect(failed).toEqual([
        expect.objectContaining({ name: 'data model demo_space:ValveModel/v1', passed: false }),
      ]);
      expect(result.smokeResults.filter((r) => r.passed)).toHaveLength(2);
      const alert = await smokeStack.alerts.waitFor(
        (a) => a.path === '/webhook' && failureAlerts([a]).length === 1,
      );
      expect(alert.body).toEqual(
        expect.objectContaining({
          outcome: 'smoke_failed',
          failedChecks: [expect.objectContaining({ name: 'data model demo_space:ValveModel/v1' })],
        }),
      );
      await recordHistory(handle, 'promotion-smoke-failed');
    } finally {
      await smokeStack.stop();
    }
  });
});

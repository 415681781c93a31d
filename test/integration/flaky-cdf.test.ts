/**
 * A flaky CDF, end to end: the sandbox throttles (429) and drops (503) bursts of the very requests the Toolkit's
 * dry-run and deploy and the smoke checks make, and answers everything slowly. The promotion rides through to
 * `succeeded` without an alert. A permanent refusal (403) of the smoke checks' API ends the run at once as
 * `smoke_failed`, in one attempt, with an alert that says what CDF answered.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FaultSpec } from '../../fakes/cdf/faults';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { failureAlerts, TASK_QUEUE, type Stack } from '../helpers/stack';
import { uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    prod: {
      smoke: {
        dataModels: [{ space: 'demo_space', externalId: 'PumpModel', version: 'v1' }],
        minAssets: 2,
      },
    },
  });
  ({ env, stack } = harness);
});

afterEach(async () => {
  await stack.admin.clearFaults();
  await stack.admin.clearRequests();
  stack.alerts.received.length = 0;
});

afterAll(() => harness?.stop());

async function promote(ref: string): Promise<{ result: PromotionResult; attempts: Map<string, number> }> {
  const handle = await env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('promotion-prod-flaky'),
    args: [{ environment: 'prod', ref, requestedBy: 'alice', reason: 'flaky CDF test' }],
  });
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  const result = await handle.result();
  // The highest attempt each activity type reached: Temporal's retries, as opposed to the clients' own.
  const history = await handle.fetchHistory();
  const scheduled = new Map<number, string>();
  const attempts = new Map<string, number>();
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(Number(e.eventId), s.activityType?.name ?? '');
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const type = scheduled.get(Number(started.scheduledEventId)) ?? '';
      attempts.set(type, Math.max(attempts.get(type) ?? 0, started.attempt ?? 1));
    }
  }
  return { result, attempts };
}

test('429 and 503 bursts and slow answers on every call: the promotion rides through to succeeded, no alert', async () => {
  // A fault matches the first spec whose pattern fits, so the bursts go before the catch-all latency.
  const bursts: FaultSpec[] = [
    // The Toolkit's dry-run reads (in build+diff and again in the pre-apply check).
    { method: 'POST', pathPattern: '/models/spaces/byids$', status: 429, count: 3, retryAfterSeconds: 1 },
    { method: 'POST', pathPattern: '/models/containers/byids$', status: 503, count: 2 },
    // The deploy's writes.
    { method: 'POST', pathPattern: '/models/containers$', status: 503, count: 2 },
    { method: 'POST', pathPattern: '/models/views$', status: 429, count: 2 },
    // The smoke checks (@cognite/sdk).
    { method: 'POST', pathPattern: '/models/datamodels/byids$', status: 429, count: 2 },
    { method: 'POST', pathPattern: '/assets/list$', status: 503, count: 2 },
  ];
  for (const fault of bursts) await stack.admin.addFault({ ...fault, latencyMs: 50 });
  await stack.admin.addFault({ pathPattern: '.', latencyMs: 120, count: -1 });

  const { result, attempts } = await promote('v1');

  expect(result.outcome).toBe('succeeded');
  expect(result.smokeResults.every((r) => r.passed)).toBe(true);
  expect(failureAlerts(stack.alerts.received)).toHaveLength(0);
  // Every burst fired in full (only the endless latency fault is left), and CDF really answered 429 and 503.
  expect((await stack.admin.faults()).map((f) => f.count)).toEqual([-1]);
  const statuses = (await stack.admin.requests()).map((r) => r.status);
  expect(statuses.filter((s) => s === 429).length).toBe(3 + 2 + 2);
  expect(statuses.filter((s) => s === 503).length).toBe(2 + 2 + 2);
  // The sandbox now holds what v1 deploys.
  const containers = (await stack.admin.requests()).filter(
    (r) => r.method === 'POST' && /\/models\/containers$/.test(r.path) && r.status === 200,
  );
  expect(containers.length).toBeGreaterThanOrEqual(1);
  expect(attempts.get('runSmokeChecks')).toBeGreaterThanOrEqual(1);
});

test('a permanent 403 from the smoke checks API ends the run at once as smoke_failed, with a clear alert', async () => {
  // The smoke checks list assets (POST /assets/list); the Toolkit never does (it reads assets by id).
  await stack.admin.addFault({ method: 'POST', pathPattern: '/assets/list$', status: 403, count: -1 });

  // v2: the first test deployed v1 already.
  const { result, attempts } = await promote('v2');

  expect(result.outcome).toBe('smoke_failed');
  expect(result.failure).toMatch(/smoke checks could not run: .*403/);
  // Not retried: one attempt, and the API was asked once (the SDK does not retry a 403 either).
  expect(attempts.get('runSmokeChecks')).toBe(1);
  const refused = (await stack.admin.requests()).filter(
    (r) => /\/assets\/list$/.test(r.path) && r.status === 403,
  );
  expect(refused).toHaveLength(1);
  const alerts = failureAlerts(stack.alerts.received);
  expect(alerts.length).toBeGreaterThanOrEqual(1);
  const webhook = alerts.find((a) => a.path === '/webhook');
  expect(JSON.stringify(webhook?.body)).toMatch(/smoke_failed/);
  expect(JSON.stringify(webhook?.body)).toMatch(/403/);
});

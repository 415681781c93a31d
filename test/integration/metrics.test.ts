/**
 * Prometheus metrics from a real worker process started the production way (worker/run-worker.ts with
 * `metrics.enabled`): a promotion runs the real Toolkit, sends its approval notices (one channel refuses) and is
 * rejected; a request for an unknown environment is refused. One scrape of /metrics over HTTP then holds our
 * metrics with their labels and values, and the SDK's own, from the one exporter.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify as stringifyYaml } from 'yaml';
import { rejectUpdate } from '../../contracts/messages';
import {
  ALERTS_FAILED_METRIC,
  ALERTS_SENT_METRIC,
  APPROVAL_WAIT_METRIC,
  RUNS_METRIC,
  SDK_METRICS,
  TOOLKIT_COMMAND_METRIC,
} from '../../contracts/metrics';
import type { PromotionResult } from '../../contracts/types';
import { freePort, parseExposition, pick, total, type Sample } from '../helpers/prometheus';
import { startStack, TASK_QUEUE, type Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal-server';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process';
import { uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let stack: Stack;
let worker: WorkerProcess | undefined;
let metricsUrl: string;

beforeAll(async () => {
  env = await startTemporal();
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  stack = await startStack({
    rawConfig: (raw) => ({
      ...raw,
      temporal: { ...raw.temporal, address: env.address },
      metrics: { enabled: true, host: '127.0.0.1', port },
    }),
  });
  const file = path.join(stack.dir, 'metrics-worker.yaml');
  writeFileSync(file, stringifyYaml(stack.raw));
  worker = await startWorkerProcess('metrics', file, {
    CDF_TOKEN_PROD: String(stack.secrets.CDF_TOKEN_PROD),
    ALERT_WEBHOOK_URL: String(stack.secrets.ALERT_WEBHOOK_URL),
    SLACK_WEBHOOK_URL: String(stack.secrets.SLACK_WEBHOOK_URL),
  });
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await stack?.stop();
});

async function scrape(): Promise<Sample[]> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

/** Scrapes until `ready` holds: workflow metrics are exported after the workflow task, notices run on their own. */
async function scrapeUntil(ready: (s: Sample[]) => boolean, timeoutMs = 15_000): Promise<Sample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await scrape();
    if (ready(samples) || Date.now() > deadline) return samples;
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('one /metrics endpoint: runs, approval waits, Toolkit commands and alert deliveries, and the SDK metrics', async () => {
  expect(worker!.logs.find((l) => l.msg === 'worker started')).toMatchObject({ metrics: metricsUrl });
  const sdk = { namespace: 'default', taskQueue: TASK_QUEUE };

  // The first post of the approval notice (the webhook channel) is refused; Slack accepts it.
  stack.alerts.failNext(1);
  const handle = await env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('promotion-prod-metrics'),
    args: [{ environment: 'prod', ref: 'v1', requestedBy: 'alice' }],
  });
  // A request the configuration refuses: its environment name must not become a label value.
  const refused = env.client.workflow.execute('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('promotion-staging-metrics'),
    args: [{ environment: 'staging', ref: 'v1', requestedBy: 'alice' }],
  });
  await expect(refused).rejects.toBeInstanceOf(WorkflowFailedError);

  await waitForPhase(handle, 'awaiting_approval', 90_000);
  await handle.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', reason: 'not today' }] });
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('rejected');

  const samples = await scrapeUntil(
    (s) =>
      total(s, RUNS_METRIC.name, { outcome: 'rejected' }) > 0 &&
      total(s, ALERTS_SENT_METRIC.name) + total(s, ALERTS_FAILED_METRIC.name) >= 2,
  );

  // Ours: one rejected promotion and one refused request, by environment, kind and outcome.
  const runs = pick(samples, RUNS_METRIC.name);
  expect(runs.map((s) => ({ labels: s.labels, value: s.value }))).toEqual(
    expect.arrayContaining([
      {
        labels: {
          ...sdk,
          workflowType: 'promotionWorkflow',
          environment: 'prod',
          kind: 'promotion',
          outcome: 'rejected',
        },
        value: 1,
      },
      {
        labels: {
          ...sdk,
          workflowType: 'promotionWorkflow',
          environment: 'unknown',
          kind: 'promotion',
          outcome: 'refused',
        },
        value: 1,
      },
    ]),
  );
  expect(runs.some((s) => s.labels.environment === 'staging')).toBe(false);
  // The workflow's series is the one the worker started at 0, so the first failure of a kind is an increase.
  expect(
    pick(samples, RUNS_METRIC.name, { environment: 'prod', kind: 'promotion', outcome: 'rejected' }),
  ).toHaveLength(1);
  expect(
    pick(samples, RUNS_METRIC.name, {
      ...sdk,
      workflowType: 'rollbackWorkflow',
      environment: 'prod',
      kind: 'rollback',
      outcome: 'apply_failed',
    }).map((s) => s.value),
  ).toEqual([0]);

  // The plan's one wait for approval, ended by the rejection, in the seconds histogram.
  const wait = { environment: 'prod', kind: 'promotion', decision: 'rejected' };
  expect(total(samples, `${APPROVAL_WAIT_METRIC.name}_count`, wait)).toBe(1);
  const waited = total(samples, `${APPROVAL_WAIT_METRIC.name}_sum`, wait);
  expect(waited).toBeGreaterThan(0);
  expect(waited).toBeLessThan(120);
  // The buckets are ours (seconds), not the SDK's millisecond defaults.
  expect(pick(samples, `${APPROVAL_WAIT_METRIC.name}_bucket`, wait).map((s) => s.labels.le)).toEqual([
    ...APPROVAL_WAIT_METRIC.buckets.map(String),
    '+Inf',
  ]);

  // The real `cdf build` and `cdf deploy --dry-run`, once each, with the activity that ran them.
  for (const command of ['build', 'diff']) {
    const labels = { ...sdk, activityType: 'buildAndDiff', command, result: 'ok' };
    expect({ command, count: total(samples, `${TOOLKIT_COMMAND_METRIC.name}_count`, labels) }).toEqual({
      command,
      count: 1,
    });
    expect(total(samples, `${TOOLKIT_COMMAND_METRIC.name}_sum`, labels)).toBeGreaterThan(0.1);
  }
  expect(pick(samples, `${TOOLKIT_COMMAND_METRIC.name}_count`, { result: 'failed' })).toEqual([]);

  // The approval notice: refused by the webhook (503), accepted by Slack.
  const notice = { ...sdk, activityType: 'sendNotice', message: 'notice' };
  expect(total(samples, ALERTS_FAILED_METRIC.name, { ...notice, channel_type: 'webhook' })).toBe(1);
  expect(total(samples, ALERTS_SENT_METRIC.name, { ...notice, channel_type: 'slack' })).toBe(1);
  expect(total(samples, ALERTS_SENT_METRIC.name, { ...notice, channel_type: 'webhook' })).toBe(0);
  const failureAlert = { ...sdk, activityType: 'sendAlert', message: 'alert', channel_type: 'slack' };
  expect(pick(samples, ALERTS_FAILED_METRIC.name, failureAlert).map((s) => s.value)).toEqual([0]);

  // The SDK's metrics share the endpoint: every one the dashboard and docs/operations.md use.
  for (const name of SDK_METRICS) {
    const present = samples.some((s) => s.name === name || s.name.startsWith(`${name}_`));
    expect({ name, present }).toEqual({ name, present: true });
  }
  expect(
    pick(samples, 'temporal_worker_task_slots_available', { worker_type: 'ActivityWorker' })[0]?.value,
  ).toBeGreaterThan(0);
});

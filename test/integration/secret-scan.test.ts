/**
 * A credential-bearing webhook URL that fails: its secret parts must appear nowhere a person or another system
 * can read — not in the run's history, its result, the worker's logs, or the alert the other channel receives.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { commitFiles } from '../helpers/git';
import { startStack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal-server';
import { uniqueId } from '../helpers/workflows';

const SECRETS = ['S3cretPassw0rd', 'T0SECRET', 'B0SECRET', 'tokenXYZ123secret'];
const FAILING_URL = `http://ops:${SECRETS[0]}@127.0.0.1:1/services/${SECRETS[1]}/${SECRETS[2]}/${SECRETS[3]}`;

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

test('a failing webhook URL with credentials leaks into no history, result, log or alert', async () => {
  const taskQueue = 'cdf-promotions-secret-scan';
  const stack = await startStack({
    rawConfig: (raw) => ({ ...raw, temporal: { ...raw.temporal, taskQueue } }),
  });
  const workflowId = uniqueId('promotion-prod-secret-scan');
  const logLines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  );
  try {
    stack.secrets.ALERT_WEBHOOK_URL = FAILING_URL;
    const worker = await stack.startWorker(env.nativeConnection, { logger });
    // A commit whose build fails: the run ends as diff_failed and alerts both channels; the webhook fails.
    commitFiles(stack.repo.dir, {
      branch: 'broken',
      from: 'v1',
      files: { 'org/modules/demo_module/data_modeling/broken.Space.yaml': 'space: [unclosed\n' },
      message: 'Broken YAML',
    });
    const handle = await env.client.workflow.start('promotionWorkflow', {
      taskQueue,
      workflowId,
      args: [{ environment: 'prod', ref: 'broken', requestedBy: 'alice' }],
    });
    // The webhook is retried for up to an hour: scan while it is failing, as an operator would look at it.
    const seen = await worker.runUntil(async () => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const described = await handle.describe();
        const pending = described.raw.pendingActivities ?? [];
        const alert = pending.find((p) => p.activityType?.name === 'sendAlert');
        if (alert?.lastFailure && stack.alerts.received.some((a) => a.path === '/slack')) {
          return {
            described: JSON.stringify(described.raw),
            history: JSON.stringify(await handle.fetchHistory()),
          };
        }
        if (Date.now() > deadline) throw new Error(`alert never failed: ${JSON.stringify(pending)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    expect(seen.described).toMatch(/could not be delivered/);
    const haystacks = {
      history: seen.history,
      'pending activity (what the UI shows)': seen.described,
      logs: logLines.join(''),
      slack: JSON.stringify(stack.alerts.received),
    };
    const hits = Object.entries(haystacks).flatMap(([where, text]) =>
      SECRETS.filter((secret) => text.includes(secret)).map((secret) => `${where}: ${secret}`),
    );
    expect(hits).toEqual([]);
    // The failure was seen, in words a person can act on.
    expect(logLines.join('')).toMatch(/alert to webhook could not be delivered/);
  } finally {
    await env.client.workflow
      .getHandle(workflowId)
      .terminate('secret scan done')
      .catch(() => undefined);
    await stack.stop();
  }
}, 180_000);

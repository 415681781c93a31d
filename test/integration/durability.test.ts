/**
 * Durability: the run survives a worker restart (while waiting for approval and in the middle of apply) and a
 * server restart on the same SQLite file.
 */
import { createServer } from 'node:net';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStateQuery, environmentWorkflowId } from '../../contracts/environment-entity';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { startTemporal } from '../helpers/temporal-server';
import { startStack, TASK_QUEUE, type Stack } from '../helpers/stack';
import { recordHistory, uniqueId, waitForPhase } from '../helpers/workflows';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});

afterAll(async () => {
  await stack?.stop();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

const startPromotion = (env: TestWorkflowEnvironment, ref = 'v1') =>
  env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('promotion-prod'),
    args: [{ environment: 'prod', ref, requestedBy: 'alice' }],
  });

test('a new worker finishes a run whose worker stopped while it waited for approval', async () => {
  const env = await startTemporal();
  try {
    await stack.admin.reset();
    const first = await stack.startWorker(env.nativeConnection);
    const handle = await startPromotion(env);
    const waiting = await first.runUntil(waitForPhase(handle, 'awaiting_approval'));
    // first has shut down here; nothing polls the queue until the second worker starts.
    const second = await stack.startWorker(env.nativeConnection);
    await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
    const result: PromotionResult = await second.runUntil(handle.result());
    expect(result.outcome).toBe('succeeded');
  } finally {
    await env.teardown();
  }
});

test('a new worker finishes a run whose worker stopped in the middle of apply', async () => {
  const env = await startTemporal();
  try {
    await stack.admin.reset();
    const first = await stack.startWorker(env.nativeConnection);
    const handle = await startPromotion(env);
    const firstRun = first.run();
    const waiting = await waitForPhase(handle, 'awaiting_approval');
    // The view upsert hangs for a while, so the first worker is surely mid-apply when it stops.
    await stack.admin.addFault({
      method: 'POST',
      pathPattern: '^/models/views$',
      latencyMs: 20_000,
      count: 1,
    });
    await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
    await waitForPhase(handle, 'applying');
    const deadline = Date.now() + 30_000;
    // Containers are created before views: once they are, the view upsert is the one hanging.
    while (
      !(await stack.admin.requests()).some((r) => r.method === 'POST' && /\/models\/containers$/.test(r.path))
    ) {
      if (Date.now() > deadline) throw new Error('apply never reached the containers step');
      await new Promise((r) => setTimeout(r, 200));
    }
    first.shutdown();
    await firstRun;

    const second = await stack.startWorker(env.nativeConnection);
    const result: PromotionResult = await second.runUntil(handle.result());
    expect(result.outcome).toBe('succeeded');
    const history = await handle.fetchHistory();
    const retried = history.events?.some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 0) > 1);
    expect(retried).toBe(true);
    await recordHistory(handle, 'promotion-worker-restart-during-apply');
  } finally {
    await stack.admin.clearFaults();
    await env.teardown();
  }
});

test('an approval sent after a server restart (same SQLite file) completes the run; the queue keeps its order', async () => {
  const dbFilename = path.join(stack.dir, 'temporal.db');
  const port = await freePort();
  let env = await startTemporal({ dbFilename, port });
  await stack.admin.reset();
  const worker = await stack.startWorker(env.nativeConnection);
  const handle = await startPromotion(env);
  const workflowId = handle.workflowId;
  const { waiting, queued } = await worker.runUntil(async () => {
    const awaiting = await waitForPhase(handle, 'awaiting_approval');
    // Two more wait for prod behind it, in this order (each queued before the next starts).
    const behind = [];
    for (const ref of ['v2', 'v1']) {
      const q = await startPromotion(env, ref);
      await waitForPhase(q, 'queued');
      behind.push(q);
    }
    return { waiting: awaiting, queued: behind };
  });
  await env.teardown();

  env = await startTemporal({ dbFilename, port });
  try {
    const restored = env.client.workflow.getHandle(workflowId);
    // A query needs a worker; start one and check the state came back from disk.
    const worker2 = await stack.startWorker(env.nativeConnection);
    const result: PromotionResult = await worker2.runUntil(async () => {
      const status = await waitForPhase(restored, 'awaiting_approval');
      expect(status.planHash).toBe(waiting.planHash);
      const entity = env.client.workflow.getHandle(environmentWorkflowId('prod', TASK_QUEUE));
      const state = await entity.query(environmentStateQuery);
      expect(state.holder?.workflowId).toBe(workflowId);
      expect(state.queue.map((q) => q.workflowId)).toEqual(queued.map((q) => q.workflowId));
      for (const q of queued) {
        await env.client.workflow.getHandle(q.workflowId).cancel();
        await env.client.workflow
          .getHandle(q.workflowId)
          .result()
          .catch(() => undefined);
      }
      await restored.signal(approveSignal, { approver: 'carol', planHash: waiting.planHash });
      return restored.result();
    });
    expect(result.outcome).toBe('succeeded');
    expect(result.approvals.map((a) => a.approver)).toEqual(['carol']);
  } finally {
    await env.teardown();
  }
});

/**
 * Decisions as Workflow Updates, against a real dev server (activities mocked, so only the workflow and the
 * server are under test): every refusal comes back to the caller at once and leaves no event in history; the
 * signals of the same names follow the same rules with a bounded record; a flood of refused signals and
 * oversized payloads cannot keep a valid approval from completing the run; a retried update counts once; the
 * cancel update checks who asks.
 */
import { Client, Connection, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import {
  approveSignal,
  approveUpdate,
  cancelUpdate,
  rejectSignal,
  rejectUpdate,
  statusQuery,
} from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { mockActivities, OTHER_PLAN_HASH, PLAN_HASH, policyFor } from '../helpers/mock-activities';
import { startTemporal } from '../helpers/temporal-server';
import { startPromotion, withWorker } from '../helpers/time-skipping';
import { recordHistory, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

async function updateEvents(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name)
    .filter((n): n is string => typeof n === 'string');
}

async function refusedUpdate(call: Promise<unknown>): Promise<string> {
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return (err as WorkflowUpdateFailedError).cause?.message ?? '';
}

test('every refusal rule through the update: the caller hears why, history records nothing', async () => {
  const mock = mockActivities({}, { policy: policyFor('prod', { requiredApprovals: 2 }) });
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    const refusals: Array<[() => Promise<unknown>, RegExp]> = [
      [
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'mallory' }] }),
        /mallory is not an approver/,
      ],
      [() => handle.executeUpdate(approveUpdate, { args: [{ approver: 'Alice' }] }), /is not an approver/],
      [
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: OTHER_PLAN_HASH }] }),
        /stale plan/,
      ],
      [
        () => handle.executeUpdate(approveUpdate, { args: [{ approver: 'b\u200bob' }] }),
        /invalid approve payload/,
      ],
      [() => handle.executeUpdate(rejectUpdate, { args: [{ approver: 'mallory' }] }), /may not reject/],
      [() => handle.executeUpdate(cancelUpdate, { args: [{ by: 'mallory' }] }), /may not cancel/],
    ];
    for (const [call, why] of refusals) expect(await refusedUpdate(call())).toMatch(why);

    const first = await handle.executeUpdate(approveUpdate, {
      args: [{ approver: 'BOB', planHash: PLAN_HASH }],
      updateId: 'approve:bob',
    });
    expect(first).toMatchObject({ decision: 'approve', by: 'bob', approvals: 1, requiredApprovals: 2 });
    // The same update id again is the same decision: answered with the first result, not counted twice.
    const retried = await handle.executeUpdate(approveUpdate, {
      args: [{ approver: 'bob', planHash: PLAN_HASH }],
      updateId: 'approve:bob',
    });
    expect(retried).toEqual(first);
    // A new decision by the same person is a duplicate.
    expect(await refusedUpdate(handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }))).toMatch(
      /bob has already approved/,
    );
    const status = await handle.query(statusQuery);
    expect(status.approvals).toHaveLength(1);
    expect(status.refusedApprovals).toEqual([]);
    expect(await updateEvents(handle)).toEqual(['approve']);

    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol' }] });
    const result = await handle.result();
    expect(result.outcome).toBe('succeeded');
    await recordHistory(handle, 'promotion-approved-by-updates');
    // A closed run takes no more decisions.
    await expect(handle.executeUpdate(approveUpdate, { args: [{ approver: 'dave' }] })).rejects.toThrow();
    expect(mock.calls.applyPlan).toHaveLength(1);
  });
});

test('signals follow the same rules, and what they record is bounded', async () => {
  const mock = mockActivities({});
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    for (let i = 0; i < 30; i++) await handle.signal(approveSignal, { approver: `mallory${i}` });
    await handle.signal(rejectSignal, { approver: 'eve' });
    await handle.signal(approveSignal, { approver: 'alice' } as never);
    let status = await handle.query(statusQuery);
    for (let i = 0; i < 50 && (status.refusedCount ?? 0) < 32; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await handle.query(statusQuery);
    }
    expect(status.refusedCount).toBe(32);
    expect(status.refusedApprovals).toHaveLength(20);
    expect(status.refusedApprovals[19]).toMatchObject({ approver: 'alice', reason: 'not_an_approver' });
    expect(status.refusedByReason).toEqual({ not_an_approver: 31, may_not_decide: 1 });
    await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
    const result: PromotionResult = await handle.result();
    expect(result).toMatchObject({ outcome: 'succeeded', refusedCount: 32 });
    await recordHistory(handle, 'promotion-refused-signals-bounded');
  });
});

test('10,000 refused signals and two 1.5 MB payloads cannot stop a valid approval from completing the run', async () => {
  const mock = mockActivities({});
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    const huge = 'x'.repeat(1_500_000);
    await handle.signal(approveSignal, { approver: huge } as never);
    await handle.signal(rejectSignal, { approver: 'mallory', reason: huge } as never);
    const flood = Array.from({ length: 10_000 }, (_, i) => i);
    let sent = 0;
    let refusedByServer = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = flood.pop(); i !== undefined; i = flood.pop()) {
          await handle.signal(approveSignal, { approver: `spam${i}` }).then(
            () => sent++,
            () => refusedByServer++,
          );
        }
      }),
    );
    expect(sent + refusedByServer).toBe(10_000);
    // No workflow task was failed to flush the signals buffered meanwhile (the server's buffer is sized for this,
    // config/temporal-server-settings.ts): each failure replayed the run, and the signals of failed tasks replayed
    // together as one activation too long for the SDK, which crashed the worker's workflow thread.
    // (Through a connection that takes large messages: the two 1.5 MB payloads are in the history.)
    const large = await Connection.connect({
      address: env.address,
      channelArgs: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 },
    });
    const history = await new Client({ connection: large }).workflow
      .getHandle(handle.workflowId)
      .fetchHistory();
    await large.close();
    const failedTasks = (history.events ?? []).filter(
      (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    );
    expect(failedTasks).toEqual([]);
    // The query still answers, and stays small.
    const status = await handle.query(statusQuery);
    expect(JSON.stringify(status).length).toBeLessThan(20_000);
    expect(status.refusedApprovals.length).toBeLessThanOrEqual(20);

    const decision = await handle.executeUpdate(approveUpdate, {
      args: [{ approver: 'bob', planHash: PLAN_HASH }],
    });
    expect(decision).toMatchObject({ decision: 'approve', by: 'bob' });
    const result: PromotionResult = await handle.result();
    expect(result.outcome).toBe('succeeded');
    expect(JSON.stringify(result).length).toBeLessThan(20_000);
    expect(mock.calls.applyPlan).toHaveLength(1);
  });
}, 300_000);

test('the cancel update: the requester cancels a waiting run; it ends as cancelled, saying by whom', async () => {
  const mock = mockActivities({});
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    const decision = await handle.executeUpdate(cancelUpdate, {
      args: [{ by: 'alice', reason: 'wrong tag' }],
    });
    expect(decision).toMatchObject({ decision: 'cancel', by: 'alice' });
    const result: PromotionResult = await handle.result();
    expect(result.outcome).toBe('cancelled');
    expect(result.failure).toBe('cancelled during awaiting_approval by alice: wrong tag');
    expect(result.cancelledBy).toMatchObject({ approver: 'alice', reason: 'wrong tag' });
    expect(mock.calls.applyPlan).toHaveLength(0);
    expect(mock.calls.cleanupRun).toHaveLength(1);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
    await recordHistory(handle, 'promotion-cancelled-by-update');
  });
});

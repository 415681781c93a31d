/**
 * A run's side of the environment entity, on the real workflows with mocked activities (time-skipping server):
 * it waits in the queue until granted, ends as cancelled when superseded, and releases the environment with its
 * ledger record whatever way it ends.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentGrantedSignal, supersededSignal } from '../../contracts/environment-entity';
import { ErrorType } from '../../contracts/errors';
import { approveUpdate } from '../../contracts/messages';
import { PLAN_HASH, mockActivities } from '../helpers/mock-activities';
import { startPromotion, startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkipping();
});

afterAll(() => env?.teardown());

test('a queued run shows its place, waits without checking out, and goes on when granted', async () => {
  const mock = mockActivities({
    async acquireEnvironment() {
      return { granted: false, position: 2, holder: undefined };
    },
  });
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    const queued = await waitForPhase(handle, 'queued');
    expect(queued.queue).toEqual({ position: 2 });
    expect(mock.calls.prepareCheckout).toHaveLength(0);
    await handle.signal(environmentGrantedSignal, { environment: 'prod' });
    const waiting = await waitForPhase(handle, 'awaiting_approval');
    expect(waiting.queue).toBeUndefined();
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: PLAN_HASH }] });
    expect((await handle.result()).outcome).toBe('succeeded');
    expect(mock.calls.beginApply).toHaveLength(1);
  });
});

test('superseded while awaiting approval: cancelled, nothing applied, no alert', async () => {
  const mock = mockActivities();
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    await handle.signal(supersededSignal, { by: 'promotion-prod-newer' });
    const result = await handle.result();
    expect(result.outcome).toBe('cancelled');
    expect(result.failure).toBe('cancelled during awaiting_approval (superseded by promotion-prod-newer)');
    expect(mock.calls.applyPlan).toHaveLength(0);
    expect(mock.calls.sendAlert).toHaveLength(0);
  });
});

test('superseded between approval and apply (beginApply refused): cancelled, nothing applied', async () => {
  const mock = mockActivities({
    async beginApply() {
      throw ApplicationFailure.create({
        type: ErrorType.Superseded,
        message: 'promotion-prod-1 no longer holds prod: promotion-prod-2 superseded it',
        nonRetryable: true,
      });
    },
  });
  await withWorker(env, mock.activities, async (taskQueue) => {
    const handle = await startPromotion(env, taskQueue);
    await waitForPhase(handle, 'awaiting_approval');
    await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: PLAN_HASH }] });
    const result = await handle.result();
    expect(result.outcome).toBe('cancelled');
    expect(result.failure).toMatch(/superseded it/);
    expect(mock.calls.applyPlan).toHaveLength(0);
  });
});

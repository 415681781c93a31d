/**
 * Promotion scenarios against a real dev server, the fake CDF over HTTP, a real git repository and the
 * Toolkit stand-in: happy path, reject, expiry, stale plan, refused approvers, no changes.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { approveSignal, rejectSignal } from '../../contracts/messages';
import type { PromotionInput, PromotionResult } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { approvalNotices, failureAlerts, startStack, TASK_QUEUE, type Stack } from '../helpers/stack';
import { recordHistory, uniqueId, waitForPhase, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    prod: { approval: { timeout: '1h', approvers: ['alice', 'bob', 'carol'] } },
  });
  ({ env, stack } = harness);
});

afterAll(() => harness?.stop());

const start = (input: Partial<PromotionInput> = {}, id = uniqueId('promotion-prod')) =>
  env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: id,
    args: [{ environment: 'prod', ref: 'main', requestedBy: 'alice', reason: 'test', ...input }],
  });

function viewOf(state: Awaited<ReturnType<Stack['admin']['state']>>): Record<string, unknown> | undefined {
  return Object.values((state as { views: Record<string, Record<string, unknown>> }).views).find(
    (v) => v.externalId === 'Pump',
  );
}

describe('promotion workflow', () => {
  test('happy path: diff, approve, apply, smoke; the fake CDF then holds the commit', async () => {
    const handle = await start({ ref: 'v2' });
    const waiting = await waitForPhase(handle, 'awaiting_approval');
    expect(waiting.commit).toBe(stack.repo.second);
    expect(waiting.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(waiting.planSummary?.empty).toBe(false);
    expect(waiting.planSummary?.totals.create).toBeGreaterThanOrEqual(7);
    expect(waiting.planSummary?.resources.map((r) => r.resource)).toEqual(
      expect.arrayContaining(['spaces', 'containers', 'views', 'data models', 'transformations', 'assets']),
    );
    // Nothing is applied before the approval.
    expect(viewOf(await stack.admin.state('demo-prod'))).toBeUndefined();

    await handle.signal(approveSignal, {
      approver: 'bob',
      planHash: waiting.planHash,
      comment: 'looks right',
    });
    const result: PromotionResult = await handle.result();
    expect(result.outcome).toBe('succeeded');
    expect(result.commit).toBe(stack.repo.second);
    expect(result.approvals).toEqual([expect.objectContaining({ approver: 'bob', comment: 'looks right' })]);
    expect(result.smokeResults.length).toBe(3);
    expect(result.smokeResults.every((r) => r.passed)).toBe(true);
    expect(result.timings.map((t) => t.step)).toEqual([
      'preparing',
      'diffing',
      'awaiting_approval',
      'applying',
      'smoke_testing',
    ]);

    const state = await stack.admin.state('demo-prod');
    expect(viewOf(state)?.description).toBe('A pump in a pumping station, with its rated flow in m3/h');
    const pump = Object.values(state.assets).find((a) => a.externalId === 'pump_1');
    expect(pump?.name).toBe('Pump 1');
    expect(pump?.description).toBe('Main feed pump, replaced 2026-11');
    const tr = Object.values(state.transformations).find((t) => t.externalId === 'pump_tr');
    expect(String(tr?.query)).toContain('flow_m3h');
    expect(failureAlerts(stack.alerts.received)).toHaveLength(0);
    // The approvers were told the plan was ready, on both channels, with the plan hash and the command.
    const notices = approvalNotices(stack.alerts.received);
    expect(notices.map((n) => n.path).sort()).toEqual(['/slack', '/webhook']);
    expect(notices.find((n) => n.path === '/webhook')?.body).toMatchObject({
      event: 'cdf-promotion.needs-approval',
      planHash: waiting.planHash,
      commands: expect.objectContaining({
        approve: expect.stringContaining(
          `approve ${handle.workflowId} --approver <you> --plan-hash ${waiting.planHash}`,
        ),
      }),
    });
    await recordHistory(handle, 'promotion-succeeded');

    // The same commit again has nothing to do.
    const again = await start({ ref: stack.repo.second });
    const second: PromotionResult = await again.result();
    expect(second.outcome).toBe('no_changes');
    expect(second.planSummary?.totals.unchanged).toBeGreaterThanOrEqual(7);
    await recordHistory(again, 'promotion-no-changes');
  });

  test('reject ends the run as rejected and applies nothing', async () => {
    const before = await stack.admin.state('demo-prod');
    const handle = await start({ ref: 'v1' });
    await waitForPhase(handle, 'awaiting_approval');
    await handle.signal(rejectSignal, { approver: 'carol', reason: 'not during the freeze' });
    const result: PromotionResult = await handle.result();
    expect(result.outcome).toBe('rejected');
    expect(result.rejections).toEqual([
      expect.objectContaining({ approver: 'carol', reason: 'not during the freeze' }),
    ]);
    expect(result.failure).toContain('not during the freeze');
    expect(await stack.admin.state('demo-prod')).toEqual(before);
    await recordHistory(handle, 'promotion-rejected');
  });

  test('approvals from non-approvers, the requester and stale plans are refused and recorded', async () => {
    const handle = await start({ ref: 'v1' });
    const waiting = await waitForPhase(handle, 'awaiting_approval');
    await handle.signal(approveSignal, { approver: 'mallory' });
    await handle.signal(approveSignal, { approver: 'alice' });
    await handle.signal(approveSignal, { approver: 'bob', planHash: 'f'.repeat(64) });
    await handle.signal(approveSignal, { approver: 'bob', planHash: 'not-a-hash' } as never);
    const status = await waitForStatus(handle, (s) => s.refusedApprovals.length === 4);
    expect(status.phase).toBe('awaiting_approval');
    expect(status.approvals).toHaveLength(0);
    const why = status.refusedApprovals.map((r) => r.why);
    expect(why[0]).toMatch(/mallory is not an approver/);
    expect(why[1]).toMatch(/cannot approve their own/);
    expect(why[2]).toMatch(/stale plan/);
    expect(why[3]).toMatch(/invalid approve payload: planHash/);

    await handle.signal(approveSignal, { approver: 'carol', planHash: waiting.planHash });
    const result: PromotionResult = await handle.result();
    expect(result.outcome).toBe('succeeded');
    expect(result.refusedApprovals).toHaveLength(4);
    await recordHistory(handle, 'promotion-refused-approvals');
  });

  test('bad input fails the run with a typed, non-retryable error before any side effect', async () => {
    const requestsBefore = (await stack.admin.requests()).length;
    const bad = await start({ ref: '--upload-pack=evil' });
    const err = await bad.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(err.cause.type).toBe('InvalidInput');
    expect(err.cause.nonRetryable).toBe(true);
    expect(err.cause.message).toMatch(/ref: /);

    const unknown = await start({ environment: 'staging' });
    const err2 = await unknown.result().catch((e) => e);
    expect(err2.cause.type).toBe('InvalidInput');
    expect(err2.cause.message).toMatch(/unknown environment "staging"/);

    const missingRef = await start({ ref: 'no-such-branch' });
    const err3 = await missingRef.result().catch((e) => e);
    expect(err3.cause.type).toBe('InvalidInput');
    expect(err3.cause.message).toMatch(/does not name a commit/);
    expect((await stack.admin.requests()).length).toBe(requestsBefore);
  });
});

describe('approval expiry', () => {
  test('no decision within the timeout ends the run as expired; nothing is applied', async () => {
    const taskQueue = 'cdf-promotions-expiry';
    const expiring = await startStack({
      prod: { approval: { timeout: '3s', approvers: ['bob', 'carol'] } },
      rawConfig: (raw) => ({ ...raw, temporal: { ...raw.temporal, taskQueue } }),
    });
    try {
      const w = await expiring.startWorker(env.nativeConnection);
      const handle = await env.client.workflow.start('promotionWorkflow', {
        taskQueue,
        workflowId: uniqueId('promotion-prod-expiry'),
        args: [{ environment: 'prod', ref: 'v1', requestedBy: 'alice' }],
      });
      const result: PromotionResult = await w.runUntil(handle.result());
      expect(result.outcome).toBe('expired');
      expect(result.approvals).toHaveLength(0);
      expect(result.timings.map((t) => t.step)).toEqual(['preparing', 'diffing', 'awaiting_approval']);
      const state = await expiring.admin.state('demo-prod');
      expect(Object.keys(state.views)).toHaveLength(0);
      expect(Object.keys(state.assets)).toHaveLength(0);
      expect(failureAlerts(expiring.alerts.received)).toHaveLength(0);
      await recordHistory(handle, 'promotion-expired');
    } finally {
      await expiring.stop();
    }
  });
});

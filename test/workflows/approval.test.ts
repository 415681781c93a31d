/**
 * Approval rules of the real promotion workflow, with mocked activities on the time-skipping test server:
 * quorum, duplicate and non-approvers, the requester withdrawing, self-approval, stale plans and expiry.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveSignal, rejectSignal } from '../../contracts/messages';
import {
  OTHER_PLAN_HASH,
  PLAN_HASH,
  blockUntil,
  diffResult,
  gate,
  mockActivities,
  toolkitFailed,
  until,
  type MockedActivities,
} from '../helpers/mock-activities';
import { startPromotion, startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { waitForPhase, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkipping();
});

afterAll(() => env?.teardown());

const HOUR = 60 * 60 * 1000;

/** The activities of a run that applied and passed its smoke checks, without any alert. */
function expectAppliedWithoutAlert(mock: MockedActivities): void {
  expect(mock.calls.applyPlan).toEqual([
    expect.objectContaining({ environment: 'prod', planHash: PLAN_HASH }),
  ]);
  expect(mock.calls.runSmokeChecks).toHaveLength(1);
  expect(mock.calls.sendAlert).toHaveLength(0);
  expect(mock.calls.cleanupRun).toHaveLength(1);
}

describe('approval rules', () => {
  test('quorum of two: one approval keeps the run waiting, a second approver applies it', async () => {
    const mock = mockActivities({}, { policy: { requiredApprovals: 2 } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      expect(waiting.requiredApprovals).toBe(2);
      expect(waiting.planHash).toBe(PLAN_HASH);

      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH, comment: 'lgtm' });
      await waitForStatus(handle, (s) => s.approvals.length === 1);
      // An hour of workflow time later (half the approval timeout) it still waits for the second approval.
      await env.sleep('1 hour');
      const oneApproval = await waitForStatus(handle, () => true);
      expect(oneApproval.phase).toBe('awaiting_approval');
      expect(oneApproval.approvals).toEqual([expect.objectContaining({ approver: 'bob', comment: 'lgtm' })]);
      expect(oneApproval.refusedApprovals).toEqual([]);
      expect(mock.calls.applyPlan).toHaveLength(0);

      await handle.signal(approveSignal, { approver: 'carol', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['bob', 'carol']);
      expect(
        Date.parse(result.approvals[1]!.at) - Date.parse(result.approvals[0]!.at),
      ).toBeGreaterThanOrEqual(HOUR);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('the same approver twice counts once and the second attempt is refused', async () => {
    const mock = mockActivities({}, { policy: { requiredApprovals: 2 } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH, comment: 'again' });
      const status = await waitForStatus(handle, (s) => s.refusedApprovals.length === 1);
      expect(status.phase).toBe('awaiting_approval');
      expect(status.approvals.map((a) => a.approver)).toEqual(['bob']);
      expect(status.refusedApprovals).toEqual([
        expect.objectContaining({ approver: 'bob', why: expect.stringMatching(/already approved/) }),
      ]);
      expect(mock.calls.applyPlan).toHaveLength(0);

      await handle.signal(approveSignal, { approver: 'dave', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['bob', 'dave']);
      expect(result.refusedApprovals).toHaveLength(1);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('a non-approver can neither approve nor reject', async () => {
    const mock = mockActivities();
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'mallory', planHash: PLAN_HASH });
      await handle.signal(rejectSignal, { approver: 'mallory', reason: 'because' });
      const status = await waitForStatus(handle, (s) => s.refusedApprovals.length === 2);
      expect(status.phase).toBe('awaiting_approval');
      expect(status.approvals).toEqual([]);
      expect(status.rejections).toEqual([]);
      expect(status.refusedApprovals.map((r) => r.why)).toEqual([
        expect.stringMatching(/mallory is not an approver/),
        expect.stringMatching(/mallory may not reject/),
      ]);

      await handle.signal(approveSignal, { approver: 'carol', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['carol']);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('the requester may withdraw: rejected, nothing applied', async () => {
    const mock = mockActivities();
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue, { requestedBy: 'alice' });
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(rejectSignal, { approver: 'alice', reason: 'wrong branch' });
      const result = await handle.result();
      expect(result.outcome).toBe('rejected');
      expect(result.rejections).toEqual([
        expect.objectContaining({ approver: 'alice', reason: 'wrong branch' }),
      ]);
      expect(result.failure).toBe('rejected by alice: wrong branch');
      expect(result.refusedApprovals).toEqual([]);
      expect(mock.calls.applyPlan).toHaveLength(0);
      expect(mock.calls.runSmokeChecks).toHaveLength(0);
      expect(mock.calls.sendAlert).toHaveLength(0);
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });

  test('a requester who is an approver cannot approve their own promotion when self-approval is off', async () => {
    const mock = mockActivities({}, { policy: { allowSelfApproval: false } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue, { requestedBy: 'bob' });
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      const status = await waitForStatus(handle, (s) => s.refusedApprovals.length === 1);
      expect(status.phase).toBe('awaiting_approval');
      expect(status.approvals).toEqual([]);
      expect(status.refusedApprovals[0]?.why).toMatch(/cannot approve their own/);
      expect(mock.calls.applyPlan).toHaveLength(0);

      await handle.signal(approveSignal, { approver: 'carol', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['carol']);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('self-approval counts when the environment allows it', async () => {
    const mock = mockActivities({}, { policy: { allowSelfApproval: true } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue, { requestedBy: 'bob' });
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['bob']);
      expect(result.refusedApprovals).toEqual([]);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('an approval of a stale plan hash is refused; the current hash is accepted', async () => {
    const mock = mockActivities();
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: OTHER_PLAN_HASH });
      const status = await waitForStatus(handle, (s) => s.refusedApprovals.length === 1);
      expect(status.phase).toBe('awaiting_approval');
      expect(status.approvals).toEqual([]);
      expect(status.refusedApprovals[0]?.why).toMatch(/stale plan/);
      expect(status.refusedApprovals[0]?.why).toContain(OTHER_PLAN_HASH);
      expect(status.refusedApprovals[0]?.why).toContain(PLAN_HASH);

      // The same approver, now with the plan they were shown.
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['bob']);
      expect(result.refusedApprovals).toHaveLength(1);
      expectAppliedWithoutAlert(mock);
    });
  });

  test('no decision within the approval timeout: expired at once, and a later approval cannot apply', async () => {
    const mock = mockActivities({}, { policy: { approvalTimeoutMs: 2 * HOUR } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      const awaitingSince = Date.parse(
        waiting.timings.find((t) => t.step === 'awaiting_approval')!.startedAt,
      );
      expect(Date.parse(waiting.approvalDeadline!) - awaitingSince).toBe(2 * HOUR);

      const realStart = Date.now();
      const result = await handle.result(); // the test server skips the two hours
      expect(Date.now() - realStart).toBeLessThan(10_000);
      expect(result.outcome).toBe('expired');
      expect(result.failure).toBe(`no decision within ${2 * HOUR} ms`);
      const waited = result.timings.find((t) => t.step === 'awaiting_approval');
      expect(waited?.durationMs).toBeGreaterThanOrEqual(2 * HOUR);
      expect(result.approvals).toEqual([]);
      expect(mock.calls.sendAlert).toHaveLength(0);
      expect(mock.calls.cleanupRun).toHaveLength(1);

      await expect(
        handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH }),
      ).rejects.toBeInstanceOf(WorkflowNotFoundError);
      expect(mock.calls.applyPlan).toHaveLength(0);
    });
  });

  test('an approval sent before the plan is ready is refused and does not count', async () => {
    const diffReleased = gate();
    const mock = mockActivities({
      buildAndDiff: async (req) => {
        await blockUntil(diffReleased.promise);
        return diffResult(req.environment);
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await until(() => mock.calls.buildAndDiff.length === 1, 'the diff has started');
      await handle.signal(approveSignal, { approver: 'bob' });
      const early = await waitForStatus(handle, (s) => s.refusedApprovals.length === 1);
      expect(early.phase).toBe('diffing');
      expect(early.refusedApprovals[0]?.why).toMatch(/not awaiting approval \(phase is diffing\)/);

      diffReleased.open();
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      expect(waiting.approvals).toEqual([]);
      expect(mock.calls.applyPlan).toHaveLength(0);

      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.approvals.map((a) => a.approver)).toEqual(['bob']);
      expect(result.refusedApprovals).toHaveLength(1);
      expectAppliedWithoutAlert(mock);
    });
  });
});

describe('notices to the approvers', () => {
  test('a ready plan is announced with its hash and who may approve; reminders follow until a decision', async () => {
    const mock = mockActivities({}, { policy: { remindEveryMs: 30 * 60_000, requiredApprovals: 2 } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue, { requestedBy: 'bob' });
      await waitForPhase(handle, 'awaiting_approval');
      // Skipping 65 minutes of workflow time gives two reminders (at 30 and 60 minutes).
      await env.sleep('65 minutes');
      await handle.signal(approveSignal, { approver: 'carol', planHash: PLAN_HASH });
      await waitForStatus(handle, (s) => s.approvals.length === 1);
      // 40 more minutes (105 of the 120-minute timeout): one more reminder, at 90 minutes.
      await env.sleep('40 minutes');
      await handle.signal(approveSignal, { approver: 'dave', planHash: PLAN_HASH });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      const notices = mock.calls.sendNotice;
      expect(notices[0]).toMatchObject({
        notice: 'needs_approval',
        planHash: PLAN_HASH,
        requestedBy: 'bob',
        approvals: 0,
        requiredApprovals: 2,
        // The requester cannot approve their own run, so the notice does not ask them to.
        waitingFor: ['carol', 'dave'],
      });
      const reminders = notices.filter((n) => n.notice === 'reminder');
      expect(reminders).toHaveLength(3);
      // After carol's approval the reminders ask only dave.
      expect(reminders[reminders.length - 1]).toMatchObject({ approvals: 1, waitingFor: ['dave'] });
    });
  });

  test('no notice when nothing needs approval, and no reminders unless configured', async () => {
    const quiet = mockActivities({}, { policy: { approvalRequired: false } });
    await withWorker(env, quiet.activities, async (taskQueue) => {
      expect((await (await startPromotion(env, taskQueue)).result()).outcome).toBe('succeeded');
    });
    expect(quiet.calls.sendNotice).toEqual([]);

    const once = mockActivities({});
    await withWorker(env, once.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await waitForPhase(handle, 'awaiting_approval');
      await env.sleep('90 minutes');
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      expect((await handle.result()).outcome).toBe('succeeded');
    });
    expect(once.calls.sendNotice.map((n) => n.notice)).toEqual(['needs_approval']);
  });

  test('a notice that cannot be delivered does not hold up or fail the run', async () => {
    const mock = mockActivities({
      sendNotice: async () => {
        throw toolkitFailed('alert to slack answered HTTP 400');
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await waitForPhase(handle, 'awaiting_approval');
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      expect((await handle.result()).outcome).toBe('succeeded');
    });
  });
});

describe('quorum per named group', () => {
  test('two approvals from one group wait for the other group; its approval applies the plan', async () => {
    const mock = mockActivities(
      {},
      {
        policy: {
          requiredApprovals: 2,
          groups: { 'release-managers': ['bob', 'carol'], 'data-platform': ['dave'] },
          requiredFromGroups: { 'release-managers': 1, 'data-platform': 1 },
        },
      },
    );
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      expect(waiting.approvalsMissingFrom).toEqual(['release-managers: 1 more', 'data-platform: 1 more']);
      await handle.signal(approveSignal, { approver: 'bob', planHash: PLAN_HASH });
      await handle.signal(approveSignal, { approver: 'carol', planHash: PLAN_HASH });
      const two = await waitForStatus(handle, (s) => s.approvals.length === 2);
      expect(two.phase).toBe('awaiting_approval');
      expect(two.approvalsMissingFrom).toEqual(['data-platform: 1 more']);
      expect(mock.calls.applyPlan).toHaveLength(0);
      await handle.signal(approveSignal, { approver: 'dave', planHash: PLAN_HASH });
      expect((await handle.result()).outcome).toBe('succeeded');
    });
  });
});

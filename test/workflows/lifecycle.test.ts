/**
 * The pipeline's outcomes with mocked activities on the time-skipping test server: rollbacks without approval,
 * cancellation in every phase, failures that alert, retries and an empty plan.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveSignal } from '../../contracts/messages';
import type { Phase, PromotionResult, SmokeCheckResult } from '../../contracts/types';
import {
  COMMIT,
  PLAN_HASH,
  blockUntilCancelled,
  emptyPlanSummary,
  mockActivities,
  passingSmokeChecks,
  planSummary,
  toolkitFailed,
  until,
  type ActivityName,
  type MockedActivities,
  type PromotionActivities,
} from '../helpers/mock-activities';
import { startPromotion, startRollback, startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { waitForPhase, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await startTimeSkipping();
});

afterAll(() => env?.teardown());

const ROLLBACK_COMMIT = '0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';

async function approve(handle: WorkflowHandle): Promise<void> {
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
}

const steps = (result: PromotionResult): Phase[] => result.timings.map((t) => t.step);

function expectOneAlert(
  mock: MockedActivities,
  result: PromotionResult,
  outcome: PromotionResult['outcome'],
) {
  expect(mock.calls.sendAlert).toEqual([
    expect.objectContaining({
      kind: result.kind,
      environment: 'prod',
      outcome,
      failure: result.failure,
      requestedBy: 'alice',
    }),
  ]);
  expect(result.alertsSent).toBe(1);
  expect(result.alertFailure).toBeUndefined();
  expect(steps(result)).toContain('alerting');
}

describe('rollbacks', () => {
  test('a rollback whose environment does not require approval goes straight to apply', async () => {
    const mock = mockActivities({}, { policy: { approvalRequired: false } });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startRollback(env, taskQueue, {
        environment: 'prod',
        commit: ROLLBACK_COMMIT,
        requestedBy: 'alice',
        reason: 'v2 broke the pump view',
      });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.kind).toBe('rollback');
      expect(result.ref).toBe(ROLLBACK_COMMIT);
      expect(result.commit).toBe(ROLLBACK_COMMIT);
      expect(result.approvals).toEqual([]);
      expect(steps(result)).toEqual(['preparing', 'diffing', 'applying', 'smoke_testing']);
      expect(mock.order).toEqual([
        'resolveEnvironment',
        'prepareCheckout',
        'buildAndDiff',
        'applyPlan',
        'runSmokeChecks',
        'cleanupRun',
      ]);
      expect(mock.calls.resolveEnvironment).toEqual([{ environment: 'prod', kind: 'rollback' }]);
      expect(mock.calls.prepareCheckout).toEqual([
        expect.objectContaining({ ref: ROLLBACK_COMMIT, kind: 'rollback' }),
      ]);
      expect(mock.calls.applyPlan).toEqual([
        expect.objectContaining({ commit: ROLLBACK_COMMIT, planHash: PLAN_HASH, kind: 'rollback' }),
      ]);
    });
  });

  test('a rollback that removes leftovers removes them after the apply', async () => {
    const leftovers = {
      fromCommit: COMMIT,
      resources: [{ kind: 'views', id: 'demo:PumpV2' }],
      existing: 1,
      action: 'remove' as const,
    };
    const mock = mockActivities(
      {},
      { policy: { approvalRequired: false, removeLeftovers: true }, planSummary: planSummary({ leftovers }) },
    );
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startRollback(env, taskQueue, {
        environment: 'prod',
        commit: ROLLBACK_COMMIT,
        requestedBy: 'alice',
      });
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.leftovers).toEqual(expect.objectContaining({ ...leftovers, result: 'removed' }));
      expect(mock.calls.buildAndDiff).toEqual([expect.objectContaining({ removeLeftovers: true })]);
      expect(mock.order.slice(3, 6)).toEqual(['applyPlan', 'removeLeftovers', 'runSmokeChecks']);
    });
  });
});

type Blockable = 'prepareCheckout' | 'buildAndDiff' | 'applyPlan' | 'runSmokeChecks';
const PIPELINE: Blockable[] = ['prepareCheckout', 'buildAndDiff', 'applyPlan', 'runSmokeChecks'];

describe('cancellation', () => {
  const cases: { phase: Phase; blocked?: Blockable; alerts: boolean }[] = [
    { phase: 'preparing', blocked: 'prepareCheckout', alerts: false },
    { phase: 'diffing', blocked: 'buildAndDiff', alerts: false },
    { phase: 'awaiting_approval', alerts: false },
    { phase: 'applying', blocked: 'applyPlan', alerts: true },
    { phase: 'smoke_testing', blocked: 'runSmokeChecks', alerts: true },
  ];

  test.each(cases)(
    'cancelled while $phase: outcome cancelled, cleaned up, alert sent: $alerts',
    async ({ phase, blocked, alerts }) => {
      const events: string[] = [];
      const overrides: Partial<PromotionActivities> = {
        cleanupRun: async () => void events.push('cleanupRun'),
      };
      if (blocked) {
        overrides[blocked] = async () => {
          try {
            return await blockUntilCancelled();
          } finally {
            events.push(`${blocked} stopped`);
          }
        };
      }
      const mock = mockActivities(overrides);
      await withWorker(env, mock.activities, async (taskQueue) => {
        const handle = await startPromotion(env, taskQueue);
        if (blocked === 'applyPlan' || blocked === 'runSmokeChecks') await approve(handle);
        if (blocked) await until(() => mock.calls[blocked].length === 1, `${blocked} has started`);
        const before = await waitForPhase(handle, phase);

        await handle.cancel();
        const result = await handle.result();
        expect(result.outcome).toBe('cancelled');
        expect(result.failure).toBe(`cancelled during ${phase}`);
        // The run ends with a result: the execution completed, it was not marked cancelled or failed.
        expect((await handle.describe()).status.name).toBe('COMPLETED');
        expect(mock.calls.cleanupRun).toHaveLength(1);
        expect(result.planHash).toBe(before.planHash);

        if (alerts) {
          expectOneAlert(mock, result, 'cancelled');
        } else {
          expect(mock.calls.sendAlert).toHaveLength(0);
          expect(result.alertsSent).toBe(0);
        }
        // Nothing after the cancelled phase ran.
        const reached = blocked ? PIPELINE.indexOf(blocked) : PIPELINE.indexOf('buildAndDiff');
        for (const later of PIPELINE.slice(reached + 1)) expect(mock.calls[later]).toHaveLength(0);

        if (blocked) {
          // The blocked activity learned of the cancellation and stopped (it heartbeats).
          await until(() => events.includes(`${blocked} stopped`), `${blocked} stopped`);
        }
        if (blocked === 'prepareCheckout' || blocked === 'buildAndDiff' || blocked === 'applyPlan') {
          // WAIT_CANCELLATION_COMPLETED: the run cleans up only once the checkout or Toolkit step has stopped.
          expect(events.indexOf(`${blocked} stopped`)).toBeLessThan(events.indexOf('cleanupRun'));
        }
      });
    },
  );
});

describe('outcomes', () => {
  test('a failed smoke check: smoke_failed, with an alert naming the check', async () => {
    const failedCheck: SmokeCheckResult = {
      name: 'transformation pump_tr',
      kind: 'transformation',
      passed: false,
      detail: 'last run failed: column flow_m3h not found',
    };
    const mock = mockActivities({
      runSmokeChecks: async () => [...passingSmokeChecks().slice(0, 2), failedCheck],
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approve(handle);
      const result = await handle.result();
      expect(result.outcome).toBe('smoke_failed');
      expect(result.failure).toBe(`failed smoke checks: ${failedCheck.name} (${failedCheck.detail})`);
      expect(result.smokeResults).toHaveLength(3);
      expectOneAlert(mock, result, 'smoke_failed');
      expect(mock.calls.sendAlert[0]?.failedChecks).toEqual([failedCheck]);
      expect(mock.calls.applyPlan).toHaveLength(1);
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });

  test('smoke checks that cannot run: smoke_failed with an alert', async () => {
    const mock = mockActivities({
      runSmokeChecks: async () => {
        throw ApplicationFailure.nonRetryable('CDF_CLIENT_SECRET_PROD is not set', 'ConfigurationError');
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approve(handle);
      const result = await handle.result();
      expect(result.outcome).toBe('smoke_failed');
      expect(result.failure).toBe(
        'smoke checks could not run: ConfigurationError: CDF_CLIENT_SECRET_PROD is not set',
      );
      expect(result.smokeResults).toEqual([]);
      expect(mock.calls.runSmokeChecks).toHaveLength(1);
      expectOneAlert(mock, result, 'smoke_failed');
    });
  });

  test('a permanent apply failure: apply_failed at once, no smoke checks, an alert', async () => {
    const mock = mockActivities({
      applyPlan: async () => {
        throw toolkitFailed('cdf deploy exited with code 1: 409 conflict on view demo:Pump');
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approve(handle);
      const result = await handle.result();
      expect(result.outcome).toBe('apply_failed');
      expect(result.failure).toBe(
        'ToolkitFailedError: cdf deploy exited with code 1: 409 conflict on view demo:Pump',
      );
      expect(mock.calls.applyPlan).toHaveLength(1); // not retried
      expect(mock.calls.runSmokeChecks).toHaveLength(0);
      expectOneAlert(mock, result, 'apply_failed');
      expect(mock.calls.sendAlert[0]).toEqual(
        expect.objectContaining({ commit: COMMIT, planHash: PLAN_HASH, ref: 'main' }),
      );
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });

  // Retry backoff is not skipped by the test server (2 s of real time here): keep retried cases few.
  test('a transient apply failure is retried and the run succeeds without an alert', async () => {
    const mock = mockActivities({
      applyPlan: async () => {
        if (mock.calls.applyPlan.length === 1) {
          throw ApplicationFailure.retryable('connection reset by peer', 'ToolkitTransientError');
        }
        return { created: 3, updated: 2, deleted: 0, unchanged: 5, attempts: 2 };
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approve(handle);
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(mock.calls.applyPlan).toHaveLength(2);
      expect(mock.calls.sendAlert).toHaveLength(0);
      expect(result.alertsSent).toBe(0);
    });
  });

  test('an alert that cannot be delivered is recorded; the outcome stays', async () => {
    const mock = mockActivities({
      applyPlan: async () => {
        throw toolkitFailed('cdf deploy exited with code 1');
      },
      sendAlert: async () => {
        throw ApplicationFailure.nonRetryable('no alert channel configured for prod', 'ConfigurationError');
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approve(handle);
      const result = await handle.result();
      expect(result.outcome).toBe('apply_failed');
      expect(result.failure).toBe('ToolkitFailedError: cdf deploy exited with code 1');
      expect(result.alertsSent).toBe(0);
      expect(result.alertFailure).toBe('ConfigurationError: no alert channel configured for prod');
      expect(mock.calls.sendAlert).toHaveLength(1); // ConfigurationError is not retried
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });

  test('a failed diff: diff_failed with an alert, never awaiting approval', async () => {
    const mock = mockActivities({
      buildAndDiff: async () => {
        throw toolkitFailed('cdf build failed: view demo:Pump references unknown container demo:PumpC');
      },
    });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      const result = await handle.result();
      expect(result.outcome).toBe('diff_failed');
      expect(result.failure).toMatch(/^ToolkitFailedError: cdf build failed/);
      expect(result.planHash).toBeUndefined();
      expect(steps(result)).toEqual(['preparing', 'diffing', 'alerting']);
      expect(mock.calls.buildAndDiff).toHaveLength(1);
      expect(mock.calls.applyPlan).toHaveLength(0);
      expectOneAlert(mock, result, 'diff_failed');
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });

  test('an empty plan: no_changes without asking for approval, no alert', async () => {
    const mock = mockActivities({}, { planSummary: emptyPlanSummary() });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      const result = await handle.result();
      expect(result.outcome).toBe('no_changes');
      expect(result.planSummary?.empty).toBe(true);
      expect(result.approvals).toEqual([]);
      expect(steps(result)).toEqual(['preparing', 'diffing']);
      const none: ActivityName[] = ['applyPlan', 'removeLeftovers', 'runSmokeChecks', 'sendAlert'];
      for (const name of none) expect(mock.calls[name]).toHaveLength(0);
      expect(mock.calls.cleanupRun).toHaveLength(1);
    });
  });
});

describe('a plan that changes between approval and apply', () => {
  const mismatch = () =>
    ApplicationFailure.create({
      type: 'PlanMismatchError',
      message: 'the plan changed since it was approved (spaces counts differ); nothing was applied',
      nonRetryable: true,
    });
  const hashes = ['1'.repeat(64), '2'.repeat(64), '3'.repeat(64), '4'.repeat(64), '5'.repeat(64)];

  /** buildAndDiff reports a new plan hash each time; applyPlan fails with PlanMismatch `failures` times. */
  function changing(failures: number, policy = {}) {
    let diffs = 0;
    let applies = 0;
    return mockActivities(
      {
        buildAndDiff: async () => ({
          planHash: hashes[diffs++]!,
          planSummary: planSummary(),
          planArtifact: 'plans/x.txt',
        }),
        applyPlan: async () => {
          if (applies++ < failures) throw mismatch();
          return { created: 1, updated: 0, deleted: 0, unchanged: 0, attempts: 1 };
        },
      },
      { policy },
    );
  }

  /** Approves each plan as it comes up for approval, `rounds` times. */
  async function approveEachPlan(handle: WorkflowHandle, rounds: number): Promise<void> {
    let previous: string | undefined;
    for (let i = 0; i < rounds; i++) {
      const waiting = await waitForStatus(
        handle,
        (s) => s.phase === 'awaiting_approval' && s.planHash !== previous,
      );
      previous = waiting.planHash;
      await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
    }
  }

  test('goes back to approval with the new plan, and applies once the new plan is approved', async () => {
    const mock = changing(1);
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approveEachPlan(handle, 2);
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      expect(result.planHash).toBe(hashes[1]);
      expect(result.planChanges).toEqual([expect.objectContaining({ previousPlanHash: hashes[0] })]);
      expect(mock.calls.applyPlan.map((r) => r.planHash)).toEqual([hashes[0], hashes[1]]);
      expect(mock.calls.sendAlert).toHaveLength(0);
    });
  });

  test('with approval.onPlanChange "fail" the run ends as apply_failed, with an alert', async () => {
    const mock = changing(1, { onPlanChange: 'fail' });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approveEachPlan(handle, 1);
      const result = await handle.result();
      expect(result.outcome).toBe('apply_failed');
      expect(result.failure).toMatch(/^PlanMismatchError: /);
      expect(mock.calls.sendAlert).toHaveLength(1);
    });
  });

  test('a plan that keeps changing fails the run after three re-approvals', async () => {
    const mock = changing(10);
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startPromotion(env, taskQueue);
      await approveEachPlan(handle, 4);
      const result = await handle.result();
      expect(result.outcome).toBe('apply_failed');
      expect(result.planChanges).toHaveLength(3);
      expect(mock.calls.applyPlan).toHaveLength(4);
    });
  });
});

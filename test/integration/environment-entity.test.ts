/**
 * Environments as entities, on a real dev server with the real Toolkit: one change at a time per environment
 * (queue in order, refuse naming the holder, supersede a holder awaiting approval), a holder terminated mid-run
 * releases the environment, and the entity's ledger after a mix of outcomes and after continue-as-new. Driven
 * through the Temporal client and our CLI (`queue`, `history`, `status`).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  environmentStateQuery,
  environmentWorkflowId,
  type EnvironmentState,
} from '../../contracts/environment-entity';
import { approveUpdate, PROMOTION_WORKFLOW_TYPE, rejectUpdate } from '../../contracts/messages';
import type { PromotionResult, PromotionStatus } from '../../contracts/types';
import { describeRun, runCli } from '../client/run-cli';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE } from '../helpers/stack';
import { recordHistory, uniqueId, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    // Dead runs are noticed within a second, and the entity continues as new early, so both happen here.
    entityInput: { checkEveryMs: 1000, continueAfterEvents: 120 },
    rawConfig: (raw) => {
      const prod = raw.environments.prod!;
      return {
        ...raw,
        environments: {
          prod,
          // Same project and Toolkit config as prod (the demo repository has no config.staging.yaml).
          staging: { ...prod, configFile: 'org/config.prod.yaml', whenBusy: 'refuse' },
          qa: { ...prod, configFile: 'org/config.prod.yaml', whenBusy: 'supersede' },
        },
      };
    },
  });
  ({ env } = harness);
});

afterAll(() => harness?.stop());

const cli = (...args: string[]) => runCli(['--address', env.address, '--task-queue', TASK_QUEUE, ...args]);

async function start(environment: string, ref: string): Promise<WorkflowHandle> {
  return env.client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId(`promotion-${environment}-${ref}`),
    args: [{ environment, ref, requestedBy: 'alice', reason: 'entity test' }],
  });
}

const awaiting = (h: WorkflowHandle) =>
  waitForStatus(h, (s) => s.phase === 'awaiting_approval' && !!s.planHash, 120_000);
const phase = (h: WorkflowHandle, p: PromotionStatus['phase']) =>
  waitForStatus(h, (s) => s.phase === p, 120_000);
const entityState = (environment: string): Promise<EnvironmentState> =>
  env.client.workflow.getHandle(environmentWorkflowId(environment, TASK_QUEUE)).query(environmentStateQuery);

async function approve(h: WorkflowHandle): Promise<void> {
  const s = await awaiting(h);
  await h.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: s.planHash }] });
}

// Staging and qa share prod's CDF project: they run first, while v1 still has changes to make there.
test('refuse: a promotion to a held environment fails at once, naming the holder', async () => {
  const holder = await start('staging', 'v1');
  await awaiting(holder);
  const refused = await start('staging', 'v2');
  const err = await refused.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(String((err as WorkflowFailedError).cause?.message)).toMatch(
    new RegExp(`staging is held by ${holder.workflowId} \\(promotion of v1 by alice, not applying yet`),
  );
  await holder.cancel();
  await holder.result().catch(() => undefined);
});

test('supersede: a newer run replaces a holder awaiting approval, never one that is applying', async () => {
  const old = await start('qa', 'v1');
  await awaiting(old);
  const newer = await start('qa', 'v2');
  const result = (await old.result()) as PromotionResult;
  expect(result.outcome).toBe('cancelled');
  expect(result.failure).toContain(`superseded by ${newer.workflowId}`);
  await awaiting(newer);
  expect((await entityState('qa')).holder?.workflowId).toBe(newer.workflowId);
  await approve(newer);
  expect(((await newer.result()) as PromotionResult).outcome).toBe('succeeded');
});

test('queue: a second promotion waits its turn in order, visible in status and `queue`; the ledger records both', async () => {
  const first = await start('prod', 'v1');
  await awaiting(first);
  const second = await start('prod', 'v2');
  const queued = await phase(second, 'queued');
  expect(queued.queue).toEqual({ position: 1, holder: first.workflowId });
  const third = await start('prod', 'v2');
  expect((await phase(third, 'queued')).queue?.position).toBe(2);

  const shown = await cli('queue', '--env', 'prod');
  expect({ code: shown.code, out: describeRun(shown) }).toEqual({ code: 0, out: expect.any(String) });
  expect(shown.stdout).toContain(`prod is held by ${first.workflowId}`);
  expect(shown.stdout).toMatch(new RegExp(`1\\s+${second.workflowId}[\\s\\S]*2\\s+${third.workflowId}`));
  const status = await cli('status', third.workflowId);
  expect(status.stdout).toMatch(new RegExp(`queue:\\s+place 2 in line, behind ${first.workflowId}`));

  // The queued run has not even checked out: nothing of it touched the environment yet.
  expect((await second.query('status')) as PromotionStatus).toEqual(
    expect.not.objectContaining({ commit: expect.anything() }),
  );

  await approve(first);
  expect(((await first.result()) as PromotionResult).outcome).toBe('succeeded');
  // The second gets the environment; the third moves up.
  await awaiting(second);
  expect((await entityState('prod')).queue.map((q) => q.workflowId)).toEqual([third.workflowId]);
  await second.executeUpdate(rejectUpdate, { args: [{ approver: 'carol', reason: 'not now' }] });
  expect(((await second.result()) as PromotionResult).outcome).toBe('rejected');
  await awaiting(third);
  await third.cancel();
  await third.result().catch(() => undefined);

  const state = await entityState('prod');
  expect(state.holder).toBeUndefined();
  expect(state.queue).toEqual([]);
  const byRun = Object.fromEntries(state.ledger.map((r) => [r.workflowId, r]));
  expect(byRun[first.workflowId]).toEqual(
    expect.objectContaining({
      outcome: 'succeeded',
      applied: true,
      approvals: ['bob'],
      toolkitVersion: '0.8.271',
    }),
  );
  expect(byRun[second.workflowId]).toEqual(expect.objectContaining({ outcome: 'rejected', applied: false }));
  expect(byRun[third.workflowId]).toEqual(expect.objectContaining({ outcome: 'cancelled', applied: false }));
  const firstCommit = byRun[first.workflowId]!.commit!;
  expect(state.lastKnownGood).toEqual(
    expect.objectContaining({ commit: firstCommit, workflowId: first.workflowId }),
  );
  expect(state.deployed).toEqual(expect.objectContaining({ commit: firstCommit, kind: 'promotion' }));
  expect(state.deployed!.resources!.length).toBeGreaterThan(0);

  const history = await cli('history', '--env', 'prod', '--json');
  const parsed = JSON.parse(history.stdout) as {
    lastKnownGood: { commit: string };
    records: Array<{ outcome: string }>;
  };
  expect(parsed.lastKnownGood.commit).toBe(firstCommit);
  expect(parsed.records.map((r) => r.outcome)).toEqual(['cancelled', 'rejected', 'succeeded']);
  await recordHistory(first, 'promotion-held-environment');
  await recordHistory(second, 'promotion-queued-then-rejected');
});

test('a holder terminated mid-run releases the environment: the next run gets it; the ledger says abandoned', async () => {
  const doomed = await start('prod', 'v2');
  await awaiting(doomed);
  const next = await start('prod', 'v2');
  await phase(next, 'queued');
  await doomed.terminate('operator pulled the plug');
  // Found by the entity's check (every second here), not by any message from the dead run.
  await awaiting(next);
  const state = await entityState('prod');
  expect(state.holder?.workflowId).toBe(next.workflowId);
  expect(state.ledger.find((r) => r.workflowId === doomed.workflowId)).toEqual(
    expect.objectContaining({ outcome: 'abandoned', applied: false }),
  );
  await next.cancel();
  await next.result().catch(() => undefined);
});

test('the entity continues as new and keeps its ledger', async () => {
  const entity = env.client.workflow.getHandle(environmentWorkflowId('prod', TASK_QUEUE));
  const firstRun = (await entity.describe()).runId;
  const before = await entityState('prod');
  // Each run adds a handful of events (fewer since an idle entity keeps no timer); a few more runs push the
  // entity past its 120-event limit.
  for (let i = 0; i < 8 && (await entity.describe()).runId === firstRun; i++) {
    const h = await start('prod', 'v1');
    await awaiting(h);
    await h.executeUpdate(rejectUpdate, { args: [{ approver: 'bob' }] });
    await h.result();
    // The entity continues as new only from a workflow task with no update in flight and nothing to send: the next
    // run starts once the entity has handled this run's release (a run may end before its entity has), not while.
    for (const deadline = Date.now() + 30_000; (await entityState('prod')).holder;) {
      if (Date.now() > deadline) throw new Error(`the entity still names ${h.workflowId} as its holder`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const described = await entity.describe();
  expect(described.runId).not.toBe(firstRun);
  const after = await entityState('prod');
  expect(after.ledger.length).toBeGreaterThan(before.ledger.length);
  expect(after.ledger.slice(0, before.ledger.length)).toEqual(before.ledger);
  expect(after.lastKnownGood).toEqual(before.lastKnownGood);
  await recordHistory(
    env.client.workflow.getHandle(environmentWorkflowId('prod', TASK_QUEUE), firstRun),
    'environment-entity-continued',
  );
});

test('a rollback without a commit targets the last known good; with none yet it is refused as bad input', async () => {
  const good = (await entityState('prod')).lastKnownGood!;
  expect(good.commit).toMatch(/^[0-9a-f]{40}$/);
  const started = await cli('rollback', '--env', 'prod', '--requested-by', 'alice', '--json');
  expect({ code: started.code, out: describeRun(started) }).toEqual({ code: 0, out: expect.any(String) });
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  expect(workflowId).toMatch(/^rollback-prod-last-known-good-\d{8}T\d{6}$/);
  const handle = env.client.workflow.getHandle(workflowId);
  const waiting = await awaiting(handle);
  expect(waiting).toEqual(expect.objectContaining({ ref: 'last-known-good', commit: good.commit }));
  await approve(handle);
  const result = (await handle.result()) as PromotionResult;
  expect(result).toEqual(
    expect.objectContaining({ kind: 'rollback', commit: good.commit, outcome: 'succeeded' }),
  );

  const none = await cli('rollback', '--env', 'staging', '--requested-by', 'alice', '--wait');
  expect({ code: none.code, out: describeRun(none) }).toEqual({
    code: 5,
    out: expect.stringMatching(/staging has no last known good commit yet/),
  });
});

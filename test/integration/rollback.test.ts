/**
 * Rollback re-applies an older commit through the same pipeline and brings the fake CDF back to that commit.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { commitFiles } from '../helpers/git';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE, type Stack } from '../helpers/stack';
import { recordHistory, uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    rawConfig: (raw) => ({
      ...raw,
      environments: {
        ...raw.environments,
        // An environment whose rollbacks may skip approval.
        fast: {
          ...raw.environments.prod!,
          cdfProject: 'demo-dev',
          configFile: 'org/config.dev.yaml',
          approval: { approvers: ['bob', 'carol'], rollbackRequiresApproval: false },
          smoke: { minAssets: 2 },
          // Rollbacks here may target any commit on main, deployed here before or not.
          rollback: { removeLeftovers: true, allowBranch: 'main' },
        },
      },
    }),
  });
  ({ env, stack } = harness);
});

afterAll(() => harness?.stop());

async function approveAndWait(
  workflowType: string,
  input: Record<string, unknown>,
  id: string,
): Promise<PromotionResult> {
  const handle = await env.client.workflow.start(workflowType, {
    taskQueue: TASK_QUEUE,
    workflowId: id,
    args: [input],
  });
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  await handle.signal(approveSignal, { approver: 'carol', planHash: waiting.planHash });
  const result = await handle.result();
  await recordHistory(handle, id.replace(/-[0-9a-z]+-[0-9a-z]+$/, ''));
  return result;
}

/** The parts of a project's state that the demo commits define, without server-assigned fields. */
async function definedState(project: string) {
  const s = await stack.admin.state(project);
  const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
  return {
    views: Object.values(s.views).map((v) =>
      pick(v, ['space', 'externalId', 'version', 'description', 'properties']),
    ),
    assets: Object.values(s.assets)
      .map((a) => pick(a, ['externalId', 'name', 'description', 'parentExternalId']))
      .sort((a, b) => String(a.externalId).localeCompare(String(b.externalId))),
    transformations: Object.values(s.transformations).map((t) =>
      pick(t, ['externalId', 'name', 'query', 'destination']),
    ),
  };
}

test('rollback to an older commit restores the fake CDF to that commit', async () => {
  const v1 = await approveAndWait(
    'promotionWorkflow',
    { environment: 'prod', ref: 'v1', requestedBy: 'alice' },
    uniqueId('promotion-prod'),
  );
  // Each commit runs the Toolkit version its cdf.toml pins: v1 0.8.271, v2 0.9.28, and the rollback 0.8.271 again.
  expect(v1).toMatchObject({ outcome: 'succeeded', toolkitVersion: '0.8.271' });
  const stateAtV1 = await definedState('demo-prod');

  const v2 = await approveAndWait(
    'promotionWorkflow',
    { environment: 'prod', ref: 'v2', requestedBy: 'alice' },
    uniqueId('promotion-prod'),
  );
  expect(v2).toMatchObject({ outcome: 'succeeded', toolkitVersion: '0.9.28' });
  expect(await definedState('demo-prod')).not.toEqual(stateAtV1);

  const rollback = await approveAndWait(
    'rollbackWorkflow',
    {
      environment: 'prod',
      commit: stack.repo.first,
      requestedBy: 'alice',
      reason: 'v2 broke the dashboards',
    },
    uniqueId('rollback-prod'),
  );
  expect(rollback).toMatchObject({ outcome: 'succeeded', toolkitVersion: '0.8.271' });
  expect(rollback.kind).toBe('rollback');
  expect(rollback.commit).toBe(stack.repo.first);
  expect(rollback.planSummary?.totals.update).toBeGreaterThanOrEqual(3);
  expect(await definedState('demo-prod')).toEqual(stateAtV1);
});

test('a rollback accepts a short sha and pins the full one', async () => {
  const handle = await env.client.workflow.start('rollbackWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('rollback-fast'),
    args: [{ environment: 'fast', commit: stack.repo.second.slice(0, 10), requestedBy: 'alice' }],
  });
  // This environment lets rollbacks skip approval: the run goes straight from diff to apply.
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('succeeded');
  expect(result.commit).toBe(stack.repo.second);
  // v2 pins Toolkit 0.9.28: the rollback plans and applies with it.
  expect(result.toolkitVersion).toBe('0.9.28');
  expect(result.timings.map((t) => t.step)).not.toContain('awaiting_approval');
  await recordHistory(handle, 'rollback-without-approval');
});

test('a rollback to a commit never deployed to the environment is refused, naming the history to choose from', async () => {
  const elsewhere = commitFiles(stack.repo.dir, {
    branch: 'experiment',
    from: 'v2',
    files: { 'org/modules/demo_module/classic/exp.Asset.yaml': 'externalId: exp\nname: Experiment\n' },
    message: 'An experiment nobody deployed',
  });
  const handle = await env.client.workflow.start('rollbackWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('rollback-prod-never'),
    args: [{ environment: 'prod', commit: elsewhere, requestedBy: 'alice' }],
  });
  const err = await handle.result().catch((e) => e);
  expect(err.cause.type).toBe('InvalidInput');
  expect(err.cause.message).toBe(
    `invalid input: ${elsewhere} was never deployed to prod by this service: roll back to a commit listed by \`cdf-promote history --env prod\``,
  );
  // Refused while holding the environment, before any diff: the ledger says so.
  const status = await handle.query('status');
  expect(status).toEqual(expect.objectContaining({ commit: elsewhere, phase: 'preparing' }));
});

test('a rollback to a commit that does not exist fails as bad input', async () => {
  const handle = await env.client.workflow.start('rollbackWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('rollback-prod'),
    args: [{ environment: 'prod', commit: 'deadbeefdeadbeef', requestedBy: 'alice' }],
  });
  const err = await handle.result().catch((e) => e);
  expect(err.cause.type).toBe('InvalidInput');
});

/** A third commit on top of v2 that adds an asset: rolling back from it leaves that asset behind. */
function commitWithExtraAsset(): string {
  return commitFiles(stack.repo.dir, {
    branch: 'pump2',
    from: 'v2',
    files: {
      'org/modules/demo_module/classic/pump2.Asset.yaml':
        'externalId: pump_2\nname: Pump 2\nparentExternalId: site_oslo\ndescription: Standby pump\n',
    },
    message: 'Add standby pump',
  });
}

const assetIds = async (project: string) =>
  Object.values((await stack.admin.state(project)).assets)
    .map((a) => a.externalId)
    .sort();

test('a rollback lists resources the target lacks as leftovers and keeps them by default', async () => {
  const withPump2 = commitWithExtraAsset();
  const promoted = await approveAndWait(
    'promotionWorkflow',
    { environment: 'prod', ref: withPump2, requestedBy: 'alice' },
    uniqueId('promotion-prod'),
  );
  expect(promoted.outcome).toBe('succeeded');
  expect(await assetIds('demo-prod')).toContain('pump_2');

  const handle = await env.client.workflow.start('rollbackWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('rollback-prod-leftovers'),
    args: [
      { environment: 'prod', commit: stack.repo.first, requestedBy: 'alice', reason: 'pump 2 was a mistake' },
    ],
  });
  const waiting = await waitForPhase(handle, 'awaiting_approval');
  expect(waiting.planSummary?.leftovers).toEqual(
    expect.objectContaining({
      fromCommit: withPump2,
      resources: [{ kind: 'Asset', id: 'externalId=pump_2' }],
      existing: 1,
      action: 'keep',
    }),
  );
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('succeeded');
  expect(result.leftovers).toEqual(
    expect.objectContaining({ result: 'left', resources: [{ kind: 'Asset', id: 'externalId=pump_2' }] }),
  );
  // cdf deploy never deletes: the asset is still there, as the result says.
  expect(await assetIds('demo-prod')).toContain('pump_2');
  await recordHistory(handle, 'rollback-leftovers-kept');
});

test('with rollback.removeLeftovers the rollback deletes them with cdf clean', async () => {
  const withPump2 = commitWithExtraAsset();
  const promoted = await approveAndWait(
    'promotionWorkflow',
    { environment: 'fast', ref: withPump2, requestedBy: 'alice' },
    uniqueId('promotion-fast'),
  );
  expect(promoted.outcome).toBe('succeeded');
  expect(await assetIds('demo-dev')).toContain('pump_2');

  const handle = await env.client.workflow.start('rollbackWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('rollback-fast-leftovers'),
    args: [{ environment: 'fast', commit: stack.repo.first, requestedBy: 'alice' }],
  });
  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('succeeded');
  expect(result.leftovers).toEqual(
    expect.objectContaining({
      action: 'remove',
      result: 'removed',
      existing: 1,
      resources: [{ kind: 'Asset', id: 'externalId=pump_2' }],
    }),
  );
  expect(await assetIds('demo-dev')).toEqual(['pump_1', 'site_oslo']);
  await recordHistory(handle, 'rollback-leftovers-removed');
});

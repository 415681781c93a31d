/**
 * The README's Temporal CLI commands, run with the real `temporal` binary against the dev server: start a
 * promotion, query its status, approve it with an update (a refused one fails with the reason), read the result.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PromotionStatus } from '../../contracts/types';
import { temporalCliPath } from '../helpers/temporal-server';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE, type Stack } from '../helpers/stack';
import { uniqueId } from '../helpers/workflows';

const run = promisify(execFile);
let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness();
  ({ env, stack } = harness);
});

afterAll(() => harness?.stop());

const temporal = async (...args: string[]): Promise<string> =>
  (await run(temporalCliPath(), [...args, '--address', env.address], { timeout: 60_000 })).stdout;

async function queryStatus(workflowId: string): Promise<PromotionStatus> {
  const out = await temporal(
    'workflow',
    'query',
    '--workflow-id',
    workflowId,
    '--name',
    'status',
    '--output',
    'json',
  );
  const parsed = JSON.parse(out) as { queryResult: PromotionStatus[] } | PromotionStatus[];
  return Array.isArray(parsed) ? parsed[0]! : parsed.queryResult[0]!;
}

test('start, query, update and result with the temporal CLI', async () => {
  const workflowId = uniqueId('promotion-prod-cli');
  await temporal(
    'workflow',
    'start',
    '--type',
    'promotionWorkflow',
    '--task-queue',
    TASK_QUEUE,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify({ environment: 'prod', ref: 'main', requestedBy: 'alice', reason: 'CLI test' }),
  );

  let status = await queryStatus(workflowId).catch(() => undefined);
  const deadline = Date.now() + 60_000;
  while (status?.phase !== 'awaiting_approval') {
    if (Date.now() > deadline) throw new Error(`never reached awaiting_approval: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 300));
    status = await queryStatus(workflowId).catch(() => undefined);
  }
  expect(status.commit).toBe(stack.repo.second);
  expect(status.planHash).toMatch(/^[0-9a-f]{64}$/);

  // A refused decision: the command fails and prints the workflow's reason; nothing reaches history.
  const refused = await temporal(
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    workflowId,
    '--name',
    'approve',
    '--input',
    JSON.stringify({ approver: 'mallory' }),
  ).then(
    () => undefined,
    (err: { stderr?: string; stdout?: string }) => `${err.stderr ?? ''}${err.stdout ?? ''}`,
  );
  expect(refused).toMatch(/mallory is not an approver for prod/);

  const accepted = await temporal(
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    workflowId,
    '--name',
    'approve',
    '--input',
    JSON.stringify({ approver: 'bob', planHash: status.planHash, comment: 'via temporal CLI' }),
  );
  // The CLI prints the update's name, id and result (the DecisionResult).
  expect(accepted).toMatch(/Name\s+approve/);
  expect(accepted).toMatch(/Result\s+map\[.*by:bob decision:approve/);
  const result = JSON.parse(
    await temporal('workflow', 'result', '--workflow-id', workflowId, '--output', 'json'),
  );
  const value = result.result ?? result;
  expect(value.outcome).toBe('succeeded');
  expect(value.approvals[0]).toEqual(
    expect.objectContaining({ approver: 'bob', comment: 'via temporal CLI' }),
  );
});

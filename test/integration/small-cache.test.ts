/**
 * A worker whose workflow cache holds fewer workflows than are active at once: more runs start together than the
 * cache can hold, each with an environment entity of its own, and every one still gets its environment, reaches
 * approval and ends, with most of its workflow tasks replays. A step that waits inside a workflow task for another
 * workflow (a local activity calling the entity) would hold its cache slot while the entity cannot be brought in
 * to answer, and these runs would stall, their workflow tasks heartbeating every 8 s.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { PROMOTION_WORKFLOW_TYPE, rejectUpdate } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE } from '../helpers/stack';
import { uniqueId, waitForStatus } from '../helpers/workflows';

const ENVIRONMENTS = ['east', 'west', 'north', 'south', 'centre'];

let env: TestWorkflowEnvironment;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    rawConfig: (raw) => {
      const prod = raw.environments.prod!;
      return {
        ...raw,
        // Two workflow threads: a run evicted on one may be replayed on the other.
        worker: { maxCachedWorkflows: 2, workflowThreads: 2 },
        // Same project and Toolkit config as prod (the demo repository has no other config files).
        environments: Object.fromEntries(
          ENVIRONMENTS.map((e) => [e, { ...prod, configFile: 'org/config.prod.yaml' }]),
        ),
      };
    },
  });
  ({ env } = harness);
}, 120_000);

afterAll(() => harness?.stop());

test('more runs than the workflow cache holds, started at once, all reach approval and end', async () => {
  // The configured threads reach the SDK (the runs below are spread over them).
  expect(harness!.worker.options.workflowThreadPoolSize).toBe(2);
  const handles: WorkflowHandle[] = await Promise.all(
    ENVIRONMENTS.map((environment) =>
      env.client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: uniqueId(`small-cache-${environment}`),
        args: [{ environment, ref: 'v1', requestedBy: 'alice', reason: 'small cache test' }],
      }),
    ),
  );
  const waiting = await Promise.all(
    handles.map((h) => waitForStatus(h, (s) => s.phase === 'awaiting_approval' && !!s.planHash, 150_000)),
  );
  expect(waiting.map((s) => s.environment)).toEqual(ENVIRONMENTS);
  await Promise.all(
    handles.map((h) =>
      h.executeUpdate(rejectUpdate, { args: [{ approver: 'bob', reason: 'small cache test' }] }),
    ),
  );
  const results = (await Promise.all(handles.map((h) => h.result()))) as PromotionResult[];
  expect(results.map((r) => r.outcome)).toEqual(ENVIRONMENTS.map(() => 'rejected'));
}, 240_000);

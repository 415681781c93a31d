/**
 * approval.excludeCommitAuthors on the real stack: the worker reads the real git history of the promoted range
 * (the demo repository's commits are by demo@example.com, registered as bob's email), so bob may not approve,
 * carol may. The refusal comes back through the update, at once, and leaves nothing in history.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { approveUpdate, PROMOTION_WORKFLOW_TYPE } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE } from '../helpers/stack';
import { recordHistory, uniqueId, waitForStatus } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    prod: {
      approval: {
        timeout: '1h',
        approvers: ['bob', 'carol'],
        requiredApprovals: 1,
        excludeCommitAuthors: true,
      },
    },
    rawConfig: (raw) => ({ ...raw, people: { bob: { emails: ['Demo@Example.com'] } } }),
  });
  ({ env } = harness);
});

afterAll(() => harness?.stop());

test('the author of the promoted commits may not approve them; another approver can', async () => {
  const handle = await env.client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: uniqueId('promotion-prod-authors'),
    args: [{ environment: 'prod', ref: 'v2', requestedBy: 'alice', reason: 'authors test' }],
  });
  const waiting = await waitForStatus(
    handle,
    (s) => s.phase === 'awaiting_approval' && !!s.planHash,
    120_000,
  );
  // Nothing deployed yet: the whole history up to v2 (two commits) is the promoted range.
  expect(waiting.commitAuthors).toEqual({ since: null, commits: 2, people: ['bob'], unregistered: [] });

  const refused = await handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((refused as WorkflowUpdateFailedError).cause?.message).toBe(
    'bob authored commits in the promoted range and may not approve it',
  );
  await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol', planHash: waiting.planHash }] });
  const result = (await handle.result()) as PromotionResult;
  expect(result.outcome).toBe('succeeded');
  expect(result.commitAuthors?.people).toEqual(['bob']);
  const history = await handle.fetchHistory();
  expect((history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(
    1,
  );
  await recordHistory(handle, 'promotion-commit-authors');
});

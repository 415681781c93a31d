/**
 * A corpus of hostile names through the real workflows (time-skipping server, the real environment lookup, other
 * activities mocked): every environment name, ref, requester and workflow id the server accepts either works or
 * ends at once as InvalidInput, with no retry, no alert and nothing applied. Prints its case count.
 */
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createResolveEnvironment } from '../../activities/steps/resolve-environment';
import { toApplicationFailure } from '../../contracts/errors';
import { PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE } from '../../contracts/messages';
import { mockActivities } from '../helpers/mock-activities';
import { startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { uniqueId } from '../helpers/workflows';
import { buildConfig, minimalRawConfig } from '../unit/helpers';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTimeSkipping();
});
afterAll(() => env?.teardown());

const PROTO_NAMES = [
  'constructor',
  '__proto__',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const environments = [
  ...PROTO_NAMES,
  '',
  'PROD',
  'prod ',
  ' prod',
  'prød',
  'prod\n',
  '\u202eprod',
  'pro\u200bd',
  '../prod',
  'prod/../dev',
  'a'.repeat(41),
  'a'.repeat(5000),
  'staging',
];
const refs = [
  '--upload-pack=touch /tmp/pwned',
  '-x',
  'a..b',
  'refs/../../x',
  'with space',
  '$(id)',
  '`id`',
  'main;id',
  'main|id',
  'main~1',
  'main^',
  'main:path',
  '@{-1}',
  '\u0000',
  'é',
  'x'.repeat(201),
  '',
];
const people = ['', ' ', 'ＡＬＩＣＥ\u200b', 'a'.repeat(300), '<script>', 'bob\nmallory', 'constructor'];
const workflowIds = [
  '../../etc/passwd',
  '..',
  '.',
  'a/b\\c',
  'ünïcödé',
  ' spaced id ',
  'x'.repeat(900),
  '\t',
];

type Case = { type: string; input: Record<string, unknown>; workflowId?: string; works: boolean };
const cases: Case[] = [
  ...environments.map((environment) => ({
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment, ref: 'main', requestedBy: 'alice' },
    works: false,
  })),
  ...refs.map((ref) => ({
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment: 'prod', ref, requestedBy: 'alice' },
    works: false,
  })),
  ...people.map((requestedBy) => ({
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment: 'prod', ref: 'main', requestedBy },
    // Normalization turns fullwidth letters into plain ones, but an invisible character inside is refused.
    works: requestedBy === 'constructor',
  })),
  ...['', 'xyz', 'DEADBEEF', 'abc123', '1'.repeat(41), 'constructor'].map((commit) => ({
    type: ROLLBACK_WORKFLOW_TYPE,
    input: { environment: 'prod', commit, requestedBy: 'alice' },
    works: false,
  })),
  // Odd but accepted workflow ids work: run folders and entities derive safe names from them.
  ...workflowIds.map((workflowId) => ({
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment: 'prod', ref: 'main', requestedBy: 'alice' },
    workflowId,
    works: true,
  })),
  {
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment: 'prod', ref: 'main', requestedBy: 'alice', extra: 1 },
    works: false,
  },
  {
    type: PROMOTION_WORKFLOW_TYPE,
    input: { environment: 'prod', from: 'constructor', requestedBy: 'alice' },
    works: false,
  },
];

test('hostile names: each works or ends at once as InvalidInput, never retried, never alerted', async () => {
  const config = buildConfig(minimalRawConfig());
  const resolve = createResolveEnvironment(config);
  const mock = mockActivities({
    // The real lookup, with the typed failure the worker's activity wrapper gives it. Promotions need approval
    // by configuration; these runs skip it so that "works" means it ran to the end.
    async resolveEnvironment(req) {
      try {
        return { ...(await resolve(req)), approvalRequired: false };
      } catch (err) {
        throw toApplicationFailure(err);
      }
    },
  });
  const outcomes = { worked: 0, invalid: 0, refusedByServer: 0 };
  await withWorker(env, mock.activities, async (taskQueue) => {
    for (const c of cases) {
      const workflowId = c.workflowId ?? uniqueId('hostile');
      let handle;
      try {
        handle = await env.client.workflow.start(c.type, { taskQueue, workflowId, args: [c.input] });
      } catch (err) {
        // Only what the server accepts is in scope: an id it refuses never reaches a worker.
        outcomes.refusedByServer++;
        continue;
      }
      const ended = await handle.result().then(
        (r: { outcome: string }) => ({ ok: true as const, outcome: r.outcome }),
        (e: unknown) => ({ ok: false as const, e }),
      );
      const label = JSON.stringify({ type: c.type, input: c.input, workflowId: c.workflowId }).slice(0, 200);
      if (ended.ok) {
        expect({ label, worked: c.works, outcome: ended.outcome }).toEqual({
          label,
          worked: true,
          outcome: 'succeeded',
        });
        outcomes.worked++;
      } else {
        expect(ended.e).toBeInstanceOf(WorkflowFailedError);
        const cause = (ended.e as WorkflowFailedError).cause as { type?: string };
        expect({ label, works: c.works, type: cause.type }).toEqual({
          label,
          works: false,
          type: 'InvalidInput',
        });
        outcomes.invalid++;
      }
    }
  });
  // Refused at once: no activity was retried, nothing was checked out, applied or alerted for them.
  expect(mock.calls.sendAlert).toEqual([]);
  expect(mock.calls.resolveEnvironment.length).toBeLessThanOrEqual(cases.length);
  expect(mock.calls.applyPlan).toHaveLength(outcomes.worked);
  console.log(
    `hostile inputs: ${cases.length} cases, ${outcomes.worked} worked, ${outcomes.invalid} ended as InvalidInput`,
  );
  expect(outcomes.worked + outcomes.invalid).toBe(cases.length);
});

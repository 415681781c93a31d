/**
 * Every promotion runs the Toolkit version its commit pins in cdf.toml. The core promotion and rollback run
 * once per supported Toolkit line (both demo commits pinning the same version), once across versions (v1 pins
 * 0.8.271, v2 upgrades to 0.9.28, as the demo does), and a pin this worker cannot provide fails the diff with a
 * message that says how to provide it. All against a real dev server, the fake CDF and the real Toolkits from the
 * cache that scripts/ensure-tools.sh fills.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { environmentStateQuery, environmentWorkflowId } from '../../contracts/environment-entity';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { commitFiles } from '../helpers/git';
import { startStack, type Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal-server';
import { uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startTemporal();
});
afterAll(async () => {
  await env?.teardown();
});

async function withStack<T>(
  name: string,
  options: Parameters<typeof startStack>[0],
  fn: (stack: Stack, taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `cdf-promotions-${name}`;
  const stack = await startStack({
    ...options,
    rawConfig: (raw) => {
      const withQueue = { ...raw, temporal: { ...raw.temporal, taskQueue } };
      return options?.rawConfig ? options.rawConfig(withQueue) : withQueue;
    },
  });
  try {
    const worker = await stack.startWorker(env.nativeConnection);
    return await worker.runUntil(fn(stack, taskQueue));
  } finally {
    await stack.stop();
  }
}

async function promote(
  stack: Stack,
  taskQueue: string,
  workflowType: 'promotionWorkflow' | 'rollbackWorkflow',
  args: Record<string, string>,
): Promise<PromotionResult> {
  const handle = await env.client.workflow.start(workflowType, {
    taskQueue,
    workflowId: uniqueId(`${workflowType}-prod`),
    args: [{ environment: 'prod', requestedBy: 'alice', ...args }],
  });
  const waiting = await waitForPhase(handle, 'awaiting_approval', 120_000);
  expect(waiting.toolkitVersion).toBeDefined();
  await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
  return handle.result();
}

const planText = (stack: Stack, hash: string) => openArtifactStore(stack.config.artifacts).getPlan(hash);

/** The environment's ledger, as its entity keeps it: the runs that applied, oldest first. */
const ledger = async (taskQueue: string) =>
  (
    await env.client.workflow.getHandle(environmentWorkflowId('prod', taskQueue)).query(environmentStateQuery)
  ).ledger.filter((r) => r.applied);

describe.each(['0.8.271', '0.9.28'])('with Toolkit %s pinned by both commits', (version) => {
  // Rollbacks run through the same plan and apply steps; rollback.test.ts rolls back to commits of both versions.
  test('promote v1, then v2: each run plans and applies with that version', async () => {
    await withStack(
      `pinned-${version.replace(/\./g, '-')}`,
      { toolkitVersions: { first: version, second: version } },
      async (stack, taskQueue) => {
        const first = await promote(stack, taskQueue, 'promotionWorkflow', { ref: 'v1' });
        expect(first).toMatchObject({ outcome: 'succeeded', toolkitVersion: version });
        expect(await planText(stack, first.planHash!)).toMatch(
          new RegExp(`^Plan made with Cognite Toolkit ${version.replace(/\./g, '\\.')} `),
        );
        const second = await promote(stack, taskQueue, 'promotionWorkflow', { ref: 'v2' });
        expect(second).toMatchObject({ outcome: 'succeeded', toolkitVersion: version });
        expect(second.planSummary?.totals.update).toBe(3);
        expect((await ledger(taskQueue)).map((e) => [e.commit, e.toolkitVersion])).toEqual([
          [stack.repo.first, version],
          [stack.repo.second, version],
        ]);
      },
    );
  });
});

test('a pinned version the worker cannot provide fails the diff, naming the version and how to provide it', async () => {
  await withStack(
    'unavailable',
    {
      rawConfig: (raw) => ({
        ...raw,
        toolkit: {
          ...raw.toolkit,
          versions: { install: { ...raw.toolkit?.versions?.install, enabled: false } },
        },
      }),
    },
    async (stack, taskQueue) => {
      const commit = commitFiles(stack.repo.dir, {
        branch: 'future-toolkit',
        from: 'v1',
        files: { 'cdf.toml': '[cdf]\ndefault_organization_dir = "org"\n\n[modules]\nversion = "0.9.99"\n' },
        message: 'Pin a Toolkit this worker does not have',
      });
      const handle = await env.client.workflow.start('promotionWorkflow', {
        taskQueue,
        workflowId: uniqueId('promotion-prod-unavailable'),
        args: [{ environment: 'prod', ref: 'future-toolkit', requestedBy: 'alice' }],
      });
      const result: PromotionResult = await handle.result();
      expect(result.outcome).toBe('diff_failed');
      expect(result.commit).toBe(commit);
      expect(result.failure).toMatch(
        /^ToolkitUnavailableError: Cognite Toolkit 0\.9\.99, pinned by cdf\.toml/,
      );
      expect(result.failure).toContain('on-demand installs are off');
      expect(result.failure).toContain('toolkit.versions.installed."0.9.99"');
      expect(result.timings.map((t) => t.step)).not.toContain('awaiting_approval');
      // Not retried: a missing version does not appear by waiting.
      const history = await handle.fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 1);
      expect(Math.max(...(attempts ?? [1]))).toBe(1);
      expect(stack.alerts.received.length).toBeGreaterThanOrEqual(1);
    },
  );
});

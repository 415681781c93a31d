/**
 * Parked runs and throughput (issue 11, item 4): N promotions waiting for approval on one worker, then all
 * approved at once.
 *
 * A promotion holds its environment (its entity, workflows/environment-workflow.ts) from before its checkout to
 * the end of its smoke check, so N runs can only wait for APPROVAL side by side on N environments: the
 * configuration has N environments, each its own project in the fake CDF. (N runs on one environment would wait
 * in its queue instead, before their diff: cheaper, but not what is asked.) The worker therefore also keeps N
 * environment entities, which are part of what is measured.
 *
 * - RSS: the worker process's resident set (/proc), idle after start-up, then with the N runs parked (after a
 *   settling pause). The worker keeps at most worker.maxCachedWorkflows runs in memory (`--cache` to change it).
 * - completions per second: N divided by the time from the first approval sent to the last run closed (history).
 * - the bare alternative: the same commands by hand, N times in a row (`--bare-runs` of them timed, extrapolated),
 *   and a person's terminal: nothing is held while a plan waits for approval.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type WorkflowHandle } from '@temporalio/client';
import { approveUpdate, statusQuery } from '../contracts/messages';
import { type BenchResult, type Benchmark } from './harness';
import {
  commonStackOptions,
  APPROVER,
  INSTANT_TOOLKIT,
  REQUESTER,
  TASK_QUEUE,
  pool,
  startLoadStack,
  type LoadStack,
} from './load/stack';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function count(stack: LoadStack, query: string): Promise<number> {
  return (await stack.env.client.workflow.count(query)).count;
}

/** Waits until the visibility query counts `n` runs; logs progress. */
async function waitForCount(
  stack: LoadStack,
  query: string,
  n: number,
  timeoutMs: number,
  verbose = true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const c = await count(stack, query);
    if (c >= n) return;
    if (verbose && c !== last) process.stderr.write(`  ${query}: ${c}/${n}\n`);
    last = c;
    if (Date.now() > deadline) throw new Error(`only ${c} of ${n} runs match ${query} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function bareSequenceMs(stack: LoadStack, runs: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) {
    const dir = path.join(stack.dir, 'bare', String(i));
    mkdirSync(path.dirname(dir), { recursive: true });
    execFileSync('git', ['worktree', 'add', '-q', '--force', '--detach', dir, stack.commit], {
      cwd: stack.repo,
    });
    for (const step of ['build', 'diff', 'diff', 'apply'])
      execFileSync(INSTANT_TOOLKIT, [step, path.join(dir, 'build')], { cwd: dir, stdio: 'pipe' });
    rmSync(dir, { recursive: true, force: true });
  }
  execFileSync('git', ['worktree', 'prune'], { cwd: stack.repo });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const parkedRunsBench: Benchmark = {
  name: 'parked-runs',
  async run(options) {
    const n = Number(options.runs ?? 2000);
    const cache = options.cache !== undefined ? Number(options.cache) : undefined;
    const settleMs = Number(options.settle ?? 15_000);
    const stack = await startLoadStack({ ...commonStackOptions(options), environments: n });
    try {
      await sleep(settleMs);
      const idleMb = stack.workerRssMb();
      process.stderr.write(`  memory idle: ${JSON.stringify(stack.workerMemory())}\n`);
      const tag = `bench-parked-${Date.now().toString(36)}`;
      const t0 = Date.now();
      let peakMb = idleMb;
      const sampler = setInterval(() => (peakMb = Math.max(peakMb, stack.workerRssMb())), 500);
      try {
        // Started in waves, each parked before the next starts: a burst of N starts at once keeps N runs and N new
        // entities busy together, far past the workflow cache, and every workflow task becomes a replay.
        const wave = Number(options.wave ?? 25);
        const parkedQuery = `WorkflowType="promotionWorkflow" AND PromotionPhase="awaiting_approval"`;
        const handles: WorkflowHandle[] = [];
        for (let from = 0; from < n; from += wave) {
          const envs = stack.environments.slice(from, from + wave);
          handles.push(
            ...(await pool(envs, wave, (environment, i) =>
              stack.env.client.workflow.start('promotionWorkflow', {
                taskQueue: TASK_QUEUE,
                workflowId: `${tag}-${from + i}`,
                args: [{ environment, ref: 'main', requestedBy: REQUESTER, reason: 'parked-runs benchmark' }],
              }),
            )),
          );
          await waitForCount(stack, parkedQuery, handles.length, 600_000, false);
          if ((from / wave) % 8 === 7) process.stderr.write(`  parked ${handles.length}/${n}\n`);
        }
        const parkedAfterS = (Date.now() - t0) / 1000;
        await sleep(settleMs);
        const parkedMb = stack.workerRssMb();
        process.stderr.write(`  memory parked: ${JSON.stringify(stack.workerMemory())}\n`);
        const planHash = (await handles[0]!.query(statusQuery)).planHash!;
        const approveFrom = Date.now();
        // As `cdf-promote approve` says: when no worker takes the update within the RPC's deadline (a saturated
        // worker), sending it again with the same update id is safe.
        await pool(handles, Number(options['approve-concurrency'] ?? 50), async (h) => {
          for (;;) {
            try {
              return await h.executeUpdate(approveUpdate, {
                args: [{ approver: APPROVER, planHash }],
                updateId: `bench-approve-${h.workflowId}`,
              });
            } catch (err) {
              if (!(err instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw err;
            }
          }
        });
        const approvedAllS = (Date.now() - approveFrom) / 1000;
        const results = await pool(
          handles,
          200,
          (h) => h.result() as Promise<{ outcome: string; failure?: string }>,
        );
        const failed = results.filter((r) => r.outcome !== 'succeeded');
        if (failed.length)
          throw new Error(
            `${failed.length} runs did not succeed: ${failed[0]!.outcome}: ${failed[0]!.failure}`,
          );
        const closedAt = await pool(handles, 50, async (h) => {
          const d = await h.describe();
          return d.closeTime?.getTime() ?? NaN;
        });
        const lastClose = Math.max(...closedAt);
        const completionsPerS = n / ((lastClose - approveFrom) / 1000);
        const bareRuns = Math.min(n, Number(options['bare-runs'] ?? 50));
        const bareMs = bareSequenceMs(stack, bareRuns);
        const bareRate = bareRuns / (bareMs / 1000);
        const threads = options.threads ? `, ${options.threads} workflow threads` : '';
        const label = `parked-runs (${n} on ${n} environments, cache ${cache ?? 'default'}${threads})`;
        process.stderr.write(
          `  parked ${n} runs in ${parkedAfterS.toFixed(0)} s; approvals accepted in ${approvedAllS.toFixed(1)} s; peak RSS ${peakMb.toFixed(0)} MB\n`,
        );
        return [
          { bench: label, metric: 'worker RSS idle', value: idleMb, unit: 'MB' },
          { bench: label, metric: `worker RSS with ${n} parked`, value: parkedMb, unit: 'MB', target: 400 },
          {
            bench: label,
            metric: 'worker RSS per parked run',
            value: ((parkedMb - idleMb) * 1024) / n,
            unit: 'KB',
          },
          { bench: label, metric: 'worker RSS peak', value: peakMb, unit: 'MB' },
          {
            bench: label,
            metric: 'completions/s after approving all',
            value: completionsPerS,
            bare: bareRate,
            unit: '/s',
            target: 50,
            higherIsBetter: true,
          },
        ] satisfies BenchResult[];
      } finally {
        clearInterval(sampler);
      }
    } finally {
      await stack.stop();
    }
  },
};

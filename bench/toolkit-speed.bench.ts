/**
 * The real Toolkit (cdf 0.9.28) against the local CDF sandbox (fakes/cdf), side by side in one run:
 *  - by hand: the bare three commands (`cdf build`, `cdf deploy --dry-run`, `cdf deploy`), each a fresh process;
 *  - the same three through the warm runner (toolkit.warmRunner, activities/process/warm-python.ts);
 *  - the four commands of a promotion (build, dry run, and at apply its safety dry run and the deploy), warm;
 *  - a whole promotion through the service (start, plan, approve at once, apply, smoke checks) with the warm runner
 *    on and off: two stacks on one Temporal dev server.
 * Every round starts from an empty sandbox project, so each deploy creates the demo's resources. Medians of
 * ROUNDS rounds, the variants interleaved so machine load hits them alike. `TOOLKIT_SPEED_ROUNDS=5` for more.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { approveSignal } from '../contracts/messages';
import type { PromotionResult } from '../contracts/types';
import { WarmPythonPool } from '../activities/process/warm-python';
import { warmPython } from '../activities/process/warm-python';
import { type CliToolkitRunner, type ToolkitStep } from '../activities/toolkit/toolkit-runner';
import { FakeCdfAdmin } from '../fakes/cdf/admin-client';
import { startFakeCdf } from '../fakes/cdf/server';
import { startStack, type Stack } from '../test/helpers/stack';
import { startTemporal } from '../test/helpers/temporal-server';
import { uniqueId, waitForPhase } from '../test/helpers/workflows';
import { demoToolkitRunners } from '../test/support/demo-toolkit-runners';
import { type BenchResult, type Benchmark } from './harness';

const ROUNDS = Number(process.env.TOOLKIT_SPEED_ROUNDS ?? 3);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function commandRounds(): Promise<{ hand: number[]; warm3: number[]; warm4: number[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-bench-toolkit-'));
  const fakeCdf = await startFakeCdf({
    port: 0,
    stateFile: path.join(dir, 'fake-cdf.json'),
    projects: ['demo-prod'],
    logger: pino({ level: 'silent' }),
  });
  const admin = new FakeCdfAdmin(fakeCdf.url);
  const pool = new WarmPythonPool();
  try {
    const { repoDir, fresh, warm } = demoToolkitRunners(dir, fakeCdf.url, pool, 'bench-token-0123456789');
    const ctx = {
      environment: 'prod',
      worktreeDir: repoDir,
      buildDir: path.join(dir, 'build'),
      logDir: path.join(dir, 'logs'),
    };
    const steps = async (runner: CliToolkitRunner, list: ToolkitStep[]): Promise<number> => {
      await admin.reset();
      const t0 = performance.now();
      for (const step of list) await runner.run(step, ctx);
      return (performance.now() - t0) / 1000;
    };
    // The helper starts on first use (that command runs fresh); a worker that has run a command has it warm.
    await steps(warm, ['build']);
    await pool.settled();
    const hand: number[] = [];
    const warm3: number[] = [];
    const warm4: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      hand.push(await steps(fresh, ['build', 'diff', 'apply']));
      warm3.push(await steps(warm, ['build', 'diff', 'apply']));
      warm4.push(await steps(warm, ['build', 'diff', 'diff', 'apply']));
    }
    if (pool.stats.warm < ROUNDS * 7) throw new Error(`only ${pool.stats.warm} commands ran warm`);
    return { hand, warm3, warm4 };
  } finally {
    pool.close();
    await fakeCdf.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function promotionRounds(): Promise<{ on: number[]; off: number[] }> {
  // The SDK's own logs (worker state changes) stay out of the table, as in the tests.
  await import('../test/setup-runtime');
  const env = await startTemporal();
  const stacks: Stack[] = [];
  try {
    const stackWith = async (warmRunner: boolean): Promise<Stack> => {
      const taskQueue = `bench-toolkit-speed-${warmRunner ? 'warm' : 'fresh'}`;
      const stack = await startStack({
        rawConfig: (raw) => ({
          ...raw,
          temporal: { ...raw.temporal, taskQueue },
          toolkit: { ...raw.toolkit, warmRunner },
        }),
      });
      stacks.push(stack);
      return stack;
    };
    const on = await stackWith(true);
    const off = await stackWith(false);
    const promote = async (stack: Stack): Promise<number> => {
      await stack.admin.reset();
      const worker = await stack.startWorker(env.nativeConnection);
      return worker.runUntil(async () => {
        const t0 = performance.now();
        const handle = await env.client.workflow.start('promotionWorkflow', {
          taskQueue: stack.config.temporal.taskQueue,
          workflowId: uniqueId('bench-promotion'),
          args: [{ environment: 'prod', ref: 'v2', requestedBy: 'alice', reason: 'toolkit speed bench' }],
        });
        const waiting = await waitForPhase(handle, 'awaiting_approval', 300_000);
        await handle.signal(approveSignal, { approver: 'bob', planHash: waiting.planHash });
        const result = (await handle.result()) as PromotionResult;
        if (result.outcome !== 'succeeded') throw new Error(`promotion ended ${result.outcome}`);
        return (performance.now() - t0) / 1000;
      });
    };
    // One promotion each first: the git mirror, the workflow cache and (warm) the helper are then as a running
    // worker has them.
    await promote(on);
    await warmPython.settled();
    await promote(off);
    const onTimes: number[] = [];
    const offTimes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      offTimes.push(await promote(off));
      onTimes.push(await promote(on));
    }
    return { on: onTimes, off: offTimes };
  } finally {
    warmPython.close();
    for (const s of stacks) await s.stop();
    await env.teardown();
  }
}

export const toolkitSpeedBench: Benchmark = {
  name: 'toolkit-speed',
  async run(): Promise<BenchResult[]> {
    const load = os.loadavg()[0]!.toFixed(2);
    const c = await commandRounds();
    const p = process.env.TOOLKIT_SPEED_NO_PROMOTION ? undefined : await promotionRounds();
    const hand = median(c.hand);
    const bench = `toolkit-speed (cdf 0.9.28, load ${load})`;
    const rows: BenchResult[] = [
      { bench, metric: 'by hand: build + dry run + deploy, fresh', value: hand, unit: 's' },
      { bench, metric: 'the same three, warm runner', value: median(c.warm3), unit: 's' },
      {
        bench,
        metric: 'promotion commands (4, incl. safety dry run), warm',
        value: median(c.warm4),
        unit: 's',
        target: Number(hand.toFixed(2)),
      },
      { bench, metric: 'warm 4 / fresh 3 by hand', value: median(c.warm4) / hand, unit: 'x', target: 1 },
    ];
    if (p) {
      rows.push(
        { bench, metric: 'whole promotion via the service, warm off', value: median(p.off), unit: 's' },
        { bench, metric: 'whole promotion via the service, warm on', value: median(p.on), unit: 's' },
        { bench, metric: 'promotion warm on / by hand', value: median(p.on) / hand, unit: 'x' },
      );
    }
    return rows;
  },
};

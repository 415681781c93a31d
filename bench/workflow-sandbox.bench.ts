/**
 * What a run costs the worker's workflow sandbox before it does anything, the cost paid for every run the worker
 * creates and for every replay of a run it no longer caches: the SDK's `ReusableVMWorkflowCreator` (the sandbox
 * the worker uses, `reuseV8Context`) creating workflows from our bundle, built as the worker's build makes it (zod
 * and the signature code evaluated once and shared, workflows/preloaded-modules.ts) and built without sharing,
 * side by side in one process.
 *
 * - create: median and p90 of `createWorkflow` over 300 runs, at most 10 alive at a time (as a small cache).
 * - heap per run: 200 runs kept alive, heap used after a full GC less before, divided by 200.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildWorkflowBundle } from '../worker/build-workflow-bundle';
import { collectGarbage, freshWorkflowBundle, percentile, type BenchResult, type Benchmark } from './harness';

// Not part of the SDK's public API; the worker uses it for every workflow it runs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { ReusableVMWorkflowCreator } = require('@temporalio/worker/lib/workflow/reusable-vm') as {
  ReusableVMWorkflowCreator: {
    create(
      bundle: { code: string; filename: string; sourceMap: unknown },
      isolateExecutionTimeoutMs: number,
      registeredActivityNames: Set<string>,
      patchActivationCallback: undefined,
    ): Promise<{ createWorkflow(options: unknown): Promise<{ dispose(): Promise<void> }> }>;
  };
};

let nextRun = 0;

function createOptions(): unknown {
  const runId = `bench-run-${nextRun++}`;
  const now = new Date();
  return {
    info: {
      runId,
      workflowId: runId,
      workflowType: 'promotionWorkflow',
      taskQueue: 'bench',
      namespace: 'default',
      attempt: 1,
      historyLength: 0,
      firstExecutionRunId: runId,
      startTime: now,
      runStartTime: now,
      searchAttributes: {},
      typedSearchAttributes: {},
      memo: {},
      unsafe: { isReplaying: false, now: () => Date.now() },
    },
    randomnessSeed: [1, 2],
    now: now.getTime(),
    showStackTraceSources: false,
    failureExceptionTypeNames: [],
  };
}

async function measure(bundlePath: string): Promise<{ p50: number; p90: number; heapKb: number }> {
  const code = readFileSync(bundlePath, 'utf8');
  const inline = code.slice(code.lastIndexOf('base64,') + 'base64,'.length).trim();
  const sourceMap = JSON.parse(Buffer.from(inline, 'base64').toString('utf8')) as unknown;
  const creator = await ReusableVMWorkflowCreator.create(
    { code, filename: bundlePath, sourceMap },
    5_000,
    new Set(),
    undefined,
  );
  const times: number[] = [];
  const alive: Array<{ dispose(): Promise<void> }> = [];
  for (let i = 0; i < 300; i++) {
    const t0 = process.hrtime.bigint();
    alive.push(await creator.createWorkflow(createOptions()));
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (alive.length > 10) await alive.shift()!.dispose();
  }
  for (const w of alive.splice(0)) await w.dispose();
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 200; i++) alive.push(await creator.createWorkflow(createOptions()));
  collectGarbage();
  const heapKb = (process.memoryUsage().heapUsed - before) / 200 / 1024;
  for (const w of alive.splice(0)) await w.dispose();
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p90: percentile(times, 90), heapKb };
}

export const workflowSandboxBench: Benchmark = {
  name: 'workflow-sandbox',
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-promo-sandbox-bench-'));
    try {
      // The worker's bundle as the other benchmarks load it, and the same code built without sharing.
      const shared = await freshWorkflowBundle();
      const unshared = path.join(dir, 'unshared.js');
      await buildWorkflowBundle(unshared, []);
      const rows: BenchResult[] = [];
      for (const [label, file] of [
        ['libraries shared (the worker)', shared],
        ['libraries evaluated per run', unshared],
      ] as const) {
        const m = await measure(file);
        const bench = `workflow-sandbox: create a run, ${label}`;
        rows.push(
          { bench, metric: 'createWorkflow median', value: m.p50, unit: 'ms' },
          { bench, metric: 'createWorkflow p90', value: m.p90, unit: 'ms' },
          { bench, metric: 'heap per run', value: m.heapKb, unit: 'KB' },
        );
      }
      return rows;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

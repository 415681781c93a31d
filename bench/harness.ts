/** Tiny benchmark harness: timing, heap sampling and the result rows bench/run.ts prints. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface BenchResult {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** Upper bound the value should stay under (or lower bound when `higherIsBetter`). */
  target?: number;
  higherIsBetter?: boolean;
  /** The same measurement for the bare alternative (the commands without the service), printed beside it. */
  bare?: number;
}

/** `--name value` options from the command line (`--runs 200`); a flag without a value is `'true'`. */
export type BenchOptions = Record<string, string | undefined>;

/** `key=value` cut at the first `=` only: a value may hold more (`NODE_OPTIONS=--max-semi-space-size=16`). */
export function keyAndValue(text: string): [string, string] {
  const at = text.indexOf('=');
  return at < 0 ? [text, ''] : [text.slice(0, at), text.slice(at + 1)];
}

export interface Benchmark {
  name: string;
  run(options: BenchOptions): Promise<BenchResult[]>;
}

let gcFn: (() => void) | undefined;

/** A full GC, so heap numbers do not depend on what ran before. Works without starting node with --expose-gc. */
export function collectGarbage(): void {
  if (!gcFn) {
    const existing = (globalThis as { gc?: () => void }).gc;
    if (existing) gcFn = existing;
    else {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    }
  }
  gcFn();
  gcFn();
}

export function heapUsedMb(): number {
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

/** Runs fn `iterations` times after `warmup` runs; returns per-run milliseconds, sorted ascending. */
export async function timeRuns(fn: () => unknown, iterations: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/**
 * The prebuilt workflow bundle the benchmarks' worker processes load (data/test/workflow-bundle.js), built again
 * when workflow code changed since: a stale one would measure the workflows of an older checkout. Left alone
 * otherwise, as a worker of another benchmark may be loading it.
 */
export async function freshWorkflowBundle(): Promise<string> {
  const { buildWorkflowBundle } = await import('../worker/build-workflow-bundle');
  const { BUNDLE_PATH } = await import('../test/helpers/temporal-server');
  const root = path.resolve(__dirname, '..');
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { recursive: true, encoding: 'utf8' }).map(
        (f) => statSync(path.join(dir, f)).mtimeMs,
      ),
    );
  const sources = Math.max(
    ...['workflows', 'contracts', 'config'].map((d) => newest(path.join(root, d))),
    statSync(path.join(root, 'worker', 'build-workflow-bundle.ts')).mtimeMs,
  );
  if (!existsSync(BUNDLE_PATH) || statSync(BUNDLE_PATH).mtimeMs < sources)
    await buildWorkflowBundle(BUNDLE_PATH);
  return BUNDLE_PATH;
}

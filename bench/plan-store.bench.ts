/** Plan put/get throughput of the filesystem artifact store for 1 MB plan texts in a temporary directory (it does not fsync). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FilesystemArtifactStore } from '../artifacts/filesystem-artifact-store';
import { type BenchResult, type Benchmark, percentile } from './harness';

const PLAN_BYTES = 1024 * 1024;
const PLANS = 40;

function plan(i: number): string {
  const line = `│  views: bench_space:item_${i} ${'x'.repeat(60)}  │\n`;
  return `plan ${i}\n${line.repeat(Math.ceil(PLAN_BYTES / Buffer.byteLength(line, 'utf8')))}`.slice(
    0,
    PLAN_BYTES,
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const planStoreBench: Benchmark = {
  name: 'plan-store',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdf-bench-plans-'));
    try {
      const store = new FilesystemArtifactStore(dir);
      const texts = Array.from({ length: PLANS }, (_, i) => plan(i));
      const mb = Buffer.byteLength(texts[0]!, 'utf8') / 1024 / 1024;
      const hashes: string[] = [];
      const putMs: number[] = [];
      for (const t of texts) putMs.push(await timed(async () => hashes.push((await store.putPlan(t)).hash)));
      const dupMs: number[] = [];
      for (const t of texts) dupMs.push(await timed(() => store.putPlan(t)));
      const getMs: number[] = [];
      for (const h of hashes) getMs.push(await timed(() => store.getPlan(h)));
      const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
      const bench = `plan-store (${PLANS} × ${mb.toFixed(1)} MB)`;
      return [
        {
          bench,
          metric: 'put (new) median',
          value: percentile(
            [...putMs].sort((a, b) => a - b),
            50,
          ),
          unit: 'ms',
          target: 50,
        },
        {
          bench,
          metric: 'put (new) throughput',
          value: (PLANS * mb) / (sum(putMs) / 1000),
          unit: 'MB/s',
          target: 50,
          higherIsBetter: true,
        },
        {
          bench,
          metric: 'put (already stored) median',
          value: percentile(
            [...dupMs].sort((a, b) => a - b),
            50,
          ),
          unit: 'ms',
          target: 20,
        },
        {
          bench,
          metric: 'get median',
          value: percentile(
            [...getMs].sort((a, b) => a - b),
            50,
          ),
          unit: 'ms',
          target: 50,
        },
        {
          bench,
          metric: 'get throughput',
          value: (PLANS * mb) / (sum(getMs) / 1000),
          unit: 'MB/s',
          target: 50,
          higherIsBetter: true,
        },
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

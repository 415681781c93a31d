/**
 * Runs every benchmark and prints one table: `npm run bench` (or `npx tsx bench/run.ts [name...]`).
 * Exit code 1 when a result misses its target, so CI can run it as an optional job. Not part of `npm test`.
 */
import os from 'node:os';
import { type BenchResult, type Benchmark } from './harness';
import { parsePlanBench } from './parse-plan.bench';
import { planStoreBench } from './plan-store.bench';
import { largePlanBench } from './large-plan.bench';
import { toolkitSpeedBench } from './toolkit-speed.bench';

const BENCHMARKS: Benchmark[] = [parsePlanBench, planStoreBench, largePlanBench, toolkitSpeedBench];

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function meets(r: BenchResult): boolean | undefined {
  if (r.target === undefined) return undefined;
  return r.higherIsBetter ? r.value >= r.target : r.value <= r.target;
}

function printTable(results: BenchResult[]): void {
  const rows = [
    ['benchmark', 'metric', 'value', 'target', 'ok'],
    ...results.map((r) => {
      const ok = meets(r);
      return [
        r.bench,
        r.metric,
        `${fmt(r.value)} ${r.unit}`,
        r.target === undefined ? '' : `${r.higherIsBetter ? '≥' : '<'} ${r.target} ${r.unit}`,
        ok === undefined ? '' : ok ? 'yes' : 'NO',
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row
      .map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const selected = only.length ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS;
  if (selected.length === 0)
    throw new Error(
      `no benchmark named ${only.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
  console.log(
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}\n`,
  );
  const results: BenchResult[] = [];
  for (const b of selected) results.push(...(await b.run()));
  printTable(results);
  if (results.some((r) => meets(r) === false)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

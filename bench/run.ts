/**
 * Runs every benchmark and prints one table: `npm run bench` (or `npx tsx bench/run.ts [name...]`).
 * Exit code 1 when a result misses its target, so CI can run it as an optional job. Not part of `npm test`.
 */
import os from 'node:os';
import { keyAndValue, type BenchOptions, type BenchResult, type Benchmark } from './harness';
import { overheadBench } from './overhead.bench';
import { parkedRunsBench } from './parked-runs.bench';
import { parsePlanBench } from './parse-plan.bench';
import { planStoreBench } from './plan-store.bench';
import { largePlanBench } from './large-plan.bench';
import { toolkitSpeedBench } from './toolkit-speed.bench';
import { workflowSandboxBench } from './workflow-sandbox.bench';

const BENCHMARKS: Benchmark[] = [
  parsePlanBench,
  planStoreBench,
  largePlanBench,
  toolkitSpeedBench,
  parkedRunsBench,
  overheadBench,
  workflowSandboxBench,
];

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function meets(r: BenchResult): boolean | undefined {
  if (r.target === undefined) return undefined;
  return r.higherIsBetter ? r.value >= r.target : r.value <= r.target;
}

function printTable(results: BenchResult[]): void {
  // The load benchmarks measure the bare alternative beside the service: a column for it when there is one.
  const withBare = results.some((r) => r.bare !== undefined);
  const rows = [
    ['benchmark', 'metric', 'value', ...(withBare ? ['bare'] : []), 'target', 'ok'],
    ...results.map((r) => {
      const ok = meets(r);
      return [
        r.bench,
        r.metric,
        `${fmt(r.value)} ${r.unit}`,
        ...(withBare ? [r.bare === undefined ? '' : `${fmt(r.bare)} ${r.unit}`] : []),
        r.target === undefined ? '' : `${r.higherIsBetter ? '≥' : '<'} ${r.target} ${r.unit}`,
        ok === undefined ? '' : ok ? 'yes' : 'NO',
      ];
    }),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row
      .map((c, i) => (i === 2 || (withBare && i === 3) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows.slice(1)) console.log(line(row));
}

/**
 * Benchmark names and `--name value` options (`parked-runs --runs 200`); `--name=value` for a value that starts
 * with dashes (`--worker-node-args=--max-semi-space-size=4`).
 */
function parseArgs(argv: string[]): { only: string[]; options: BenchOptions } {
  const only: string[] = [];
  const options: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) only.push(arg);
    else if (arg.includes('=')) {
      const [name, value] = keyAndValue(arg.slice(2));
      options[name] = value;
    } else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) options[arg.slice(2)] = argv[++i];
    else options[arg.slice(2)] = 'true';
  }
  return { only, options };
}

async function main(): Promise<void> {
  const { only, options } = parseArgs(process.argv.slice(2));
  const selected = only.length ? BENCHMARKS.filter((b) => only.includes(b.name)) : BENCHMARKS;
  if (selected.length === 0)
    throw new Error(
      `no benchmark named ${only.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
    );
  console.log(
    `node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const results: BenchResult[] = [];
  for (const b of selected) results.push(...(await b.run(options)));
  printTable(results);
  if (results.some((r) => meets(r) === false)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

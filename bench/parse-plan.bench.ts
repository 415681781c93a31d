/**
 * parseDryRunOutput on a large `cdf deploy --dry-run --verbose` text: 40 resource types in the summary table and
 * 2000 verbose diff panels, rendered by test/support/rich-render.ts (rich's layout, checked against real captures).
 */
import { execFileSync } from 'node:child_process';
import { parseDryRunOutput } from '../activities/toolkit/dry-run-parser';
import { DIFF_PANELS, RESOURCE_TYPES, generateDryRunText } from '../test/support/large-plan';
import {
  type BenchResult,
  type Benchmark,
  collectGarbage,
  heapUsedMb,
  percentile,
  timeRuns,
} from './harness';

export { DIFF_PANELS, RESOURCE_TYPES, generateDryRunText };

export const parsePlanBench: Benchmark = {
  name: 'parse-plan',
  async run(): Promise<BenchResult[]> {
    const text = generateDryRunText();
    const check = parseDryRunOutput(text);
    if (check.resources.length !== RESOURCE_TYPES || check.resourceDiffs.length !== DIFF_PANELS) {
      throw new Error(
        `generated plan parsed wrongly: ${check.resources.length} types, ${check.resourceDiffs.length} panels`,
      );
    }
    const times = await timeRuns(() => parseDryRunOutput(text), 15, 3);

    const heap = heapInChild();
    const sizeMb = Buffer.byteLength(text, 'utf8') / 1024 / 1024;
    const bench = `parse-plan (${RESOURCE_TYPES} types, ${DIFF_PANELS} panels, ${sizeMb.toFixed(1)} MB)`;
    return [
      { bench, metric: 'median', value: percentile(times, 50), unit: 'ms', target: 200 },
      { bench, metric: 'p90', value: percentile(times, 90), unit: 'ms', target: 200 },
      { bench, metric: 'heap allocated by one parse', value: heap.allocatedMb, unit: 'MB', target: 50 },
      { bench, metric: 'heap retained by the result', value: heap.retainedMb, unit: 'MB', target: 50 },
    ];
  },
};

interface HeapProbe {
  allocatedMb: number;
  retainedMb: number;
}

/**
 * Heap of one parse, measured in a child node whose young generation (128 MB semi-spaces) is big enough that no
 * GC runs during the parse: heapUsed after minus before is then everything the parse allocated, an upper bound of
 * its peak heap. The retained figure is measured after a full GC while the result is still referenced.
 */
function heapInChild(): HeapProbe {
  const out = execFileSync(
    process.execPath,
    ['--min-semi-space-size=128', '--max-semi-space-size=128', '--import', 'tsx', __filename, '--heap-probe'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as HeapProbe;
}

function heapProbe(): void {
  const text = generateDryRunText();
  parseDryRunOutput(text); // warm up: compile the parser's code before measuring
  collectGarbage();
  const before = heapUsedMb();
  const result = parseDryRunOutput(text);
  const allocatedMb = heapUsedMb() - before;
  collectGarbage();
  const retainedMb = heapUsedMb() - before;
  if (result.resourceDiffs.length !== DIFF_PANELS) throw new Error('heap probe parsed wrongly');
  process.stdout.write(`${JSON.stringify({ allocatedMb, retainedMb } satisfies HeapProbe)}\n`);
}

if (process.argv.includes('--heap-probe')) heapProbe();

/**
 * The benchmarks' worker process: the production start-up (worker/run-worker.ts), as test/support/worker-main.ts
 * runs it, plus a `memory` log line every second (process.memoryUsage), so a benchmark can tell the JavaScript
 * heap from native memory (the SDK's core, buffers) in the worker's RSS.
 */
import { runWorker } from '../../worker/run-worker';
import { BUNDLE_PATH } from '../../test/helpers/temporal-server';

interface Report {
  workers?: Array<{ javascriptHeap?: { usedMemory?: number; totalMemory?: number } }>;
}

setInterval(() => {
  const m = process.memoryUsage();
  const mb = (n: number): number => Math.round(n / 1024 / 1024);
  // The workflows run in a worker thread of their own: its heap is not in memoryUsage(), the report has it.
  const workers = ((process.report.getReport() as Report).workers ?? []).map((w) => ({
    used: mb(w.javascriptHeap?.usedMemory ?? 0),
    total: mb(w.javascriptHeap?.totalMemory ?? 0),
  }));
  const line = {
    msg: 'memory',
    rss: mb(m.rss),
    heapUsed: mb(m.heapUsed),
    heapTotal: mb(m.heapTotal),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
    workflowThreads: workers,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}, 2000).unref();

runWorker({ workflowBundlePath: BUNDLE_PATH }).catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

/**
 * Worker entry point: load and validate the configuration, then poll the task queue until SIGINT/SIGTERM
 * (worker/run-worker.ts). In-flight activities are cancelled on shutdown and retried by the next worker;
 * workflows resume from history.
 */
import { runWorker } from './run-worker';

runWorker().catch((err) => {
  // The configuration error message already names the bad keys; print it plainly.
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

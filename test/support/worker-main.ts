/**
 * A worker process for the tests that need real OS processes (several workers, SIGKILL): the production start-up
 * (worker/run-worker.ts: the config file named by CDF_PROMOTION_CONFIG, alert checks, retrying connect), with
 * the workflow bundle the test run built once instead of bundling again in every process.
 */
import { runWorker } from '../../worker/run-worker';
import { BUNDLE_PATH } from '../helpers/temporal-server';

runWorker({ workflowBundlePath: BUNDLE_PATH }).catch((err) => {
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

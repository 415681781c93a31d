/**
 * Bundles the workflows once at build time so the worker starts without webpack. Output: dist/workflow-bundle.js
 * (or the path given as the first argument).
 */
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Evaluated once per worker and shared by its workflows (workflows/preloaded-modules.ts says which and why). */
export const PRELOADED_WORKFLOW_MODULES = [require.resolve('../workflows/preloaded-modules')];

export async function buildWorkflowBundle(
  outFile: string,
  /** The benchmarks build one without (bench/workflow-sandbox.bench.ts) to show what sharing saves. */
  preloadModules: string[] = PRELOADED_WORKFLOW_MODULES,
): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    preloadModules,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, code);
}

if (require.main === module) {
  const out = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'workflow-bundle.js'));
  buildWorkflowBundle(out)
    .then(() => console.log(`workflow bundle written to ${out}`))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}

import { writeFile } from 'node:fs/promises';
import { bundleWorkflowCode } from '@temporalio/worker';
(async () => {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('/work/wt-bench-load/workflows'),
    preloadModules: (process.env.PRELOAD ?? '').split(',').filter(Boolean),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  await writeFile(process.argv[2]!, code);
})();

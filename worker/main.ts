/**
 * Worker entry point: load and validate the configuration, then poll the task queue until SIGINT/SIGTERM.
 * In-flight activities are cancelled on shutdown and retried by the next worker; workflows resume from history.
 */
import { NativeConnection } from '@temporalio/worker';
import { checkAlertChannels } from '../activities/alerts/alert-channels';
import { loadConfig } from '../config/load-config';
import { ConfigurationError } from '../contracts/errors';
import { createWorker } from './create-worker';
import { createLogger } from './logger';
import { installRuntime } from './runtime';

async function main(): Promise<void> {
  const logger = createLogger({ name: 'worker' });
  const config = loadConfig();
  // Alert URLs carry tokens: check them now, naming the variable, never printing the value.
  const alertProblems = checkAlertChannels(config.environments, process.env);
  if (alertProblems.length) {
    throw new ConfigurationError(
      `alert channels are not usable:\n${alertProblems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  installRuntime(logger);
  const connection = await connectWithRetry(config.temporal.address, logger);
  const worker = await createWorker({
    config,
    logger,
    connection,
    workerOptions: { shutdownGraceTime: '10s' },
  });
  logger.info(
    {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      environments: Object.keys(config.environments),
      config: config.source,
    },
    'worker started',
  );
  await worker.run();
  await connection.close();
  logger.info('worker stopped');
}

async function connectWithRetry(
  address: string,
  logger: ReturnType<typeof createLogger>,
): Promise<NativeConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await NativeConnection.connect({ address });
    } catch (err) {
      if (attempt >= 30) throw err;
      logger.warn({ address, attempt }, 'Temporal server not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

main().catch((err) => {
  // The configuration error message already names the bad keys; print it plainly.
  process.stderr.write(`worker failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

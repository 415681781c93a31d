/**
 * What a worker process does from start to stop: load and validate the configuration, check the alert
 * channels, connect to Temporal (retrying while the server comes up), then poll the task queue until SIGINT or
 * SIGTERM. worker/main.ts runs it in production; the several-workers test runs it in real OS processes too.
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { checkAlertChannels } from '../activities/alerts/alert-channels';
import { loadConfig } from '../config/load-config';
import { ConfigurationError } from '../contracts/errors';
import { createWorker } from './create-worker';
import { createLogger } from './logger';
import { initializeCounters, installRuntime, metricsBindAddress } from './runtime';

export interface RunWorkerOptions {
  /** A prebuilt workflow bundle (tests build one per run); default: the one beside the compiled worker. */
  workflowBundlePath?: string;
}

export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const logger = createLogger({ name: 'worker' });
  const config = loadConfig();
  // Alert URLs carry tokens: check them now, naming the variable, never printing the value.
  const alertProblems = checkAlertChannels(config.environments, process.env);
  if (alertProblems.length) {
    throw new ConfigurationError(
      `alert channels are not usable:\n${alertProblems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  installRuntime(logger, config.metrics);
  if (config.metrics.enabled) initializeCounters(Runtime.instance().metricMeter, config);
  const connection = await connectWithRetry(config.temporal.address, logger);
  const worker = await createWorker({
    config,
    logger,
    connection,
    workflowBundlePath: options.workflowBundlePath,
    workerOptions: { shutdownGraceTime: '10s' },
  });
  logger.info(
    {
      address: config.temporal.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      environments: Object.keys(config.environments),
      artifacts: config.artifacts.store,
      config: config.source,
      metrics: config.metrics.enabled ? `http://${metricsBindAddress(config.metrics)}/metrics` : 'off',
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

/**
 * Wires a Worker from a configuration: real clients into the activity factory, the prebuilt workflow bundle
 * when there is one. Used by the worker's main and by the integration tests, so both run the same wiring.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities';
import { alertChannelSecrets, HttpAlertSender } from '../activities/alerts/alert-channels';
import { openArtifactStore } from '../artifacts/open-artifact-store';
import { createCdfClientFactory } from '../activities/cdf/cdf-client-factory';
import { MAX_HEARTBEAT_THROTTLE_MS } from '../activities/heartbeat';
import { serverHeartbeatReceipts } from '../activities/heartbeat-receipts';
import { ConfigRepository } from '../activities/git/config-repository';
import { EntityLedger, EnvironmentEntities } from '../activities/environments/environment-entities';
import { DeploymentLedger } from '../activities/ledger/deployment-ledger';
import type { EnvironmentWorkflowInput } from '../contracts/environment-entity';
import { createActivityMetrics } from '../activities/metrics';
import { createToolkitResolver } from '../activities/toolkit/toolkit-resolver';
import { CliToolkitRunner } from '../activities/toolkit/toolkit-runner';
import { sweepOrphanedGroups, useProcessRegistry } from '../activities/process/orphan-guard';
import { SpawnHelper, activeSpawnHelper, useSpawnHelper } from '../activities/process/spawn-helper';
import { warmPython } from '../activities/process/warm-python';
import { dataLayout } from '../config/data-layout';
import type { WorkerConfig } from '../config/schema';
import { PRELOADED_WORKFLOW_MODULES } from './build-workflow-bundle';

export const DEFAULT_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

export interface CreateWorkerOptions {
  config: WorkerConfig;
  logger: Logger;
  connection?: NativeConnection;
  secrets?: NodeJS.ProcessEnv;
  /** Path of a bundle made by worker/build-workflow-bundle; falls back to bundling from source. */
  workflowBundlePath?: string;
  /** Replace some injected clients (tests). */
  overrides?: Partial<ActivityDeps>;
  workerOptions?: Partial<WorkerOptions>;
  /** Settings for environment entities this worker starts (tests shorten the dead-run check). */
  entityInput?: Partial<EnvironmentWorkflowInput>;
}

export function createDefaultDeps(
  config: WorkerConfig,
  logger: Logger,
  secrets: NodeJS.ProcessEnv,
  client: Client,
  entityInput: Partial<EnvironmentWorkflowInput> = {},
): ActivityDeps {
  const layout = dataLayout(config.dataDir);
  const entities = new EnvironmentEntities(client, config.temporal.taskQueue, entityInput);
  const metrics = createActivityMetrics();
  return {
    entities,
    legacyLedger: new DeploymentLedger(layout.ledger),
    config,
    logger,
    toolkit: new CliToolkitRunner({ config, secrets, metrics, warm: warmPythonFor(logger) }),
    repository: new ConfigRepository({ url: config.repository.url, mirrorDir: layout.mirror }),
    cdf: createCdfClientFactory(config.environments, secrets),
    alerts: new HttpAlertSender(secrets),
    artifacts: openArtifactStore(config.artifacts),
    ledger: new EntityLedger(entities),
    resolver: createToolkitResolver(config.toolkit),
    secretsToMask: alertChannelSecrets(config.environments, secrets),
    metrics,
    heartbeatReceipts: serverHeartbeatReceipts(client),
  };
}

function warmPythonFor(logger: Logger): typeof warmPython {
  warmPython.logger = logger;
  return warmPython;
}

export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config, logger } = options;
  // Toolkit commands a dead worker left running (its watchdog died with it) would race this worker's retries.
  useProcessRegistry(dataLayout(config.dataDir).processes);
  const swept = sweepOrphanedGroups();
  if (swept.length)
    logger.warn({ groups: swept }, 'ended Toolkit commands left running by a worker that is gone');
  if (config.worker.spawnHelper) {
    const helper = activeSpawnHelper() ?? new SpawnHelper(logger);
    useSpawnHelper(helper);
    await helper.start();
  } else {
    useSpawnHelper(undefined);
  }
  const connection =
    options.connection ?? (await NativeConnection.connect({ address: config.temporal.address }));
  // Activities talk to environment entities through a client on the worker's own connection.
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const deps = {
    ...createDefaultDeps(config, logger, options.secrets ?? process.env, client, options.entityInput),
    ...options.overrides,
  };
  const bundlePath = options.workflowBundlePath ?? DEFAULT_BUNDLE_PATH;
  const workflowSource = existsSync(bundlePath)
    ? { workflowBundle: { codePath: bundlePath } }
    : {
        workflowsPath: require.resolve('../workflows'),
        bundlerOptions: { preloadModules: PRELOADED_WORKFLOW_MODULES },
      };
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities: createActivities(deps),
    ...workflowSource,
    // Steps beat every 2 s (activities/heartbeat.ts) and the presets' heartbeat timeout is 8 s. A short throttle
    // lets a beat go out soon after it is made: an apply waits for its "deploy started" beat before deploying.
    maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE_MS,
    // Runs parked at approval are evicted past this many and replayed when they are woken.
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    workflowThreadPoolSize: config.worker.workflowThreads,
    ...options.workerOptions,
  });
}

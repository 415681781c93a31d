/**
 * Everything a promotion needs besides Temporal: the CDF sandbox, a demo config repository with two commits,
 * an alert receiver, and a validated worker configuration pointing at them. All real processes and real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { startAlertReceiver, type AlertReceiver } from '../../sandbox/alert-receiver';
import { SandboxAdmin } from '../../sandbox/admin-client';
import { startSandbox, type RunningSandbox } from '../../sandbox/server';
import { ensureDemoRepo, type DemoRepo } from '../../scripts/demo-repo';
import { parseConfig, type RawConfig, type WorkerConfig } from '../../worker/config';
import { createWorker } from '../../worker/create-worker';
import type { ActivityDeps } from '../../activities';
import { BUNDLE_PATH } from './temporal-server';

const ROOT = path.resolve(__dirname, '..', '..');
export const STANDIN_CDF = path.join(ROOT, 'sandbox', 'toolkit-standin', 'bin', 'cdf');
export const REAL_CDF = path.join(ROOT, '.venv', 'bin', 'cdf');
export const TASK_QUEUE = 'cdf-promotions-test';

export interface Stack {
  dir: string;
  sandbox: RunningSandbox;
  admin: SandboxAdmin;
  alerts: AlertReceiver;
  repo: DemoRepo;
  config: WorkerConfig;
  /** The configuration as written before validation, e.g. to save it as a YAML file for the CLI. */
  raw: RawConfig;
  secrets: NodeJS.ProcessEnv;
  logger: pino.Logger;
  startWorker(connection: NativeConnection, overrides?: Partial<ActivityDeps>): Promise<Worker>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Deep-merged into the prod environment of the default config. */
  prod?: Record<string, unknown>;
  rawConfig?: (raw: RawConfig) => RawConfig;
  sandboxStateFile?: string;
  /**
   * The real `cdf` by default. The stand-in only where a test needs a failure the real CLI hides: it retries
   * 5xx ten times with backoff itself, so an activity-level retry test would take minutes.
   */
  toolkit?: 'real' | 'standin';
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-promo-test-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const sandbox = await startSandbox({
    port: 0,
    stateFile: options.sandboxStateFile ?? path.join(dir, 'sandbox-state.json'),
    projects: ['demo-dev', 'demo-prod'],
    logger: logger.child({ name: 'sandbox' }),
  });
  const alerts = await startAlertReceiver();
  const repo = ensureDemoRepo(path.join(dir, 'config-repo'));
  const prod = {
    cdfProject: 'demo-prod',
    baseUrl: sandbox.url,
    credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_PROD' },
    approval: { timeout: '1h', approvers: ['bob', 'carol'], requiredApprovals: 1 },
    smoke: {
      dataModels: [{ space: 'demo_space', externalId: 'PumpModel', version: 'v1' }],
      minAssets: 2,
      transformations: [{ externalId: 'pump_tr', window: '1h' }],
    },
    alerts: [
      { type: 'webhook', name: 'ops-webhook', urlEnv: 'ALERT_WEBHOOK_URL' },
      { type: 'slack', name: 'ops-slack', urlEnv: 'SLACK_WEBHOOK_URL' },
    ],
    ...options.prod,
  };
  let raw: RawConfig = {
    temporal: {
      address: 'unused',
      namespace: 'default',
      taskQueue: TASK_QUEUE,
      uiUrl: 'http://127.0.0.1:8233',
    },
    repository: { url: repo.dir, organizationDir: 'org' },
    dataDir: path.join(dir, 'data'),
    toolkit: { profile: 'cdf', executable: options.toolkit === 'standin' ? STANDIN_CDF : REAL_CDF },
    environments: { prod: prod as RawConfig['environments'][string] },
  };
  if (options.rawConfig) raw = options.rawConfig(raw);
  const config = parseConfig(raw, path.join(dir, 'promotion.yaml'));
  const secrets: NodeJS.ProcessEnv = {
    ...process.env,
    CDF_TOKEN_PROD: 'test-token-prod-0123456789',
    ALERT_WEBHOOK_URL: `${alerts.url}/webhook`,
    SLACK_WEBHOOK_URL: `${alerts.url}/slack`,
  };
  const workers: Worker[] = [];
  return {
    dir,
    sandbox,
    admin: new SandboxAdmin(sandbox.url),
    alerts,
    repo,
    config,
    raw,
    secrets,
    logger,
    async startWorker(connection, overrides) {
      const worker = await createWorker({
        config,
        logger,
        connection,
        secrets,
        workflowBundlePath: BUNDLE_PATH,
        overrides,
        workerOptions: { shutdownGraceTime: '1s' },
      });
      workers.push(worker);
      return worker;
    },
    async stop() {
      await sandbox.close();
      await alerts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

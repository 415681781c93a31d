/**
 * Everything a promotion needs besides Temporal: the fake CDF, a demo config repository with two commits,
 * an alert receiver, and a validated worker configuration pointing at them. All real processes and real HTTP.
 */
import type { EnvironmentWorkflowInput } from '../../contracts/environment-entity';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { startAlertReceiver, type AlertReceiver } from '../../fakes/alert-receiver';
import { FakeCdfAdmin } from '../../fakes/cdf/admin-client';
import { startFakeCdf, type RunningFakeCdf } from '../../fakes/cdf/server';
import { ensureDemoRepo, type DemoRepo } from '../../scripts/demo-repo';
import { parseConfig } from '../../config/load-config';
import { type RawConfig, type WorkerConfig } from '../../config/schema';
import { createWorker } from '../../worker/create-worker';
import type { ActivityDeps } from '../../activities';
import { BUNDLE_PATH } from './temporal-server';

const ROOT = path.resolve(__dirname, '..', '..');
/** The Toolkit cache scripts/ensure-tools.sh fills with every version in scripts/versions.env. */
export const TOOLKIT_CACHE = path.join(ROOT, 'data', 'toolkits');
export const TASK_QUEUE = 'cdf-promotions-test';

export interface Stack {
  dir: string;
  fakeCdf: RunningFakeCdf;
  admin: FakeCdfAdmin;
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
  /** The Toolkit version each demo commit pins (default: v1 0.8.271, v2 0.9.28). */
  toolkitVersions?: { first: string; second: string };
  fakeCdfStateFile?: string;
  /** Settings of the environment entities the worker starts (a short dead-run check, early continue-as-new). */
  entityInput?: Partial<EnvironmentWorkflowInput>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-promo-test-'));
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const fakeCdf = await startFakeCdf({
    port: 0,
    stateFile: options.fakeCdfStateFile ?? path.join(dir, 'fake-cdf-state.json'),
    projects: ['demo-dev', 'demo-prod'],
    logger: logger.child({ name: 'fake-cdf' }),
  });
  const alerts = await startAlertReceiver();
  const repo = ensureDemoRepo(path.join(dir, 'config-repo'), { toolkitVersions: options.toolkitVersions });
  const prod = {
    cdfProject: 'demo-prod',
    baseUrl: fakeCdf.url,
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
    // Each commit's cdf.toml picks the Toolkit version; the cache already holds the pinned ones.
    toolkit: { profile: 'cdf', versions: { install: { cacheDir: TOOLKIT_CACHE } } },
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
    fakeCdf,
    admin: new FakeCdfAdmin(fakeCdf.url),
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
        entityInput: options.entityInput,
      });
      workers.push(worker);
      return worker;
    },
    async stop() {
      await fakeCdf.close();
      await alerts.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the receiver got that is not an approval notice or reminder, nor a PagerDuty resolve: the failure alerts. */
export function failureAlerts(received: AlertReceiver['received']): AlertReceiver['received'] {
  return received.filter((a) => !isNotice(a.body) && !isResolve(a.body));
}

/** Approval notices and reminders the receiver got (webhook event, Slack text or Teams card title). */
export function approvalNotices(received: AlertReceiver['received']): AlertReceiver['received'] {
  return received.filter((a) => isNotice(a.body));
}

/** The title of a Teams card (its first text run), if the body is one. */
export function teamsTitle(body: unknown): string | undefined {
  const card = (
    body as { attachments?: Array<{ content?: { body?: Array<{ inlines?: Array<{ text?: unknown }> }> } }> }
  ).attachments?.[0]?.content;
  const title = card?.body?.[0]?.inlines?.[0]?.text;
  return typeof title === 'string' ? title : undefined;
}

function isNotice(body: unknown): boolean {
  const b = body as { event?: string; text?: string };
  return (
    (typeof b.event === 'string' && /needs-approval|approval-reminder/.test(b.event)) ||
    (typeof b.text === 'string' && /^Approval (needed|reminder):/.test(b.text)) ||
    /^Approval (needed|reminder):/.test(teamsTitle(body) ?? '')
  );
}

/** A PagerDuty resolve: a run succeeded, nothing failed. */
function isResolve(body: unknown): boolean {
  return (body as { event_action?: unknown }).event_action === 'resolve';
}

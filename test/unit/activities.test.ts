import { DeploymentLedger } from '../../activities/ledger/deployment-ledger';
import path from 'node:path';
import type { EnvironmentEntities } from '../../activities/environments/environment-entities';
import pino from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDeps } from '../../activities/index';
import type { AlertMessage, AlertSender } from '../../activities/alerts/alert-channels';
import { FilesystemArtifactStore } from '../../artifacts/filesystem-artifact-store';
import type { CdfClientFactory } from '../../activities/cdf/cdf-client-factory';
import type { ConfigRepository } from '../../activities/git/config-repository';
import { createToolkitResolver } from '../../activities/toolkit/toolkit-resolver';
import type { ToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import type { AlertRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { AlertChannelConfig } from '../../config/schema';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

interface SendCall {
  channel: string;
  message: AlertMessage;
}

/** Records every send; `failures` says how many times a channel (by name) fails before it succeeds. */
class FakeAlertSender implements AlertSender {
  calls: SendCall[] = [];
  constructor(private readonly failures: Record<string, number | 'config'> = {}) {}
  async send(channel: AlertChannelConfig, message: AlertMessage): Promise<void> {
    const name = channel.name ?? channel.type;
    this.calls.push({ channel: name, message });
    const f = this.failures[name];
    if (f === 'config')
      throw new PromotionError(
        ErrorType.Configuration,
        `environment variable ${channel.urlEnv} is not set on the worker`,
      );
    if (typeof f === 'number' && f > 0) {
      this.failures[name] = f - 1;
      throw new PromotionError(ErrorType.AlertDelivery, `alert to ${channel.type} answered 503`);
    }
  }
  notices: string[] = [];
  async notify(channel: AlertChannelConfig): Promise<void> {
    this.notices.push(channel.name ?? channel.type);
  }
  async resolve(): Promise<void> {}
  sentTo(): string[] {
    return this.calls.map((c) => c.channel);
  }
}

const tmp = tempDir('cdf-activities-');
afterAll(() => tmp.cleanup());

function setup(alerts: FakeAlertSender, channels: AlertChannelConfig[] = []) {
  const raw = minimalRawConfig();
  raw.temporal = { uiUrl: 'http://ui.example:8233/', namespace: 'prod ns' };
  raw.environments.prod.alerts = channels;
  raw.environments.dev = {
    cdfProject: 'acme-dev',
    baseUrl: 'https://dev.example.invalid',
    credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_DEV' },
    approval: {
      approvers: ['bob', 'carol', 'dave'],
      requiredApprovals: 2,
      timeout: '1h',
      rollbackRequiresApproval: false,
    },
  };
  raw.dataDir = tmp.dir;
  const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
  const deps: ActivityDeps = {
    config,
    toolkit: {} as ToolkitRunner,
    repository: {} as ConfigRepository,
    ledger: new DeploymentLedger(path.join(tmp.dir, 'ledger')),
    legacyLedger: new DeploymentLedger(path.join(tmp.dir, 'ledger')),
    entities: {} as EnvironmentEntities,
    cdf: (() => {
      throw new Error('cdf not used in these tests');
    }) as CdfClientFactory,
    alerts,
    artifacts: new FilesystemArtifactStore(path.join(tmp.dir, 'artifacts')),
    resolver: createToolkitResolver(config.toolkit),
    logger: pino({ level: 'silent' }),
  };
  return createActivities(deps);
}

const request = (over: Partial<AlertRequest> = {}): AlertRequest => ({
  kind: 'promotion',
  environment: 'prod',
  outcome: 'apply_failed',
  workflowId: 'promote/prod 1',
  runId: 'run-a',
  ref: 'main',
  commit: 'abcdef1234567',
  requestedBy: 'alice',
  failure: 'toolkit apply exited with 1',
  ...over,
});

/** Runs one activity in a fresh mock activity context (as Temporal would for each attempt). */
function runActivity<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment().run(fn as (...a: unknown[]) => Promise<R>, ...args) as Promise<R>;
}

async function thrown(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const TWO_CHANNELS: AlertChannelConfig[] = [
  { type: 'webhook', name: 'ops-webhook', urlEnv: 'ALERT_WEBHOOK_URL' },
  { type: 'slack', name: 'ops-slack', urlEnv: 'SLACK_WEBHOOK_URL' },
];

describe('sendAlert', () => {
  test('a retry after a partial failure re-sends only the failed channel', async () => {
    const sender = new FakeAlertSender({ 'ops-webhook': 1 });
    const acts = setup(sender, TWO_CHANNELS);

    const first = await thrown(runActivity(acts.sendAlert, request()));
    expect(first.type).toBe('AlertDeliveryError');
    expect(first.nonRetryable).toBe(false);
    expect(first.message).toContain('ops-webhook');
    expect(first.message).not.toContain('ops-slack:');
    expect(sender.sentTo()).toEqual(['ops-webhook', 'ops-slack']);

    const second = await runActivity(acts.sendAlert, request());
    expect(sender.sentTo()).toEqual(['ops-webhook', 'ops-slack', 'ops-webhook']);
    expect(second.delivered.sort()).toEqual(['ops-slack', 'ops-webhook']);
  });

  test('another run gets its own alerts (delivery memory is per workflowId/runId)', async () => {
    const sender = new FakeAlertSender();
    const acts = setup(sender, TWO_CHANNELS);
    await runActivity(acts.sendAlert, request({ runId: 'run-1' }));
    await runActivity(acts.sendAlert, request({ runId: 'run-2' }));
    expect(sender.sentTo()).toEqual(['ops-webhook', 'ops-slack', 'ops-webhook', 'ops-slack']);
  });

  test('the message has a title and a run URL into the Temporal UI', async () => {
    const sender = new FakeAlertSender();
    const acts = setup(sender, TWO_CHANNELS.slice(0, 1));
    await runActivity(acts.sendAlert, request({ outcome: 'smoke_failed' }));
    const msg = sender.calls[0]!.message;
    expect(msg.title).toBe('CDF promotion to prod smoke failed');
    expect(msg.runUrl).toBe(
      'http://ui.example:8233/namespaces/prod%20ns/workflows/promote%2Fprod%201/run-a/history',
    );
    expect(msg.commit).toBe('abcdef1234567');
    expect(msg.failure).toBe('toolkit apply exited with 1');
  });

  test('only missing-URL failures make a non-retryable ConfigurationError', async () => {
    const acts = setup(new FakeAlertSender({ 'ops-webhook': 'config', 'ops-slack': 'config' }), TWO_CHANNELS);
    const err = await thrown(runActivity(acts.sendAlert, request()));
    expect(err.type).toBe('ConfigurationError');
    expect(err.nonRetryable).toBe(true);
  });

  test('a config failure mixed with a delivery failure stays retryable', async () => {
    const acts = setup(new FakeAlertSender({ 'ops-webhook': 'config', 'ops-slack': 1 }), TWO_CHANNELS);
    const err = await thrown(runActivity(acts.sendAlert, request()));
    expect(err.type).toBe('AlertDeliveryError');
    expect(err.nonRetryable).toBe(false);
  });

  test('zero channels: nothing sent, delivered []', async () => {
    const sender = new FakeAlertSender();
    const acts = setup(sender, []);
    const res = await runActivity(acts.sendAlert, request());
    expect(res).toEqual({ delivered: [] });
    expect(sender.calls).toEqual([]);
  });

  test('unknown environment is a non-retryable UnknownEnvironment failure', async () => {
    const sender = new FakeAlertSender();
    const acts = setup(sender, TWO_CHANNELS);
    const err = await thrown(runActivity(acts.sendAlert, request({ environment: 'staging' })));
    expect(err.type).toBe('UnknownEnvironment');
    expect(err.nonRetryable).toBe(true);
    expect(sender.calls).toEqual([]);
  });
});

describe('resolveEnvironment', () => {
  const acts = setup(new FakeAlertSender());

  test('unknown environment → ApplicationFailure UnknownEnvironment, nonRetryable, listing the known ones', async () => {
    const err = await thrown(runActivity(acts.resolveEnvironment, { environment: 'qa', kind: 'promotion' }));
    expect(err.type).toBe('UnknownEnvironment');
    expect(err.nonRetryable).toBe(true);
    expect(err.message).toContain('"qa"');
    expect(err.message).toContain('prod');
    expect(err.message).toContain('dev');
  });

  test('promotion always requires approval, and the policy carries the approval settings', async () => {
    const p = await runActivity(acts.resolveEnvironment, { environment: 'dev', kind: 'promotion' });
    expect(p).toEqual({
      environment: 'dev',
      cdfProject: 'acme-dev',
      approvalTimeoutMs: 3_600_000,
      approvers: ['bob', 'carol', 'dave'],
      requiredApprovals: 2,
      allowSelfApproval: false,
      approvalRequired: true,
      removeLeftovers: false,
      onPlanChange: 'reapprove',
      temporalUiUrl: 'http://ui.example:8233/',
      namespace: 'prod ns',
      whenBusy: 'queue',
      allowRef: true,
      automaticRollback: 'off',
      throughFreeze: false,
      hasDeployWindows: false,
    });
  });

  test('rollback skips approval only where rollbackRequiresApproval is false', async () => {
    const dev = await runActivity(acts.resolveEnvironment, { environment: 'dev', kind: 'rollback' });
    expect(dev.approvalRequired).toBe(false);
    const prod = await runActivity(acts.resolveEnvironment, { environment: 'prod', kind: 'rollback' });
    expect(prod.approvalRequired).toBe(true);
  });

  test('the policy recorded in history holds no credentials', async () => {
    const p = await runActivity(acts.resolveEnvironment, { environment: 'prod', kind: 'promotion' });
    expect(JSON.stringify(p)).not.toMatch(/CDF_TOKEN|tokenEnv|credentials/);
  });
});

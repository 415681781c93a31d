/**
 * PagerDuty and Microsoft Teams channels: what their bodies hold (shape, limits, escaping, the incident key), that
 * the sender gets them through a real HTTP receiver that answers as the services do, that PagerDuty hears of
 * failures and successes but never of approval notices, and that their credentials are masked like Slack's.
 */
import path from 'node:path';
import pino from 'pino';
import type { CogniteClient } from '@cognite/sdk';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  HttpAlertSender,
  alertChannelSecrets,
  checkAlertChannels,
  type AlertMessage,
  type NoticeMessage,
} from '../../activities/alerts/alert-channels';
import {
  PAGERDUTY_SUMMARY_MAX,
  incidentKey,
  pagerDutyResolve,
  pagerDutyTrigger,
} from '../../activities/alerts/pagerduty';
import { teamsNoticePayload, teamsPayload } from '../../activities/alerts/teams';
import { createActivities, type ActivityDeps } from '../../activities/index';
import type { ConfigRepository } from '../../activities/git/config-repository';
import type { EnvironmentEntities } from '../../activities/environments/environment-entities';
import { DeploymentLedger } from '../../activities/ledger/deployment-ledger';
import { createResolveIncidents } from '../../activities/steps/resolve-incidents';
import { composeAlert } from '../../activities/steps/send-alert';
import { composeNotice } from '../../activities/steps/send-notice';
import { createToolkitResolver } from '../../activities/toolkit/toolkit-resolver';
import type { ToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import { FilesystemArtifactStore } from '../../artifacts/filesystem-artifact-store';
import { PAGERDUTY_EVENTS_URL } from '../../config/defaults';
import type { AlertChannelConfig } from '../../config/schema';
import type { AlertRequest, NoticeRequest } from '../../contracts/activity-types';
import { PromotionError } from '../../contracts/errors';
import { startAlertReceiver, type AlertReceiver } from '../../fakes/alert-receiver';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF'; // 32 characters, as PagerDuty's are
const PLAN = 'ab12cd34ef56'.padEnd(64, '0');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const TEMPORAL = { uiUrl: 'http://ui.example:8233', namespace: 'default', taskQueue: 'cdf-promotions' };
const TARGET = { cdfProject: 'acme-prod', baseUrl: 'https://westeurope-1.cognitedata.com' };

const request: AlertRequest = {
  kind: 'promotion',
  environment: 'prod',
  outcome: 'smoke_failed',
  workflowId: 'promotion-prod-1',
  runId: 'run-1',
  ref: 'main',
  commit: COMMIT,
  planHash: PLAN,
  requestedBy: 'alice',
  failure: 'failed smoke checks: data model sp:Model/1 (not found)',
  failedChecks: [{ name: 'data model sp:Model/1', kind: 'dataModel', passed: false, detail: 'not found' }],
  rollbackWorkflowId: 'promotion-prod-1-rollback',
};
const message: AlertMessage = composeAlert(request, TEMPORAL, TARGET);

const noticeRequest: NoticeRequest = {
  notice: 'needs_approval',
  kind: 'promotion',
  environment: 'prod',
  workflowId: 'promotion-prod-v2-1',
  runId: 'run-1',
  ref: 'v2',
  commit: COMMIT,
  planHash: PLAN,
  planSummary: {
    resources: [],
    totals: { create: 1, update: 3, delete: 0, unchanged: 4, skipped: 0, total: 8, ableToDeploy: true },
    empty: false,
  },
  requestedBy: 'alice',
  approvalDeadline: '2026-12-02T10:00:00.000Z',
  approvals: 0,
  requiredApprovals: 1,
  waitingFor: ['bob', 'carol'],
};

/** What a requester can type into a reason, a ref or a failure, to make a card mention or link. */
const HOSTILE = '[click here](https://evil.example) **urgent** <at>General</at> _x_ @channel';

describe('PagerDuty events', () => {
  test('a trigger carries the incident key, a summary, the source, severity, details and a link to the run', () => {
    const body = pagerDutyTrigger(message, 'error', ROUTING_KEY);
    expect(body).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'cdf-promote/default/cdf-promotions/prod',
      payload: {
        summary: `CDF promotion to prod smoke failed: ${request.failure}`,
        source: 'westeurope-1.cognitedata.com/acme-prod',
        severity: 'error',
        group: 'prod',
        class: 'smoke_failed',
        custom_details: {
          environment: 'prod',
          outcome: 'smoke_failed',
          kind: 'promotion',
          ref: 'main',
          commit: COMMIT,
          planHash: PLAN,
          requestedBy: 'alice',
          workflowId: 'promotion-prod-1',
          runId: 'run-1',
          failure: request.failure,
          failedChecks: ['data model sp:Model/1: not found'],
          rollbackWorkflowId: 'promotion-prod-1-rollback',
          runUrl: message.runUrl,
        },
      },
      client: 'cdf-promote',
      client_url: message.runUrl,
      links: [{ href: message.runUrl, text: 'Open the run in Temporal' }],
    });
    expect(message.runUrl).toBe(
      'http://ui.example:8233/namespaces/default/workflows/promotion-prod-1/run-1/history',
    );
  });

  test('an automatic rollback names the run it followed; an unresolved commit is null, not missing', () => {
    const rollback = composeAlert(
      {
        ...request,
        kind: 'rollback',
        outcome: 'apply_failed',
        commit: undefined,
        planHash: undefined,
        failedChecks: [],
        rollbackWorkflowId: undefined,
        triggeredBy: 'promotion-prod-1',
      },
      TEMPORAL,
      TARGET,
    );
    const details = (pagerDutyTrigger(rollback, 'critical', ROUTING_KEY).payload as Record<string, unknown>)
      .custom_details as Record<string, unknown>;
    expect(details).toMatchObject({ triggeredBy: 'promotion-prod-1', commit: null, planHash: null });
    expect(details).not.toHaveProperty('failedChecks');
    expect(details).not.toHaveProperty('rollbackWorkflowId');
  });

  test("the summary is one line, clipped to PagerDuty's 1024 characters", () => {
    const long = { ...message, failure: `line one\n\n  line two ${'x'.repeat(5000)}` };
    const summary = (pagerDutyTrigger(long, 'error', ROUTING_KEY).payload as { summary: string }).summary;
    expect(summary.length).toBe(PAGERDUTY_SUMMARY_MAX);
    expect(summary).toMatch(/^CDF promotion to prod smoke failed: line one line two x+…$/);
    // The details keep more, but not without bound.
    const details = (pagerDutyTrigger(long, 'error', ROUTING_KEY).payload as Record<string, unknown>)
      .custom_details as { failure: string };
    expect(details.failure.length).toBeLessThanOrEqual(4000);
    expect(details.failure).toMatch(/the whole text is in the run\)$/);
  });

  test('the incident key is one per environment and deployment: every run and outcome there shares it', () => {
    const other = composeAlert(
      { ...request, workflowId: 'rollback-prod-7', runId: 'run-9', outcome: 'diff_failed', kind: 'rollback' },
      TEMPORAL,
      TARGET,
    );
    expect(other.incidentKey).toBe(message.incidentKey);
    expect(incidentKey(TEMPORAL, 'prod')).toBe(message.incidentKey);
    const keys = new Set([
      incidentKey(TEMPORAL, 'prod'),
      incidentKey(TEMPORAL, 'dev'),
      incidentKey({ ...TEMPORAL, taskQueue: 'team-b' }, 'prod'),
      incidentKey({ ...TEMPORAL, namespace: 'team-b' }, 'prod'),
    ]);
    expect(keys.size).toBe(4);
  });

  test('names too long for a 255-character dedup key still give a stable, distinct key', () => {
    const long = { namespace: 'n'.repeat(200), taskQueue: 'q'.repeat(200) };
    const key = incidentKey(long, 'prod');
    expect(key.length).toBeLessThanOrEqual(255);
    expect(key).toMatch(/^cdf-promote\/[0-9a-f]{32}\/prod$/);
    expect(incidentKey(long, 'prod')).toBe(key);
    expect(incidentKey({ ...long, taskQueue: 'r'.repeat(200) }, 'prod')).not.toBe(key);
  });

  test('a resolve names only the key, the action and the incident', () => {
    expect(pagerDutyResolve({ environment: 'prod', incidentKey: message.incidentKey }, ROUTING_KEY)).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: message.incidentKey,
    });
  });
});

/** Every element of a card body, depth first. */
function elements(node: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(node)) return node.flatMap(elements);
  if (typeof node !== 'object' || node === null) return [];
  const o = node as Record<string, unknown>;
  return [o, ...Object.values(o).flatMap(elements)];
}

function card(body: Record<string, unknown>): Record<string, unknown> {
  return ((body.attachments as unknown[])[0] as { content: Record<string, unknown> }).content;
}

/** The plain text of the card, run by run. */
const texts = (body: Record<string, unknown>): string[] =>
  elements(card(body).body)
    .filter((e) => e.type === 'TextRun')
    .map((e) => e.text as string);

describe('Teams cards', () => {
  test('a failure is an Adaptive Card message with the facts and a button that opens the run', () => {
    const body = teamsPayload(message);
    expect(body).toMatchObject({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            actions: [{ type: 'Action.OpenUrl', title: 'Open the run in Temporal', url: message.runUrl }],
          },
        },
      ],
    });
    const lines = texts(body);
    expect(lines[0]).toBe('CDF promotion to prod smoke failed');
    for (const fact of [
      'prod',
      'smoke_failed',
      COMMIT.slice(0, 12),
      PLAN.slice(0, 12),
      'alice',
      request.failure,
      'not found',
      'promotion-prod-1-rollback',
    ])
      expect(lines).toContain(fact);
  });

  test('an approval notice carries the plan, who may approve, and the approve command in monospace', () => {
    const notice: NoticeMessage = composeNotice({ ...noticeRequest, reason: 'weekly release' }, TEMPORAL);
    const body = teamsNoticePayload(notice);
    const runs = elements(card(body).body).filter((e) => e.type === 'TextRun');
    expect(runs[0]).toMatchObject({ text: 'Approval needed: CDF promotion to prod', weight: 'Bolder' });
    expect(runs.map((r) => r.text)).toEqual(
      expect.arrayContaining([
        'weekly release',
        `${PLAN}: 1 to create, 3 to update, 0 to delete, 4 unchanged`,
        '0 of 1; waiting for bob, carol; expires 2026-12-02T10:00:00.000Z',
      ]),
    );
    expect(runs).toContainEqual({ type: 'TextRun', text: notice.commands.approve, fontType: 'Monospace' });
    expect(notice.commands.approve).toContain(`--plan-hash ${PLAN}`);
    expect(card(body).actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the run in Temporal', url: notice.runUrl },
    ]);
  });

  test('what a requester wrote cannot link or mention: it only ever sits in plain TextRuns', () => {
    const notice = composeNotice({ ...noticeRequest, reason: HOSTILE, ref: HOSTILE }, TEMPORAL);
    const cards: Array<[Record<string, unknown>, string]> = [
      [teamsPayload({ ...message, failure: HOSTILE, requestedBy: HOSTILE, ref: HOSTILE }), message.runUrl],
      [teamsNoticePayload(notice), notice.runUrl],
    ];
    for (const [body, runUrl] of cards) {
      const all = elements(card(body));
      // Teams renders Markdown (links included) in TextBlock and FactSet only; these cards use neither.
      expect(all.filter((e) => ['TextBlock', 'FactSet', 'Fact'].includes(e.type as string))).toEqual([]);
      expect(all.filter((e) => e.type === 'RichTextBlock').length).toBeGreaterThan(3);
      // The hostile text is shown as typed, in runs, and nothing makes a mention entity of it.
      expect(texts(body)).toContain(HOSTILE);
      expect(JSON.stringify(body)).not.toContain('msteams');
      expect(JSON.stringify(body)).not.toContain('"mention"');
      // The only link is the button to the run.
      expect(all.filter((e) => 'url' in e).map((e) => e.url)).toEqual([runUrl]);
    }
  });

  test('long texts are clipped so the message stays under the size Teams accepts', () => {
    const body = teamsPayload({
      ...message,
      failure: 'y'.repeat(50_000),
      failedChecks: Array.from({ length: 30 }, (_, i) => ({
        name: `check ${i}`,
        kind: 'assets' as const,
        passed: false,
        detail: 'z'.repeat(5000),
      })),
    });
    expect(JSON.stringify(body).length).toBeLessThan(28_000);
    expect(texts(body)).toContain('and 20 more failed checks (in the run)');
  });
});

describe('HttpAlertSender: PagerDuty and Teams over HTTP', () => {
  let receiver: AlertReceiver;
  beforeAll(async () => {
    receiver = await startAlertReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.refused.length = 0;
    receiver.failNext(0);
  });

  const pagerduty: AlertChannelConfig = {
    type: 'pagerduty',
    name: 'oncall',
    routingKeyEnv: 'PD_KEY',
    urlEnv: 'PD_URL',
    severity: 'critical',
  };
  const secrets = () => ({ PD_KEY: ROUTING_KEY, PD_URL: `${receiver.url}/pagerduty` });

  test('a failure triggers and a success resolves the same incident; PagerDuty accepts both (202)', async () => {
    const sender = new HttpAlertSender(secrets());
    await sender.send(pagerduty, message);
    await sender.resolve(pagerduty, { environment: 'prod', incidentKey: message.incidentKey });
    expect(receiver.refused).toEqual([]);
    expect(receiver.received.map((a) => a.path)).toEqual(['/pagerduty', '/pagerduty']);
    const [trigger, resolve] = receiver.received.map((a) => a.body as Record<string, unknown>);
    expect(trigger).toEqual(JSON.parse(JSON.stringify(pagerDutyTrigger(message, 'critical', ROUTING_KEY))));
    expect(resolve).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: message.incidentKey,
    });
  });

  test('the endpoint can be written in the config (url), and is PagerDuty by default', async () => {
    const literal: AlertChannelConfig = {
      type: 'pagerduty',
      routingKeyEnv: 'PD_KEY',
      url: `${receiver.url}/pagerduty/eu`,
      severity: 'error',
    };
    await new HttpAlertSender(secrets()).send(literal, message);
    expect(receiver.received.map((a) => a.path)).toEqual(['/pagerduty/eu']);

    const posted: string[] = [];
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      posted.push(String(input));
      return new Response('{"status":"success"}', { status: 202 });
    });
    try {
      await new HttpAlertSender(secrets()).send({ ...literal, url: undefined }, message);
    } finally {
      fetchSpy.mockRestore();
    }
    expect(posted).toEqual([PAGERDUTY_EVENTS_URL]);
  });

  test('approval notices never page, and other channels have no incident to resolve', async () => {
    const sender = new HttpAlertSender({ ...secrets(), TEAMS_URL: `${receiver.url}/teams` });
    await sender.notify(pagerduty, composeNotice(noticeRequest, TEMPORAL));
    await sender.resolve({ type: 'teams', urlEnv: 'TEAMS_URL' }, { environment: 'prod', incidentKey: 'k' });
    expect(receiver.received).toEqual([]);
  });

  test("a refused event fails with PagerDuty's reason, never the routing key", async () => {
    const wrongKey = 'not-a-routing-key-but-a-secret';
    const err = (await new HttpAlertSender({ ...secrets(), PD_KEY: wrongKey })
      .send(pagerduty, message)
      .catch((e: unknown) => e)) as PromotionError;
    expect(err).toBeInstanceOf(PromotionError);
    expect(err.type).toBe('AlertDeliveryError');
    expect(err.message).toBe(
      "alert to pagerduty answered HTTP 400: Event object is invalid: Length of 'routing_key' is incorrect " +
        '(should be 32 characters)',
    );
    expect(err.message).not.toContain(wrongKey);
    expect(receiver.refused).toHaveLength(1);
    expect(receiver.received).toEqual([]);
  });

  test('a missing routing key is a ConfigurationError naming the variable; nothing is sent', async () => {
    const err = (await new HttpAlertSender({ PD_URL: `${receiver.url}/pagerduty` })
      .send(pagerduty, message)
      .catch((e: unknown) => e)) as PromotionError;
    expect(err.type).toBe('ConfigurationError');
    expect(err.message).toContain('PD_KEY');
    expect(receiver.received).toEqual([]);
    expect(receiver.refused).toEqual([]);
  });

  test('Teams gets the card for failures and for notices at the URL its variable holds', async () => {
    const teams: AlertChannelConfig = { type: 'teams', urlEnv: 'TEAMS_URL' };
    const sender = new HttpAlertSender({ TEAMS_URL: `${receiver.url}/teams/workflows/abc?sig=s3cr3t` });
    await sender.send(teams, message);
    const notice = composeNotice(noticeRequest, TEMPORAL);
    await sender.notify(teams, notice);
    expect(receiver.refused).toEqual([]);
    expect(receiver.received.map((a) => a.body)).toEqual([
      JSON.parse(JSON.stringify(teamsPayload(message))),
      JSON.parse(JSON.stringify(teamsNoticePayload(notice))),
    ]);
  });
});

describe('the local receiver refuses what the real services refuse', () => {
  let receiver: AlertReceiver;
  beforeAll(async () => {
    receiver = await startAlertReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });

  const post = (p: string, body: unknown) =>
    fetch(`${receiver.url}${p}`, { method: 'POST', body: JSON.stringify(body) });

  test('PagerDuty: an event without a key, an action or a dedup key is a 400 naming each', async () => {
    const res = await post('/pagerduty', { payload: { summary: 's', source: 'x', severity: 'error' } });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { status: string; errors: string[] };
    expect(answer.status).toBe('invalid event');
    expect(answer.errors).toEqual([
      expect.stringContaining("'routing_key'"),
      expect.stringContaining("'event_action'"),
      expect.stringContaining("'dedup_key'"),
    ]);
    const noSummary = await post('/pagerduty', {
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'k',
      payload: { summary: 'x'.repeat(1025), source: 's', severity: 'fatal' },
    });
    expect(((await noSummary.json()) as { errors: string[] }).errors).toEqual([
      expect.stringContaining("'payload.summary'"),
      expect.stringContaining("'payload.severity'"),
    ]);
    const ok = await post('/pagerduty', {
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'k',
    });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ status: 'success', message: 'Event processed', dedup_key: 'k' });
  });

  test('Teams: a Slack-style body is a 400', async () => {
    const before = receiver.received.length;
    expect((await post('/teams', { text: 'hello' })).status).toBe(400);
    expect(receiver.refused.at(-1)).toEqual(
      expect.objectContaining({ path: '/teams', errors: ['not a message with an Adaptive Card attachment'] }),
    );
    expect(receiver.received).toHaveLength(before);
  });
});

describe('credentials', () => {
  const channels: AlertChannelConfig[] = [
    { type: 'pagerduty', name: 'oncall', routingKeyEnv: 'PD_KEY', severity: 'error' },
    { type: 'pagerduty', routingKeyEnv: 'PD_KEY_EU', urlEnv: 'PD_EU_URL', severity: 'error' },
    { type: 'teams', name: 'ops-teams', urlEnv: 'TEAMS_URL' },
  ];
  const TEAMS_SIG = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf';
  const TEAMS_URL =
    'https://prod-12.westeurope.logic.azure.com:443/workflows/0123456789abcdef/triggers/manual/paths/invoke' +
    `?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${TEAMS_SIG}`;

  test('the routing key, the Teams URL and its signature are masked in what leaves an activity', () => {
    const masked = alertChannelSecrets(
      { prod: { alerts: channels } },
      {
        PD_KEY: ROUTING_KEY,
        TEAMS_URL,
        PD_KEY_EU: 'E'.repeat(32),
        PD_EU_URL: 'https://events.eu.pagerduty.com/v2/enqueue',
      },
    );
    expect(masked).toEqual(expect.arrayContaining([ROUTING_KEY, 'E'.repeat(32), TEAMS_URL, TEAMS_SIG]));
    // Short query values (api-version, sv) are not secrets, and masking them would garble messages.
    expect(masked).not.toContain('1.0');
    expect(masked).not.toContain('2016-06-01');
  });

  test('start-up checks name a missing or malformed routing key and a bad Teams URL, never the values', () => {
    const problems = checkAlertChannels(
      { prod: { alerts: channels } },
      { PD_KEY_EU: 'short-secret-key', PD_EU_URL: 'events.eu.pagerduty.com', TEAMS_URL: 'xoxb-not-a-url' },
    );
    expect(problems).toEqual([
      'environments.prod.alerts[0] (oncall): environment variable PD_KEY is not set',
      'environments.prod.alerts[1] (pagerduty#2): environment variable PD_KEY_EU does not hold a PagerDuty routing key (32 characters)',
      'environments.prod.alerts[1] (pagerduty#2): environment variable PD_EU_URL does not hold an http(s) URL',
      'environments.prod.alerts[2] (ops-teams): environment variable TEAMS_URL does not hold an http(s) URL',
    ]);
    expect(problems.join('\n')).not.toMatch(/short-secret-key|xoxb/);
    expect(
      checkAlertChannels(
        { prod: { alerts: channels } },
        { PD_KEY: ROUTING_KEY, PD_KEY_EU: ROUTING_KEY, PD_EU_URL: 'https://e.example/v2/enqueue', TEAMS_URL },
      ),
    ).toEqual([]);
  });
});

describe('configuration', () => {
  const withAlerts = (alerts: unknown[]) => {
    const raw = minimalRawConfig();
    raw.environments.prod.alerts = alerts;
    return raw;
  };
  const parseError = (alerts: unknown[]): string => {
    try {
      buildConfig(withAlerts(alerts));
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a configuration error');
  };

  test('a PagerDuty channel needs only its routing key variable; severity defaults to error', () => {
    const cfg = buildConfig(
      withAlerts([
        { type: 'pagerduty', routingKeyEnv: 'PD_KEY' },
        { type: 'teams', urlEnv: 'T' },
      ]),
    );
    expect(cfg.environments.prod!.alerts).toEqual([
      { type: 'pagerduty', routingKeyEnv: 'PD_KEY', severity: 'error' },
      { type: 'teams', urlEnv: 'T' },
    ]);
  });

  test('a literal routing key, both url and urlEnv, or a non-http url are refused, naming the key', () => {
    expect(parseError([{ type: 'pagerduty', routingKeyEnv: ROUTING_KEY.toLowerCase() }])).toContain(
      'environments.prod.alerts.0.routingKeyEnv',
    );
    expect(
      parseError([
        {
          type: 'pagerduty',
          routingKeyEnv: 'K',
          url: 'https://events.pagerduty.com/v2/enqueue',
          urlEnv: 'U',
        },
      ]),
    ).toContain('environments.prod.alerts.0.urlEnv: give url or urlEnv, not both');
    expect(parseError([{ type: 'pagerduty', routingKeyEnv: 'K', url: 'ftp://events.example' }])).toContain(
      'environments.prod.alerts.0.url: must be an http(s) URL',
    );
    expect(parseError([{ type: 'pagerduty', routingKeyEnv: 'K', severity: 'fatal' }])).toContain(
      'environments.prod.alerts.0.severity',
    );
    expect(parseError([{ type: 'teams', url: 'https://x.example' }])).toContain('environments.prod.alerts.0');
  });
});

describe('activities: notices skip PagerDuty, passing smoke checks resolve the incident', () => {
  const tmp = tempDir('cdf-incidents-');
  let receiver: AlertReceiver;
  beforeAll(async () => {
    receiver = await startAlertReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    tmp.cleanup();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.failNext(0);
  });

  /** The activities over a real sender; prod's smoke checks need `assets` assets, which the fake CDF has. */
  function setup(assets: number) {
    const raw = minimalRawConfig();
    raw.temporal = { uiUrl: 'http://ui.example:8233', namespace: 'default', taskQueue: 'cdf-promotions' };
    raw.environments.prod.smoke = { minAssets: 2 };
    raw.environments.prod.alerts = [
      { type: 'pagerduty', name: 'oncall', routingKeyEnv: 'PD_KEY', urlEnv: 'PD_URL' },
      { type: 'teams', name: 'ops-teams', urlEnv: 'TEAMS_URL' },
      { type: 'slack', name: 'ops-slack', urlEnv: 'SLACK_URL' },
    ];
    raw.dataDir = tmp.dir;
    const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
    const list = async () => ({ items: Array.from({ length: assets }, (_, id) => ({ id })) });
    const deps: ActivityDeps = {
      config,
      toolkit: {} as ToolkitRunner,
      repository: {} as ConfigRepository,
      ledger: new DeploymentLedger(path.join(tmp.dir, 'ledger')),
      legacyLedger: new DeploymentLedger(path.join(tmp.dir, 'ledger')),
      entities: {} as EnvironmentEntities,
      cdf: () => ({ assets: { list } }) as unknown as CogniteClient,
      alerts: new HttpAlertSender({
        PD_KEY: ROUTING_KEY,
        PD_URL: `${receiver.url}/pagerduty`,
        TEAMS_URL: `${receiver.url}/teams`,
        SLACK_URL: `${receiver.url}/slack`,
      }),
      artifacts: new FilesystemArtifactStore(path.join(tmp.dir, 'artifacts')),
      resolver: createToolkitResolver(config.toolkit),
      logger: pino({ level: 'silent' }),
    };
    return { config, acts: createActivities(deps) };
  }
  const runActivity = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment().run(fn as (...a: unknown[]) => Promise<R>, ...args) as Promise<R>;
  const paths = () => receiver.received.map((a) => a.path);

  test('a failure reaches every channel; a notice reaches all but PagerDuty', async () => {
    const { acts } = setup(2);
    expect(await runActivity(acts.sendAlert, request)).toEqual({
      delivered: ['oncall', 'ops-teams', 'ops-slack'],
    });
    expect(paths()).toEqual(['/pagerduty', '/teams', '/slack']);
    receiver.received.length = 0;
    expect(await runActivity(acts.sendNotice, noticeRequest)).toEqual({
      delivered: ['ops-teams', 'ops-slack'],
    });
    expect(paths()).toEqual(['/teams', '/slack']);
  });

  test('passing smoke checks resolve the incident the failure opened, by the same key', async () => {
    const { acts } = setup(2);
    await runActivity(acts.sendAlert, request);
    const results = await runActivity(acts.runSmokeChecks, { environment: 'prod' });
    expect(results.every((r) => r.passed)).toBe(true);
    const events = receiver.received
      .filter((a) => a.path === '/pagerduty')
      .map((a) => a.body as { event_action: string; dedup_key: string });
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(events[1]!.dedup_key).toBe(events[0]!.dedup_key);
    // Only PagerDuty keeps incidents: Teams and Slack hear nothing of a success.
    expect(paths()).toEqual(['/pagerduty', '/teams', '/slack', '/pagerduty']);
  });

  test('failing smoke checks resolve nothing', async () => {
    const { acts } = setup(1);
    const results = await runActivity(acts.runSmokeChecks, { environment: 'prod' });
    expect(results.map((r) => r.passed)).toEqual([false]);
    expect(receiver.received).toEqual([]);
  });

  test('a resolve that fails is tried again; one that keeps failing is logged and does not fail the step', async () => {
    const { config } = setup(2);
    const sender = new HttpAlertSender({ PD_KEY: ROUTING_KEY, PD_URL: `${receiver.url}/pagerduty` });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const resolve = createResolveIncidents({
      config,
      alerts: sender,
      logger,
      sanitize: (t) => t.split(ROUTING_KEY).join('***'),
      retryDelaysMs: [10, 10],
    });
    receiver.failNext(2);
    expect(await runActivity(resolve, 'prod')).toEqual({ resolved: ['oncall'] });
    expect(paths()).toEqual(['/pagerduty']);

    receiver.failNext(3);
    expect(await runActivity(resolve, 'prod')).toEqual({ resolved: [] });
    expect(paths()).toEqual(['/pagerduty']);
    expect(lines.join('')).toContain(
      'could not resolve the incident; resolve it by hand: alert to pagerduty answered HTTP 503',
    );
    expect(lines.join('')).not.toContain(ROUTING_KEY);
  });
});

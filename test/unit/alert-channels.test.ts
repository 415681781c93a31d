import {
  HttpAlertSender,
  alertChannelSecrets,
  channelName,
  checkAlertChannels,
  slackNoticePayload,
  slackPayload,
  webhookNoticePayload,
  webhookPayload,
  type AlertMessage,
} from '../../activities/alerts/alert-channels';
import { composeNotice } from '../../activities/steps/send-notice';
import type { NoticeRequest } from '../../contracts/activity-types';
import { PromotionError } from '../../contracts/errors';
import { startAlertReceiver, type AlertReceiver } from '../../fakes/alert-receiver';
import type { AlertChannelConfig } from '../../config/schema';

const PLAN = 'ab12cd34ef56'.padEnd(64, '0');
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const message: AlertMessage = {
  kind: 'promotion',
  environment: 'prod',
  outcome: 'smoke_failed',
  workflowId: 'promote-prod-1',
  runId: 'run-1',
  ref: 'main',
  commit: COMMIT,
  planHash: PLAN,
  requestedBy: 'alice',
  failure: 'data model sp:Model/1 not found',
  failedChecks: [{ name: 'data model sp:Model/1', kind: 'dataModel', passed: false, detail: 'not found' }],
  title: 'CDF promotion to prod smoke failed',
  runUrl: 'http://ui.example/namespaces/default/workflows/promote-prod-1/run-1/history',
  incidentKey: 'cdf-promote/default/cdf-promotions/prod',
  source: 'api.example/acme-prod',
};

describe('payloads', () => {
  test('webhook payload carries environment, commit, plan hash, failure and run URL', () => {
    const p = webhookPayload(message);
    expect(p).toMatchObject({
      event: 'cdf-promotion.failed',
      environment: 'prod',
      commit: COMMIT,
      planHash: PLAN,
      failure: 'data model sp:Model/1 not found',
      runUrl: message.runUrl,
      outcome: 'smoke_failed',
      workflowId: 'promote-prod-1',
      runId: 'run-1',
    });
    expect(p.failedChecks).toEqual(message.failedChecks);
  });

  test('webhook payload uses null, not undefined, when commit/plan are unknown (keys survive JSON)', () => {
    const p = JSON.parse(
      JSON.stringify(webhookPayload({ ...message, commit: undefined, planHash: undefined })),
    );
    expect(p.commit).toBeNull();
    expect(p.planHash).toBeNull();
    expect(p.failedChecks).toEqual(message.failedChecks);
  });

  test('slack payload shows environment, short commit, short plan hash, failure and a link to the run', () => {
    const text = JSON.stringify(slackPayload(message));
    expect(text).toContain('*Environment:* prod');
    expect(text).toContain(`*Commit:* ${COMMIT.slice(0, 12)}`);
    expect(text).toContain(`*Plan:* ${PLAN.slice(0, 12)}`);
    expect(text).toContain('data model sp:Model/1 not found');
    expect(text).toContain(`<${message.runUrl}|`);
    expect((slackPayload(message) as { text: string }).text).toBe(`${message.title}: ${message.failure}`);
  });

  test('slack payload says when no commit / plan exists', () => {
    const text = JSON.stringify(slackPayload({ ...message, commit: undefined, planHash: undefined }));
    expect(text).toContain('(not resolved)');
    expect(text).toContain('*Plan:* (none)');
  });

  test('channelName uses the configured name or type#n', () => {
    expect(channelName({ type: 'slack', urlEnv: 'X' }, 1)).toBe('slack#2');
    expect(channelName({ type: 'webhook', name: 'ops', urlEnv: 'X' }, 0)).toBe('ops');
  });
});

describe('HttpAlertSender', () => {
  let receiver: AlertReceiver;
  beforeAll(async () => {
    receiver = await startAlertReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.failNext(0);
  });

  const webhook: AlertChannelConfig = {
    type: 'webhook',
    urlEnv: 'ALERT_URL',
    headersEnv: { 'x-api-key': 'ALERT_KEY' },
  };

  test('posts the webhook payload to the URL read from the env var', async () => {
    const sender = new HttpAlertSender({ ALERT_URL: `${receiver.url}/hooks/ops`, ALERT_KEY: 'k' });
    await sender.send(webhook, message);
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.path).toBe('/hooks/ops');
    expect(receiver.received[0]!.body).toEqual(JSON.parse(JSON.stringify(webhookPayload(message))));
  });

  test('posts the Slack payload for slack channels', async () => {
    const sender = new HttpAlertSender({ SLACK_URL: `${receiver.url}/slack` });
    await sender.send({ type: 'slack', urlEnv: 'SLACK_URL' }, message);
    expect(receiver.received[0]!.body).toEqual(slackPayload(message));
  });

  test('a 503 from the receiver is an AlertDeliveryError (retryable); the next send gets through', async () => {
    const sender = new HttpAlertSender({ ALERT_URL: receiver.url });
    receiver.failNext(1);
    const err = await sender.send(webhook, message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionError);
    expect((err as PromotionError).type).toBe('AlertDeliveryError');
    expect((err as PromotionError).retryable).toBe(true);
    expect((err as PromotionError).message).toContain('503');
    expect(receiver.received).toHaveLength(0);
    await sender.send(webhook, message);
    expect(receiver.received).toHaveLength(1);
  });

  test('an unreachable URL is an AlertDeliveryError', async () => {
    const sender = new HttpAlertSender({ ALERT_URL: 'http://127.0.0.1:1/nothing' });
    const err = await sender.send(webhook, message).catch((e: unknown) => e);
    expect((err as PromotionError).type).toBe('AlertDeliveryError');
  });

  test('a missing URL variable is a ConfigurationError naming the variable, nothing is sent', async () => {
    const sender = new HttpAlertSender({});
    const err = await sender.send(webhook, message).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionError);
    expect((err as PromotionError).type).toBe('ConfigurationError');
    expect((err as PromotionError).message).toContain('ALERT_URL');
    expect(receiver.received).toHaveLength(0);
  });

  test('the URL (which may embed a token) does not appear in the delivery error', async () => {
    const secretUrl = 'http://127.0.0.1:1/services/T000/B000/SECRETTOKEN';
    const err = await new HttpAlertSender({ ALERT_URL: secretUrl })
      .send(webhook, message)
      .catch((e: unknown) => e);
    expect((err as Error).message).not.toContain('SECRETTOKEN');
  });
});

describe('what reaches people is safe', () => {
  test('Slack text is escaped: no mentions, no disguised links, no formatting from user text', () => {
    const hostile: AlertMessage = {
      ...message,
      requestedBy: 'alice',
      failure: '<!channel> deploy broke, see <https://evil.example|the fix> & <@U123>',
    };
    const body = JSON.stringify(slackPayload(hostile));
    expect(body).not.toContain('<!channel>');
    expect(body).not.toContain('<https://evil.example|');
    expect(body).not.toContain('<@U123>');
    expect(body).toContain(
      '&lt;!channel&gt; deploy broke, see &lt;https://evil.example|the fix&gt; &amp; &lt;@U123&gt;',
    );
    // The one link that stays is ours: the run in the Temporal UI.
    expect(body).toContain(`<${message.runUrl}|Open the run in Temporal>`);
  });

  test('a delivery error names a code, never the URL or its parts', async () => {
    const secretUrl = 'http://user:pa55word@127.0.0.1:1/services/T000/B000/SECRETTOKEN';
    const err = (await new HttpAlertSender({ ALERT_URL: secretUrl })
      .send({ type: 'webhook', name: 'ops', urlEnv: 'ALERT_URL' }, message)
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^alert to webhook could not be delivered \([A-Za-z_]+\)$/);
    for (const part of ['SECRETTOKEN', 'pa55word', '127.0.0.1', 'services'])
      expect(err.message).not.toContain(part);
  });

  test('start-up checks name the variable of a bad or missing URL, never its value', () => {
    const channels = [
      { type: 'slack' as const, name: 'ops', urlEnv: 'SLACK_URL' },
      { type: 'webhook' as const, urlEnv: 'HOOK_URL' },
      { type: 'webhook' as const, urlEnv: 'GOOD_URL' },
    ];
    const problems = checkAlertChannels(
      { prod: { alerts: channels } },
      { SLACK_URL: 'not a url xoxb-SECRET-123', GOOD_URL: 'https://hooks.example/T/B/tok' },
    );
    expect(problems).toEqual([
      'environments.prod.alerts[0] (ops): environment variable SLACK_URL does not hold an http(s) URL',
      'environments.prod.alerts[1] (webhook#2): environment variable HOOK_URL is not set',
    ]);
    expect(problems.join('\n')).not.toContain('SECRET');
  });

  test('channel URLs, their token paths and header secrets are what failures are masked with', () => {
    const secrets = alertChannelSecrets(
      {
        prod: {
          alerts: [
            { type: 'slack', urlEnv: 'SLACK_URL' },
            { type: 'webhook', urlEnv: 'HOOK_URL', headersEnv: { Authorization: 'HOOK_AUTH' } },
          ],
        },
      },
      {
        SLACK_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
        HOOK_URL: 'https://ops:pw123456@hooks.example/in',
        HOOK_AUTH: 'Bearer abc.def',
      },
    );
    expect(secrets).toEqual(
      expect.arrayContaining([
        'https://hooks.slack.com/services/T000/B000/XXXX',
        '/services/T000/B000/XXXX',
        'pw123456',
        'Bearer abc.def',
      ]),
    );
  });
});

describe('approval notices', () => {
  const request: NoticeRequest = {
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
    reason: '<!here> ship it',
    approvalDeadline: '2026-12-02T10:00:00.000Z',
    approvals: 0,
    requiredApprovals: 1,
    waitingFor: ['bob', 'carol'],
  };

  test('carry the exact commands that approve this plan', () => {
    const n = composeNotice(request, { uiUrl: 'http://ui:8233', namespace: 'default' });
    expect(n.title).toBe('Approval needed: CDF promotion to prod');
    expect(n.commands.approve).toBe(
      `cdf-promote approve promotion-prod-v2-1 --approver <you> --plan-hash ${PLAN}`,
    );
    expect(n.commands.temporal).toContain(
      `--name approve --input '{"approver":"<you>","planHash":"${PLAN}"}'`,
    );
    expect(webhookNoticePayload(n)).toMatchObject({
      event: 'cdf-promotion.needs-approval',
      planHash: PLAN,
      waitingFor: ['bob', 'carol'],
      planTotals: expect.objectContaining({ update: 3 }),
    });
    const reminder = composeNotice(
      { ...request, notice: 'reminder' },
      { uiUrl: 'http://ui', namespace: 'ops' },
    );
    expect(reminder.title).toBe('Approval reminder: CDF promotion to prod');
    expect(reminder.commands.approve).toMatch(/^cdf-promote --namespace ops approve /);
    expect(webhookNoticePayload(reminder).event).toBe('cdf-promotion.approval-reminder');
  });

  test('in a signed environment, the commands say how to sign', () => {
    const n = composeNotice(request, { uiUrl: 'http://ui:8233', namespace: 'default' }, true);
    expect(n.commands.approve).toBe(
      `cdf-promote approve promotion-prod-v2-1 --approver <you> --sign-with <your ssh key> --plan-hash ${PLAN}`,
    );
    expect(n.commands.temporal).toMatch(/--name statement .*ssh-keygen -Y sign -n cdf-promote/);
  });

  test('in Slack, what the requester wrote cannot mention or link', () => {
    const body = JSON.stringify(
      slackNoticePayload(composeNotice(request, { uiUrl: 'http://ui:8233', namespace: 'default' })),
    );
    expect(body).not.toContain('<!here>');
    expect(body).toContain('&lt;!here&gt; ship it');
  });
});

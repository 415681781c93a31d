/**
 * Alert channels: a generic JSON webhook and a Slack incoming webhook. URLs come from env vars because they
 * usually embed a token.
 */
import type { AlertRequest, NoticeRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { AlertChannelConfig } from '../../config/schema';
import { requireSecret } from '../secrets';

export interface AlertMessage extends AlertRequest {
  runUrl: string;
  title: string;
}

/** A notice as the channels render it: the request, a title, a link to the run and the commands to decide. */
export interface NoticeMessage extends NoticeRequest {
  title: string;
  runUrl: string;
  commands: { approve: string; reject: string; temporal: string };
}

export interface AlertSender {
  send(channel: AlertChannelConfig, message: AlertMessage): Promise<void>;
  notify(channel: AlertChannelConfig, notice: NoticeMessage): Promise<void>;
}

export function channelName(channel: AlertChannelConfig, index: number): string {
  return channel.name ?? `${channel.type}#${index + 1}`;
}

export class HttpAlertSender implements AlertSender {
  constructor(
    private readonly secrets: NodeJS.ProcessEnv,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(channel: AlertChannelConfig, message: AlertMessage): Promise<void> {
    await this.post(channel, channel.type === 'slack' ? slackPayload(message) : webhookPayload(message));
  }

  async notify(channel: AlertChannelConfig, notice: NoticeMessage): Promise<void> {
    await this.post(
      channel,
      channel.type === 'slack' ? slackNoticePayload(notice) : webhookNoticePayload(notice),
    );
  }

  private async post(channel: AlertChannelConfig, body: Record<string, unknown>): Promise<void> {
    const url = requireSecret(this.secrets, channel.urlEnv);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (channel.type === 'webhook') {
      for (const [header, envName] of Object.entries(channel.headersEnv ?? {})) {
        const v = this.secrets[envName];
        if (v) headers[header] = v;
      }
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      // A fixed text and the error code only: network errors can quote the URL, and channel URLs carry tokens.
      throw new PromotionError(
        ErrorType.AlertDelivery,
        `alert to ${channel.type} could not be delivered (${errorCode(err)})`,
      );
    }
    if (!res.ok)
      throw new PromotionError(
        ErrorType.AlertDelivery,
        `alert to ${channel.type} answered HTTP ${res.status}`,
      );
  }
}

/** The most specific code of a fetch failure (ECONNREFUSED, ENOTFOUND, TimeoutError, ...), never its text. */
function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: unknown; cause?: { code?: unknown; name?: string } };
  const code = e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name;
  return typeof code === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(code) ? code : 'network error';
}

/**
 * Checks at worker start-up that every alert channel's URL variable is set to an http(s) URL. Messages name the
 * variable, never its value.
 */
export function checkAlertChannels(
  environments: Record<string, { alerts: AlertChannelConfig[] }>,
  secrets: NodeJS.ProcessEnv,
): string[] {
  const problems: string[] = [];
  for (const [env, cfg] of Object.entries(environments)) {
    for (const [i, channel] of cfg.alerts.entries()) {
      const where = `environments.${env}.alerts[${i}] (${channelName(channel, i)})`;
      const value = secrets[channel.urlEnv];
      if (!value) {
        problems.push(`${where}: environment variable ${channel.urlEnv} is not set`);
        continue;
      }
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
        problems.push(`${where}: environment variable ${channel.urlEnv} does not hold an http(s) URL`);
      }
    }
  }
  return problems;
}

/** Every channel URL the worker knows, to be masked in anything that leaves an activity. */
export function alertChannelSecrets(
  environments: Record<string, { alerts: AlertChannelConfig[] }>,
  secrets: NodeJS.ProcessEnv,
): string[] {
  const values = new Set<string>();
  for (const cfg of Object.values(environments)) {
    for (const channel of cfg.alerts) {
      const url = secrets[channel.urlEnv];
      if (!url) continue;
      values.add(url);
      // Also the parts that identify the channel on their own: Slack's /services/T../B../token path.
      try {
        const parsed = new URL(url);
        if (parsed.pathname.length > 8) values.add(parsed.pathname);
        if (parsed.password) values.add(parsed.password);
      } catch {
        // Not a URL: the whole value is masked above.
      }
      if (channel.type === 'webhook') {
        for (const envName of Object.values(channel.headersEnv ?? {})) {
          const v = secrets[envName];
          if (v) values.add(v);
        }
      }
    }
  }
  return [...values];
}

/** Slack mrkdwn escaping (https://api.slack.com/reference/surfaces/formatting#escaping): no mentions or links. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack refuses a section text over 3000 characters (HTTP 400); the whole text is behind the run link. */
export function slackClip(text: string, max = 2900): string {
  if (text.length <= max) return text;
  // Never cut an escape sequence in half.
  const cut = text.slice(0, max).replace(/&[a-z]*$/, '');
  return `${cut}… (cut; the whole text is in the run)`;
}

export function webhookPayload(m: AlertMessage): Record<string, unknown> {
  return {
    event: 'cdf-promotion.failed',
    title: m.title,
    kind: m.kind,
    environment: m.environment,
    outcome: m.outcome,
    ref: m.ref,
    commit: m.commit ?? null,
    planHash: m.planHash ?? null,
    requestedBy: m.requestedBy,
    failure: m.failure,
    failedChecks: m.failedChecks ?? [],
    workflowId: m.workflowId,
    runId: m.runId,
    runUrl: m.runUrl,
    // Linked runs of an automatic rollback (rollback.automatic).
    rollbackWorkflowId: m.rollbackWorkflowId ?? null,
    triggeredBy: m.triggeredBy ?? null,
  };
}

export function slackPayload(m: AlertMessage): Record<string, unknown> {
  // Everything a caller or a tool can influence is escaped: no @channel, no disguised links, no formatting.
  const e = slackEscape;
  const fields = [
    `*Environment:* ${e(m.environment)}`,
    `*Outcome:* ${e(m.outcome)}`,
    `*Commit:* ${m.commit ? e(m.commit.slice(0, 12)) : '(not resolved)'}`,
    `*Plan:* ${m.planHash ? e(m.planHash.slice(0, 12)) : '(none)'}`,
    `*Requested by:* ${e(m.requestedBy)}`,
    ...(m.rollbackWorkflowId ? [`*Automatic rollback:* ${e(m.rollbackWorkflowId)}`] : []),
    ...(m.triggeredBy ? [`*Rollback after:* ${e(m.triggeredBy)}`] : []),
  ];
  return {
    text: slackClip(`${e(m.title)}: ${e(m.failure)}`),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: m.title } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      { type: 'section', text: { type: 'mrkdwn', text: slackClip(`*What failed:* ${e(m.failure)}`) } },
      { type: 'section', text: { type: 'mrkdwn', text: `<${m.runUrl}|Open the run in Temporal>` } },
    ],
  };
}

export function webhookNoticePayload(n: NoticeMessage): Record<string, unknown> {
  return {
    event: n.notice === 'reminder' ? 'cdf-promotion.approval-reminder' : 'cdf-promotion.needs-approval',
    title: n.title,
    kind: n.kind,
    environment: n.environment,
    ref: n.ref,
    commit: n.commit ?? null,
    planHash: n.planHash,
    planTotals: n.planSummary.totals,
    requestedBy: n.requestedBy,
    reason: n.reason ?? null,
    approvalDeadline: n.approvalDeadline,
    approvals: n.approvals,
    requiredApprovals: n.requiredApprovals,
    waitingFor: n.waitingFor,
    commands: n.commands,
    workflowId: n.workflowId,
    runId: n.runId,
    runUrl: n.runUrl,
  };
}

export function slackNoticePayload(n: NoticeMessage): Record<string, unknown> {
  const e = slackEscape;
  const t = n.planSummary.totals;
  const lines = [
    `*Environment:* ${e(n.environment)}   *Commit:* ${n.commit ? e(n.commit.slice(0, 12)) : '(not resolved)'}   *Requested by:* ${e(n.requestedBy)}`,
    ...(n.reason ? [`*Reason:* ${e(n.reason)}`] : []),
    `*Plan* ${e(n.planHash)}: ${t.create} to create, ${t.update} to update, ${t.delete} to delete, ${t.unchanged} unchanged`,
    `*Approvals:* ${n.approvals} of ${n.requiredApprovals}; waiting for ${e(n.waitingFor.join(', ') || 'nobody')}; expires ${e(n.approvalDeadline)}`,
  ];
  return {
    text: `${e(n.title)}: ${e(n.environment)} ${e(n.ref)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: n.title } },
      { type: 'section', text: { type: 'mrkdwn', text: slackClip(lines.join('\n')) } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `Approve after reading the plan:\n\`${e(n.commands.approve)}\`` },
      },
      { type: 'section', text: { type: 'mrkdwn', text: `<${n.runUrl}|Open the run in Temporal>` } },
    ],
  };
}

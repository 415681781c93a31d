/**
 * Alert channels: a generic JSON webhook, Slack and Microsoft Teams webhooks, and PagerDuty's Events API v2.
 * URLs and the routing key come from env vars because they are, or embed, credentials.
 */
import type { AlertRequest, NoticeRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { PAGERDUTY_EVENTS_URL } from '../../config/defaults';
import type { AlertChannelConfig } from '../../config/schema';
import { redact } from '../redact';
import { requireSecret } from '../secrets';
import { pagerDutyRefusal, pagerDutyResolve, pagerDutyTrigger } from './pagerduty';
import { teamsNoticePayload, teamsPayload } from './teams';

export interface AlertMessage extends AlertRequest {
  runUrl: string;
  title: string;
  /** Names the environment's incident, the same for every run on it: PagerDuty's dedup key. */
  incidentKey: string;
  /** Where the failure is: the environment's CDF project, as `<cluster host>/<project>`. */
  source: string;
}

/** A notice as the channels render it: the request, a title, a link to the run and the commands to decide. */
export interface NoticeMessage extends NoticeRequest {
  title: string;
  runUrl: string;
  commands: { approve: string; reject: string; temporal: string };
}

/** A run on the environment succeeded: its incident, if one is open, is over. */
export interface IncidentResolution {
  environment: string;
  incidentKey: string;
}

export interface AlertSender {
  send(channel: AlertChannelConfig, message: AlertMessage): Promise<void>;
  notify(channel: AlertChannelConfig, notice: NoticeMessage): Promise<void>;
  /** Closes the environment's incident on channels that keep incidents open (keepsIncidents). */
  resolve(channel: AlertChannelConfig, resolution: IncidentResolution): Promise<void>;
}

export function channelName(channel: AlertChannelConfig, index: number): string {
  return channel.name ?? `${channel.type}#${index + 1}`;
}

/** A plan waiting for approval is nobody's emergency: PagerDuty is only told of failures, never paged for notices. */
export function takesNotices(channel: AlertChannelConfig): boolean {
  return channel.type !== 'pagerduty';
}

/** Channels where a failure opens something that stays open until a later success closes it. */
export function keepsIncidents(channel: AlertChannelConfig): boolean {
  return channel.type === 'pagerduty';
}

type PagerDutyChannel = Extract<AlertChannelConfig, { type: 'pagerduty' }>;

export class HttpAlertSender implements AlertSender {
  constructor(
    private readonly secrets: NodeJS.ProcessEnv,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(channel: AlertChannelConfig, message: AlertMessage): Promise<void> {
    switch (channel.type) {
      case 'pagerduty':
        return this.postPagerDuty(channel, (key) => pagerDutyTrigger(message, channel.severity, key));
      case 'teams':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), teamsPayload(message));
      case 'slack':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), slackPayload(message));
      case 'webhook':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), webhookPayload(message));
    }
  }

  async notify(channel: AlertChannelConfig, notice: NoticeMessage): Promise<void> {
    switch (channel.type) {
      case 'pagerduty':
        return; // takesNotices: the caller leaves these channels out
      case 'teams':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), teamsNoticePayload(notice));
      case 'slack':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), slackNoticePayload(notice));
      case 'webhook':
        return this.post(channel, requireSecret(this.secrets, channel.urlEnv), webhookNoticePayload(notice));
    }
  }

  async resolve(channel: AlertChannelConfig, resolution: IncidentResolution): Promise<void> {
    if (channel.type !== 'pagerduty') return;
    await this.postPagerDuty(channel, (key) => pagerDutyResolve(resolution, key));
  }

  private async postPagerDuty(
    channel: PagerDutyChannel,
    body: (routingKey: string) => Record<string, unknown>,
  ): Promise<void> {
    const routingKey = requireSecret(this.secrets, channel.routingKeyEnv);
    const url = channel.urlEnv
      ? requireSecret(this.secrets, channel.urlEnv)
      : (channel.url ?? PAGERDUTY_EVENTS_URL);
    // PagerDuty says why it refused an event (a malformed key, a missing field): worth a line in the failure,
    // with the key masked should it ever be quoted.
    await this.post(channel, url, body(routingKey), (text) => {
      const why = pagerDutyRefusal(text);
      return why ? redact(why, [routingKey]) : undefined;
    });
  }

  private async post(
    channel: AlertChannelConfig,
    url: string,
    body: Record<string, unknown>,
    explain?: (responseText: string) => string | undefined,
  ): Promise<void> {
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
    if (!res.ok) {
      const why = explain?.(await res.text().catch(() => ''));
      throw new PromotionError(
        ErrorType.AlertDelivery,
        `alert to ${channel.type} answered HTTP ${res.status}${why ? `: ${why}` : ''}`,
      );
    }
  }
}

/** The most specific code of a fetch failure (ECONNREFUSED, ENOTFOUND, TimeoutError, ...), never its text. */
function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: unknown; cause?: { code?: unknown; name?: string } };
  const code = e?.cause?.code ?? e?.code ?? e?.cause?.name ?? e?.name;
  return typeof code === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,40}$/.test(code) ? code : 'network error';
}

/** The env vars of a channel that hold URLs (PagerDuty's is optional: its endpoint is not a secret by default). */
function urlVariables(channel: AlertChannelConfig): string[] {
  if (channel.type === 'pagerduty') return channel.urlEnv ? [channel.urlEnv] : [];
  return [channel.urlEnv];
}

/** PagerDuty integration and routing keys are 32 characters; the Events API refuses any other length. */
const ROUTING_KEY_LENGTH = 32;

/**
 * Checks at worker start-up that every alert channel's URL variable is set to an http(s) URL, and that every
 * PagerDuty routing key is set and has the right length. Messages name the variable, never its value.
 */
export function checkAlertChannels(
  environments: Record<string, { alerts: AlertChannelConfig[] }>,
  secrets: NodeJS.ProcessEnv,
): string[] {
  const problems: string[] = [];
  for (const [env, cfg] of Object.entries(environments)) {
    for (const [i, channel] of cfg.alerts.entries()) {
      const where = `environments.${env}.alerts[${i}] (${channelName(channel, i)})`;
      if (channel.type === 'pagerduty') {
        const key = secrets[channel.routingKeyEnv];
        if (!key) problems.push(`${where}: environment variable ${channel.routingKeyEnv} is not set`);
        else if (key.length !== ROUTING_KEY_LENGTH)
          problems.push(
            `${where}: environment variable ${channel.routingKeyEnv} does not hold a PagerDuty routing key ` +
              `(${ROUTING_KEY_LENGTH} characters)`,
          );
      }
      for (const name of urlVariables(channel)) {
        const value = secrets[name];
        if (!value) {
          problems.push(`${where}: environment variable ${name} is not set`);
          continue;
        }
        let url: URL | undefined;
        try {
          url = new URL(value);
        } catch {
          url = undefined;
        }
        if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
          problems.push(`${where}: environment variable ${name} does not hold an http(s) URL`);
        }
      }
    }
  }
  return problems;
}

/** Every channel URL, routing key and header secret the worker knows, to be masked in what leaves an activity. */
export function alertChannelSecrets(
  environments: Record<string, { alerts: AlertChannelConfig[] }>,
  secrets: NodeJS.ProcessEnv,
): string[] {
  const values = new Set<string>();
  for (const cfg of Object.values(environments)) {
    for (const channel of cfg.alerts) {
      for (const name of urlVariables(channel)) {
        const url = secrets[name];
        if (!url) continue;
        values.add(url);
        for (const part of urlSecretParts(url)) values.add(part);
      }
      if (channel.type === 'pagerduty') {
        const key = secrets[channel.routingKeyEnv];
        if (key) values.add(key);
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

/**
 * The parts of a channel URL that identify the channel on their own: Slack's /services/T../B../token path, a
 * password, and query values such as the `sig=` signature of a Teams Workflows (Power Automate) URL.
 */
function urlSecretParts(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return []; // Not a URL: the whole value is masked by the caller.
  }
  const parts: string[] = [];
  if (parsed.pathname.length > 8) parts.push(parsed.pathname);
  if (parsed.password) parts.push(parsed.password);
  for (const value of parsed.searchParams.values()) {
    // Short values (api-version=1, sv=1.0) are not secrets, and masking them would garble every message.
    if (value.length >= 16) parts.push(value, encodeURIComponent(value));
  }
  return parts;
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

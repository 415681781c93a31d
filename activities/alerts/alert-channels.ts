/**
 * Alert channels: a generic JSON webhook and a Slack incoming webhook. URLs come from env vars because they
 * usually embed a token.
 */
import type { AlertRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { AlertChannelConfig } from '../../config/schema';
import { requireSecret } from '../secrets';

export interface AlertMessage extends AlertRequest {
  runUrl: string;
  title: string;
}

export interface AlertSender {
  send(channel: AlertChannelConfig, message: AlertMessage): Promise<void>;
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
    const url = requireSecret(this.secrets, channel.urlEnv);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (channel.type === 'webhook') {
      for (const [header, envName] of Object.entries(channel.headersEnv ?? {})) {
        const v = this.secrets[envName];
        if (v) headers[header] = v;
      }
    }
    const body = channel.type === 'slack' ? slackPayload(message) : webhookPayload(message);
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new PromotionError(
        ErrorType.AlertDelivery,
        `alert to ${channel.type} failed: ${(err as Error).message}`,
      );
    }
    if (!res.ok)
      throw new PromotionError(ErrorType.AlertDelivery, `alert to ${channel.type} answered ${res.status}`);
  }
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
  };
}

export function slackPayload(m: AlertMessage): Record<string, unknown> {
  const fields = [
    `*Environment:* ${m.environment}`,
    `*Outcome:* ${m.outcome}`,
    `*Commit:* ${m.commit ? m.commit.slice(0, 12) : '(not resolved)'}`,
    `*Plan:* ${m.planHash ? m.planHash.slice(0, 12) : '(none)'}`,
    `*Requested by:* ${m.requestedBy}`,
  ];
  return {
    text: `${m.title}: ${m.failure}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: m.title } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      { type: 'section', text: { type: 'mrkdwn', text: `*What failed:* ${m.failure}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `<${m.runUrl}|Open the run in Temporal>` } },
    ],
  };
}

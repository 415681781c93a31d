/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/): a failed run
 * triggers the environment's incident, a later successful run on that environment resolves it. Both events carry
 * the same dedup key, so PagerDuty keeps one incident per environment: a second failure while it is open adds to
 * it instead of paging again. The routing key is put into the body here, at the last moment, and nowhere else.
 */
import { createHash } from 'node:crypto';
import type { WorkerConfig } from '../../config/schema';
import type { AlertMessage, IncidentResolution } from './alert-channels';
import { clip, oneLine } from './clip';

/** PagerDuty refuses a summary longer than this (HTTP 400). */
export const PAGERDUTY_SUMMARY_MAX = 1024;
/** PagerDuty's limit for dedup keys. */
const DEDUP_KEY_MAX = 255;
/** custom_details is shown in full on the incident; the whole failure text is behind the run link anyway. */
const DETAIL_MAX = 4000;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/**
 * The dedup key of an environment's incident: the same for every run on that environment, different for every
 * deployment of this service. Environment names are only unique within one worker configuration, and two
 * deployments (one task queue or namespace each, as the environment entities are) may share a PagerDuty service:
 * their `prod`s must not resolve each other's incidents.
 */
export function incidentKey(
  temporal: Pick<WorkerConfig['temporal'], 'namespace' | 'taskQueue'>,
  environment: string,
): string {
  const key = `cdf-promote/${temporal.namespace}/${temporal.taskQueue}/${environment}`;
  if (key.length <= DEDUP_KEY_MAX) return key;
  // Still stable, and still unique per namespace and queue, when their names are too long to spell out.
  const digest = createHash('sha256')
    .update(`${temporal.namespace}\n${temporal.taskQueue}`)
    .digest('hex')
    .slice(0, 32);
  return `cdf-promote/${digest}/${environment}`;
}

/** A `trigger` event for a run that ended in a failure (or was cancelled while it touched CDF). */
export function pagerDutyTrigger(
  m: AlertMessage,
  severity: PagerDutySeverity,
  routingKey: string,
): Record<string, unknown> {
  const details: Record<string, unknown> = {
    environment: m.environment,
    outcome: m.outcome,
    kind: m.kind,
    ref: m.ref,
    commit: m.commit ?? null,
    planHash: m.planHash ?? null,
    requestedBy: m.requestedBy,
    workflowId: m.workflowId,
    runId: m.runId,
    failure: clip(m.failure, DETAIL_MAX),
    ...(m.failedChecks?.length
      ? { failedChecks: m.failedChecks.map((c) => `${c.name}: ${clip(c.detail, 300)}`) }
      : {}),
    // Linked runs of an automatic rollback (rollback.automatic).
    ...(m.rollbackWorkflowId ? { rollbackWorkflowId: m.rollbackWorkflowId } : {}),
    ...(m.triggeredBy ? { triggeredBy: m.triggeredBy } : {}),
    runUrl: m.runUrl,
  };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: m.incidentKey,
    payload: {
      summary: clip(oneLine(`${m.title}: ${m.failure}`), PAGERDUTY_SUMMARY_MAX, '…'),
      source: m.source,
      severity,
      group: m.environment,
      class: m.outcome,
      custom_details: details,
    },
    client: 'cdf-promote',
    client_url: m.runUrl,
    links: [{ href: m.runUrl, text: 'Open the run in Temporal' }],
  };
}

/** A `resolve` event: the environment's incident is over (PagerDuty ignores it when none is open). */
export function pagerDutyResolve(r: IncidentResolution, routingKey: string): Record<string, unknown> {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: r.incidentKey };
}

/** PagerDuty's reasons for refusing an event (`{"status":"invalid event","errors":[...]}`), when it gave any. */
export function pagerDutyRefusal(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e) => typeof e === 'string') : [];
    const parts = [typeof parsed.message === 'string' ? parsed.message : '', errors.join('; ')];
    const text = parts.filter(Boolean).join(': ');
    return text ? clip(oneLine(text), 300, '…') : undefined;
  } catch {
    return undefined;
  }
}

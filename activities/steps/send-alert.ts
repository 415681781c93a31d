import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { EnvironmentConfig, WorkerConfig } from '../../config/schema';
import type { AlertDelivery, AlertRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger, type Sanitizer } from '../activity-context';
import { channelName, type AlertMessage, type AlertSender } from '../alerts/alert-channels';
import { incidentKey } from '../alerts/pagerduty';

/** The run's page in the Temporal UI. */
export function runUrl(
  temporal: Pick<WorkerConfig['temporal'], 'uiUrl' | 'namespace'>,
  workflowId: string,
  runId: string,
): string {
  const ui = temporal.uiUrl.replace(/\/$/, '');
  return `${ui}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`;
}

/** Where a failure on the environment is: its CDF project on its cluster (PagerDuty's `source`). */
export function alertSource(target: Pick<EnvironmentConfig, 'cdfProject' | 'baseUrl'>): string {
  let host: string;
  try {
    host = new URL(target.baseUrl).host;
  } catch {
    host = target.baseUrl;
  }
  return `${host}/${target.cdfProject}`;
}

/**
 * The message every channel renders: the request plus a title, a link to the run in the Temporal UI, and the
 * environment's incident key and CDF project for the channels that track incidents.
 */
export function composeAlert(
  req: AlertRequest,
  temporal: Pick<WorkerConfig['temporal'], 'uiUrl' | 'namespace' | 'taskQueue'>,
  target: Pick<EnvironmentConfig, 'cdfProject' | 'baseUrl'>,
): AlertMessage {
  return {
    ...req,
    title: `CDF ${req.kind} to ${req.environment} ${req.outcome.replace('_', ' ')}`,
    runUrl: runUrl(temporal, req.workflowId, req.runId),
    incidentKey: incidentKey(temporal, req.environment),
    source: alertSource(target),
  };
}

/**
 * Tells the environment's operators. Each channel is sent to once per run: a retry after a partial failure
 * re-sends only to the channels that failed.
 */
export function createSendAlert(deps: {
  config: WorkerConfig;
  alerts: AlertSender;
  logger: Logger;
  /** Masks channel URLs and other secrets in delivery errors. */
  sanitize: Sanitizer;
}) {
  // Channels delivered per run on this worker.
  const delivered = new Map<string, Set<string>>();
  return async function sendAlert(req: AlertRequest): Promise<AlertDelivery> {
    const log = activityLogger(deps.logger);
    const env = requireEnvironment(deps.config, req.environment);
    const key = `${req.workflowId}/${req.runId}`;
    const done = delivered.get(key) ?? new Set<string>();
    delivered.set(key, done);
    const message = composeAlert(req, deps.config.temporal, env);
    const failures: string[] = [];
    let allConfiguration = true;
    for (const [i, channel] of env.alerts.entries()) {
      const name = channelName(channel, i);
      if (done.has(name)) continue;
      try {
        await deps.alerts.send(channel, message);
        done.add(name);
        log.info({ channel: name }, 'alert delivered');
      } catch (err) {
        if (!(err instanceof PromotionError && err.type === ErrorType.Configuration))
          allConfiguration = false;
        failures.push(`${name}: ${deps.sanitize((err as Error).message)}`);
      }
    }
    if (failures.length) {
      // Retrying cannot fix a channel whose URL variable is missing; anything else may be a blip.
      const type = allConfiguration ? ErrorType.Configuration : ErrorType.AlertDelivery;
      throw new PromotionError(type, `alert delivery failed: ${failures.join('; ')}`);
    }
    if (env.alerts.length === 0) log.warn('no alert channels configured for this environment');
    delivered.delete(key);
    return { delivered: [...done] };
  };
}

import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger, type Sanitizer } from '../activity-context';
import { channelName, keepsIncidents, type AlertSender } from '../alerts/alert-channels';
import { incidentKey } from '../alerts/pagerduty';

/** Pauses between attempts at a resolve: a blip passes, and the smoke step is not held up for long. */
export const RESOLVE_RETRY_DELAYS_MS = [1_000, 3_000];

/**
 * Closes the environment's open incident (PagerDuty) after a run on it succeeded. It runs inside the smoke-check
 * activity, when every check passed: in the pipeline the run then ends `succeeded`, so the workflow needs no new
 * activity (and no new history) for it. Sending a resolve when no incident is open is harmless: PagerDuty
 * ignores it. Best effort: a channel that cannot be reached after a few tries is logged, and the run goes on;
 * the incident then waits to be resolved by hand or by the next successful run.
 */
export function createResolveIncidents(deps: {
  config: WorkerConfig;
  alerts: AlertSender;
  logger: Logger;
  sanitize: Sanitizer;
  retryDelaysMs?: readonly number[];
}) {
  const delays = deps.retryDelaysMs ?? RESOLVE_RETRY_DELAYS_MS;
  return async function resolveIncidents(environment: string): Promise<{ resolved: string[] }> {
    const env = requireEnvironment(deps.config, environment);
    const channels = env.alerts
      .map((c, i) => [c, channelName(c, i)] as const)
      .filter(([c]) => keepsIncidents(c));
    if (channels.length === 0) return { resolved: [] };
    const ctx = Context.current();
    const log = activityLogger(deps.logger);
    const resolution = { environment, incidentKey: incidentKey(deps.config.temporal, environment) };
    const resolved: string[] = [];
    for (const [channel, name] of channels) {
      for (let attempt = 0; ; attempt++) {
        ctx.heartbeat({ resolving: name, attempt });
        try {
          await deps.alerts.resolve(channel, resolution);
          resolved.push(name);
          log.info({ channel: name, incidentKey: resolution.incidentKey }, 'incident resolved');
          break;
        } catch (err) {
          const delay = delays[attempt];
          // A missing variable stays missing: no point in asking again.
          const final =
            delay === undefined || (err instanceof PromotionError && err.type === ErrorType.Configuration);
          if (final) {
            log.warn(
              { channel: name, incidentKey: resolution.incidentKey },
              `could not resolve the incident; resolve it by hand: ${deps.sanitize((err as Error).message)}`,
            );
            break;
          }
          await ctx.sleep(delay);
        }
      }
    }
    return { resolved };
  };
}

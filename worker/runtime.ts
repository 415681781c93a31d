/**
 * The Temporal SDK's process-wide runtime: routes its own logs (workflow `log`, activity `log`, core) into pino, and,
 * when `metrics.enabled`, serves Prometheus metrics: the SDK's (`temporal_*`) and the service's own
 * (`cdf_promote_*`, contracts/metrics.ts) from the one exporter the SDK's core runs. Call once per process, before
 * any connection or worker.
 */
import type { MetricMeter } from '@temporalio/common';
import {
  DefaultLogger,
  Runtime,
  makeTelemetryFilterString,
  type LogLevel,
  type MetricsExporterConfig,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/schema';
import type { PromotionActivities } from '../contracts/activity-types';
import { ConfigurationError } from '../contracts/errors';
import { PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE } from '../contracts/messages';
import {
  ALERTS_FAILED_METRIC,
  ALERTS_SENT_METRIC,
  FAILED_RUN_OUTCOMES,
  METRICS,
  RUNS_METRIC,
} from '../contracts/metrics';
import { OUTCOMES } from '../contracts/types';

/** `host:port` as the exporter binds it (an IPv6 address in brackets). */
export function metricsBindAddress(metrics: Pick<WorkerConfig['metrics'], 'host' | 'port'>): string {
  return metrics.host.includes(':') ? `[${metrics.host}]:${metrics.port}` : `${metrics.host}:${metrics.port}`;
}

/**
 * The SDK's Prometheus exporter, with our histograms' buckets (its default buckets are for milliseconds). Metric
 * names and units of the SDK stay its defaults (no `_total` suffix, latencies in milliseconds), so Temporal's own
 * dashboards and documentation apply as they are.
 */
export function prometheusExporter(metrics: WorkerConfig['metrics']): MetricsExporterConfig {
  return {
    prometheus: {
      bindAddress: metricsBindAddress(metrics),
      histogramBucketOverrides: Object.fromEntries(
        METRICS.flatMap((m) => (m.buckets ? [[m.name, [...m.buckets]]] : [])),
      ),
    },
  };
}

export function installRuntime(logger: Logger, metrics?: WorkerConfig['metrics']): void {
  const sdkLevel = (logger.level === 'debug' || logger.level === 'trace' ? 'DEBUG' : 'INFO') as LogLevel;
  try {
    Runtime.install({
      logger: new DefaultLogger(sdkLevel, (entry) => {
        const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
        logger[level]({ ...entry.meta }, entry.message);
      }),
      telemetryOptions: {
        logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
        ...(metrics?.enabled ? { metrics: prometheusExporter(metrics) } : {}),
      },
    });
  } catch (err) {
    // The one start-up failure the configuration causes here: the port is taken (or not ours to bind).
    if (metrics?.enabled && /prometheus/i.test((err as Error).message))
      throw new ConfigurationError(
        `metrics: cannot serve on ${metricsBindAddress(metrics)} (metrics.host, metrics.port): ${(err as Error).message}`,
      );
    throw err;
  }
}

/** The activities that deliver to alert channels, and what each delivers. */
const DELIVERIES = [
  ['sendAlert', 'alert'],
  ['sendNotice', 'notice'],
] as const satisfies ReadonlyArray<readonly [keyof PromotionActivities, string]>;

/**
 * Starts the counters an alert rule watches at 0, for every label set this worker's configuration can produce,
 * with the labels the SDK gives the workflow's and the activities' own series. A counter that first appears at 1
 * hides its first increase from `increase()` and `rate()`: without this, the first failed deploy after a worker
 * starts would never fire `CdfPromoteRunsFailed` (deploy/prometheus/alerts.yml).
 */
export function initializeCounters(
  meter: MetricMeter,
  config: Pick<WorkerConfig, 'temporal' | 'environments'>,
): void {
  const { namespace, taskQueue } = config.temporal;
  const worker = meter.withTags({ namespace, taskQueue });
  const runs = worker.createCounter(RUNS_METRIC.name, undefined, RUNS_METRIC.help);
  const sent = worker.createCounter(ALERTS_SENT_METRIC.name, undefined, ALERTS_SENT_METRIC.help);
  const failed = worker.createCounter(ALERTS_FAILED_METRIC.name, undefined, ALERTS_FAILED_METRIC.help);
  const kinds = [
    ['promotion', PROMOTION_WORKFLOW_TYPE],
    ['rollback', ROLLBACK_WORKFLOW_TYPE],
  ] as const;
  for (const [environment, env] of Object.entries(config.environments)) {
    for (const [kind, workflowType] of kinds)
      for (const outcome of [...OUTCOMES, ...FAILED_RUN_OUTCOMES])
        runs.add(0, { workflowType, environment, kind, outcome });
    for (const channelType of new Set(env.alerts.map((a) => a.type)))
      for (const [activityType, message] of DELIVERIES) {
        sent.add(0, { activityType, channel_type: channelType, message });
        failed.add(0, { activityType, channel_type: channelType, message });
      }
  }
}

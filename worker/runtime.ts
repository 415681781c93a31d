/**
 * The Temporal SDK's process-wide runtime: routes its own logs (workflow `log`, activity `log`, core) into pino, and,
 * when `metrics.enabled`, serves Prometheus metrics: the SDK's (`temporal_*`) and the service's own
 * (`cdf_promote_*`, contracts/metrics.ts) from the one exporter the SDK's core runs. Call once per process, before
 * any connection or worker.
 */
import {
  DefaultLogger,
  Runtime,
  makeTelemetryFilterString,
  type LogLevel,
  type MetricsExporterConfig,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/schema';
import { ConfigurationError } from '../contracts/errors';
import { METRICS } from '../contracts/metrics';

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

/** Routes the Temporal SDK's own logs (workflow `log`, activity `log`, core) into pino. Call once per process. */
import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

export function installRuntime(logger: Logger): void {
  const sdkLevel = (logger.level === 'debug' || logger.level === 'trace' ? 'DEBUG' : 'INFO') as LogLevel;
  Runtime.install({
    logger: new DefaultLogger(sdkLevel, (entry) => {
      const level = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
      logger[level]({ ...entry.meta }, entry.message);
    }),
    telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
}

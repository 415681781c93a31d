/**
 * The service's pino logger. Nothing Temporal-specific here; worker/runtime.ts joins it to the SDK's logger.
 * Redaction is a second line of defence: secrets are never logged on purpose.
 */
import pino, { type Logger } from 'pino';

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? 'cdf-promotion',
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: {
      paths: [
        '*.token',
        '*.secret',
        '*.password',
        '*.authorization',
        '*.CDF_TOKEN',
        '*.IDP_CLIENT_SECRET',
        'headers.authorization',
      ],
      censor: '***',
    },
  });
}

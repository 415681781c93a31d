/**
 * The service's pino logger. Nothing Temporal-specific here; worker/runtime.ts joins it to the SDK's logger.
 * Redaction is a second line of defence: secrets are never logged on purpose.
 *
 * JSON lines everywhere (what log collectors read); `LOG_FORMAT=pretty` (set by `npm start`) prints one readable
 * line per entry for a person at a terminal, still with the workflow, run and activity ids.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export function createLogger(
  options: { level?: string; name?: string; format?: LogFormat; destination?: DestinationStream } = {},
): Logger {
  const format = options.format ?? (process.env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json');
  const config = {
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
  };
  if (format === 'json') return options.destination ? pino(config, options.destination) : pino(config);
  return pino(config, prettyStream(options.destination));
}

/** Fields every SDK log line carries that say nothing a person at the terminal needs. */
const QUIET_FIELDS = 'pid,hostname,sdkComponent,namespace,taskQueue,isLocal,taskToken,workflowType';

export function prettyStream(destination?: DestinationStream): DestinationStream {
  return pretty({
    destination: destination ?? 1,
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: QUIET_FIELDS,
    // One line per entry: ids and details follow the message on the same line.
    singleLine: true,
    sync: true,
  });
}

/**
 * CLI entry: `tsx fakes/cdf/main.ts --port 4010 --state-file data/fake-cdf/state.json [--project sandbox]`.
 * stdout carries exactly one JSON line once listening so supervisors can wait on it;
 * all logging goes to stderr to keep that contract.
 */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startFakeCdf } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'state-file': { type: 'string', default: 'data/fake-cdf/state.json' },
      project: { type: 'string', multiple: true },
      'no-auto-run': { type: 'boolean', default: false },
      'log-level': { type: 'string', default: process.env.LOG_LEVEL ?? 'info' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const logger = pino({ name: 'fake-cdf', level: values['log-level'] }, pino.destination(2));
  const sandbox = await startFakeCdf({
    port,
    host: values.host,
    stateFile: values['state-file'],
    projects: values.project && values.project.length > 0 ? values.project : ['sandbox'],
    autoRunTransformations: !values['no-auto-run'],
    logger,
  });
  process.stdout.write(`${JSON.stringify({ event: 'listening', url: sandbox.url, port: sandbox.port })}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'fake CDF shutting down');
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'fake CDF close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

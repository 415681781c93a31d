#!/usr/bin/env node
/**
 * cdf-promote: start, follow, approve and reject CDF configuration promotions running on Temporal.
 *
 * Exit codes: 0 ok, 1 other failure, 2 bad flags or values, 3 workflow not found, 4 approval/rejection refused
 * by the workflow, 5 a waited-for run ended in an outcome other than succeeded or no_changes.
 */
import { Command, Option } from 'commander';
import { TEMPORAL_DEFAULTS } from '../config/defaults';
import { registerApprove } from './commands/approve';
import { registerAudit } from './commands/audit';
import { registerCancel } from './commands/cancel';
import { registerFreeze } from './commands/freeze';
import { registerHistory } from './commands/history';
import { registerList } from './commands/list';
import { registerPlan } from './commands/plan';
import { registerQueue } from './commands/queue';
import { registerReject } from './commands/reject';
import { registerRollback } from './commands/rollback';
import { registerStart } from './commands/start';
import { registerStatus } from './commands/status';
import { ExitCode, toCliError } from './errors';
import { oneLineSafe, PROGRAM_NAME } from './output';

export function buildProgram(): Command {
  const program = new Command(PROGRAM_NAME);
  program
    .description('Promote Cognite Data Fusion configuration between environments through Temporal workflows.')
    .addOption(
      new Option('--address <host:port>', 'Temporal frontend address')
        .env('TEMPORAL_ADDRESS')
        .default(TEMPORAL_DEFAULTS.address),
    )
    .addOption(
      new Option('--namespace <name>', 'Temporal namespace')
        .env('TEMPORAL_NAMESPACE')
        .default(TEMPORAL_DEFAULTS.namespace),
    )
    .addOption(
      new Option('--task-queue <name>', 'task queue the promotion worker polls')
        .env('CDF_PROMOTION_TASK_QUEUE')
        .default(TEMPORAL_DEFAULTS.taskQueue),
    )
    .addOption(
      new Option('--ui-url <url>', 'Temporal Web UI base URL, for links')
        .env('TEMPORAL_UI_URL')
        .default(TEMPORAL_DEFAULTS.uiUrl),
    )
    .option('--json', 'machine-readable JSON output on stdout')
    // Errors go through the one handler in main(): commander must throw instead of printing and exiting.
    // Subcommands created with .command() inherit both settings.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .showSuggestionAfterError()
    .addHelpText(
      'after',
      `\nExit codes: 0 ok, 1 failure, 2 bad flags, 3 workflow not found, 4 approval refused, 5 run not successful.\n` +
        `\nExample:\n  $ ${PROGRAM_NAME} start --env prod --ref main --requested-by alice\n` +
        `  $ ${PROGRAM_NAME} status <workflow id> --watch`,
    );

  registerStart(program);
  registerRollback(program);
  registerStatus(program);
  registerPlan(program);
  registerApprove(program);
  registerReject(program);
  registerCancel(program);
  registerAudit(program);
  registerList(program);
  registerQueue(program);
  registerFreeze(program);
  registerHistory(program);
  return program;
}

/** Runs the CLI and returns the exit code; the only place errors are printed. */
export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return ExitCode.Ok;
  } catch (err) {
    const error = toCliError(err);
    if (error.message) process.stderr.write(`error: ${oneLineSafe(error.message)}\n`);
    if (process.env.CDF_PROMOTE_DEBUG && err instanceof Error && err.stack)
      process.stderr.write(`${err.stack}\n`);
    return error.exitCode;
  }
}

if (require.main === module) {
  // `cdf-promote list | head` closes the pipe early; that is the reader's choice, not a crash.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  void main().then((code) => {
    process.exitCode = code;
    // Lets stdout drain; the unref'd timer only fires if a stray handle would otherwise keep the process alive.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}

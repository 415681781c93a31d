import type { Command } from 'commander';
import { parseDuration } from '../../config/duration';
import type { Freeze, FreezeLogEntry } from '../../contracts/environment-entity';
import { personNameSchema } from '../../contracts/person-name';
import { readGlobals, withClient } from '../connection';
import { environmentFlag, freezeEnvironment, unfreezeEnvironment } from '../environment-state';
import { UsageError } from '../errors';
import { oneLineSafe, print, printJson, PROGRAM_NAME } from '../output';
import { parseFlags } from '../validation';
import { z } from 'zod';

const whoAndWhy = z.object({ by: personNameSchema, reason: z.string().trim().min(1).max(500) }).strict();

/** `--until`: an ISO time, or a duration from now ("2h", "3d"). */
export function parseUntil(value: string | undefined, now = Date.now()): string {
  if (value === undefined) throw new UsageError('missing required option --until');
  if (/^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(Date.parse(value)).toISOString();
  try {
    return new Date(now + parseDuration(value)).toISOString();
  } catch {
    throw new UsageError(
      `invalid --until: "${value}" is neither an ISO time (2026-12-24T18:00:00Z) nor a duration (2h, 3d)`,
    );
  }
}

/**
 * Ad-hoc change freezes, kept by the environment's entity: while one is in force, approved runs wait before
 * applying (rollbacks pass if the environment allows it). Deployment windows come from the configuration.
 */
export function registerFreeze(program: Command): void {
  program
    .command('freeze')
    .description(
      'Freeze an environment until a time: approved runs wait before applying (visible in status) until it ends or is lifted.',
    )
    .requiredOption('--env <name>', 'the environment')
    .requiredOption(
      '--until <time|duration>',
      'end of the freeze: ISO time, or a duration from now (2h, 3d; at most 90d)',
    )
    .requiredOption('--reason <text>', 'why (recorded, shown to every run that waits)')
    .requiredOption('--by <who>', 'your name (recorded)')
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} freeze --env prod --until 2026-12-27T08:00:00Z --reason "holiday freeze" --by alice`,
    )
    .action(async (flags: { env?: string; until?: string; reason?: string; by?: string }, cmd: Command) => {
      const globals = readGlobals(cmd);
      const environment = environmentFlag(flags.env);
      const { by, reason } = parseFlags(
        whoAndWhy,
        { by: flags.by, reason: flags.reason },
        { by: '--by', reason: '--reason' },
      );
      const until = parseUntil(flags.until);
      const frozen = await withClient(globals, (client) =>
        freezeEnvironment(client, environment, globals.taskQueue, { by, reason, until }),
      );
      if (globals.json) printJson({ environment, freeze: frozen });
      else print(oneLineSafe(describeFreeze(environment, frozen)));
    });

  program
    .command('unfreeze')
    .description('Lift the freeze of an environment: a run waiting to apply goes ahead.')
    .requiredOption('--env <name>', 'the environment')
    .requiredOption('--by <who>', 'your name (recorded)')
    .option('--reason <text>', 'why (recorded)')
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} unfreeze --env prod --by alice --reason "fix verified"`,
    )
    .action(async (flags: { env?: string; reason?: string; by?: string }, cmd: Command) => {
      const globals = readGlobals(cmd);
      const environment = environmentFlag(flags.env);
      const { by, reason } = parseFlags(
        whoAndWhy.partial({ reason: true }),
        { by: flags.by, reason: flags.reason },
        { by: '--by', reason: '--reason' },
      );
      const lifted: FreezeLogEntry = await withClient(globals, (client) =>
        unfreezeEnvironment(client, environment, globals.taskQueue, { by, ...(reason ? { reason } : {}) }),
      );
      if (globals.json) printJson({ environment, lifted });
      else
        print(
          oneLineSafe(`${environment} is no longer frozen (the freeze by ${lifted.by} was lifted by ${by})`),
        );
    });
}

export function describeFreeze(environment: string, f: Freeze): string {
  return `${environment} is frozen until ${f.until} by ${f.by}: ${f.reason}`;
}

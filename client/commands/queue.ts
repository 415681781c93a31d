import type { Command } from 'commander';
import { readGlobals, withClient } from '../connection';
import { environmentFlag, environmentState } from '../environment-state';
import { describeFreeze } from './freeze';
import { oneLineSafe, print, printJson, PROGRAM_NAME, table } from '../output';

export function registerQueue(program: Command): void {
  program
    .command('queue')
    .description(
      'Show who holds an environment (one promotion or rollback at a time) and the runs waiting for it, in order.',
    )
    .requiredOption('--env <name>', 'the environment')
    .addHelpText('after', `\nExample:\n  $ ${PROGRAM_NAME} queue --env prod`)
    .action(async (flags: { env?: string }, cmd: Command) => {
      const globals = readGlobals(cmd);
      const environment = environmentFlag(flags.env);
      await withClient(globals, async (client) => {
        const state = await environmentState(client, environment, globals.taskQueue);
        const now = new Date().toISOString();
        const freeze = state.freeze && state.freeze.until > now ? state.freeze : null;
        if (globals.json) {
          printJson({ environment, holder: state.holder ?? null, queue: state.queue, freeze });
          return;
        }
        if (freeze) print(oneLineSafe(describeFreeze(environment, freeze)));
        const h = state.holder;
        print(
          oneLineSafe(
            h
              ? `${environment} is held by ${h.workflowId} (${h.kind} of ${h.ref} by ${h.requestedBy}, since ${h.since}${h.applying ? ', applying' : ''})`
              : `${environment} is free`,
          ),
        );
        if (state.queue.length === 0) {
          print('nobody waits');
          return;
        }
        print('waiting, in order:');
        print(
          table(
            ['#', 'workflow id', 'kind', 'ref', 'requested by', 'since (UTC)'],
            state.queue.map((q, i) => [
              i + 1,
              oneLineSafe(q.workflowId),
              q.kind,
              oneLineSafe(q.ref),
              oneLineSafe(q.requestedBy),
              q.since.replace('T', ' ').slice(0, 19),
            ]),
          ),
        );
      });
    });
}

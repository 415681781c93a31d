import type { Command } from 'commander';
import type { LedgerRecord } from '../../contracts/environment-entity';
import { readGlobals, withClient } from '../connection';
import { environmentFlag, environmentState } from '../environment-state';
import { oneLineSafe, print, printJson, PROGRAM_NAME, table } from '../output';
import { parseLimit } from '../validation';

export function registerHistory(program: Command): void {
  program
    .command('history')
    .description(
      "An environment's ledger, newest first: each run's commit, plan hash, Toolkit version, approvals, outcome " +
        'and times; what CDF runs now; and the last known good commit (the last run whose smoke tests passed).',
    )
    .requiredOption('--env <name>', 'the environment')
    .option('--limit <n>', 'show at most this many runs (1-1000)', parseLimit, 20)
    .addHelpText('after', `\nExample:\n  $ ${PROGRAM_NAME} history --env prod --json`)
    .action(async (flags: { env?: string; limit: number }, cmd: Command) => {
      const globals = readGlobals(cmd);
      const environment = environmentFlag(flags.env);
      await withClient(globals, async (client) => {
        const state = await environmentState(client, environment, globals.taskQueue);
        const records = [...state.ledger].reverse().slice(0, flags.limit);
        if (globals.json) {
          printJson({
            environment,
            deployed: state.deployed ?? null,
            lastKnownGood: state.lastKnownGood ?? null,
            records,
            olderRecordsDropped: state.droppedRecords,
          });
          return;
        }
        const d = state.deployed;
        const g = state.lastKnownGood;
        print(
          oneLineSafe(
            `deployed:          ${d ? `${d.commit} by ${d.workflowId} at ${d.at}` : '(nothing recorded)'}`,
          ),
        );
        print(
          oneLineSafe(`last known good:   ${g ? `${g.commit} by ${g.workflowId} at ${g.at}` : '(none yet)'}`),
        );
        if (records.length === 0) {
          print('no runs recorded');
          return;
        }
        print('');
        print(
          table(
            ['ended (UTC)', 'workflow id', 'kind', 'commit', 'toolkit', 'approved by', 'outcome', 'notes'],
            records.map((r) => [
              r.endedAt.replace('T', ' ').slice(0, 19),
              oneLineSafe(r.workflowId),
              r.kind,
              (r.commit ?? '').slice(0, 12),
              r.toolkitVersion ?? '',
              oneLineSafe(r.approvals.join(', ')),
              r.outcome,
              oneLineSafe(notesOf(r)),
            ]),
          ),
        );
      });
    });
}

/** What else a run's line says: where it came from, gates it passed by override, a linked automatic rollback. */
function notesOf(r: LedgerRecord): string {
  return [
    r.from ? `from ${r.from}` : '',
    ...(r.overrides ?? []).map((o) => `override ${o.gate}`),
    r.rollback ? `rolled back by ${r.rollback.workflowId}` : '',
    r.triggeredBy ? `after ${r.triggeredBy.workflowId}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}

import type { Command } from 'commander';
import { PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE } from '../../contracts/messages';
import {
  commitSearchAttribute,
  environmentSearchAttribute,
  outcomeSearchAttribute,
  phaseSearchAttribute,
} from '../../contracts/search-attributes';
import { OUTCOMES } from '../../contracts/types';
import { UsageError } from '../errors';
import { readGlobals, withClient } from '../connection';
import { environmentFlag } from '../environment-state';
import { oneLineSafe, print, printJson, PROGRAM_NAME, table } from '../output';
import { parseLimit } from '../validation';

interface ListFlags {
  env?: string;
  outcome?: string;
  commit?: string;
  limit: number;
}

/** Values interpolated into the visibility query are checked against closed patterns first. */
function outcomeFlag(value: string): string {
  if (!(OUTCOMES as readonly string[]).includes(value))
    throw new UsageError(`invalid --outcome: "${value}"; one of ${OUTCOMES.join(', ')}`);
  return value;
}
function commitFlag(value: string): string {
  if (!/^[0-9a-f]{7,40}$/.test(value))
    throw new UsageError('invalid --commit: must be 7 to 40 hex characters');
  return value;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('List recent promotion and rollback runs, newest first.')
    .option('--env <name>', 'only runs for this environment (CdfEnvironment search attribute)')
    .option('--outcome <outcome>', `only runs that ended so (PromotionOutcome): ${OUTCOMES.join(', ')}`)
    .option('--commit <sha>', 'only runs of this commit (CdfCommit; a prefix of 7 or more hex characters)')
    .option('--limit <n>', 'maximum number of runs to show (1-1000)', parseLimit, 20)
    .addHelpText(
      'after',
      `\nExamples:\n  $ ${PROGRAM_NAME} list --env prod --limit 5\n  $ ${PROGRAM_NAME} list --env prod --outcome smoke_failed`,
    )
    .action(async (flags: ListFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      const types = [PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE].map((t) => `'${t}'`).join(',');
      let query = `WorkflowType IN (${types})`;
      if (flags.env !== undefined) {
        // The environment schema only admits [a-z0-9_-], so interpolating it into the query is safe.
        const environment = environmentFlag(flags.env);
        query += ` AND ${environmentSearchAttribute.name} = '${environment}'`;
      }
      if (flags.outcome !== undefined)
        query += ` AND ${outcomeSearchAttribute.name} = '${outcomeFlag(flags.outcome)}'`;
      if (flags.commit !== undefined) {
        const commit = commitFlag(flags.commit);
        query +=
          commit.length === 40
            ? ` AND ${commitSearchAttribute.name} = '${commit}'`
            : ` AND ${commitSearchAttribute.name} STARTS_WITH '${commit}'`;
      }
      await withClient(globals, async (client) => {
        const rows = [];
        for await (const wf of client.workflow.list({ query, pageSize: Math.min(flags.limit, 100) })) {
          rows.push({
            workflowId: wf.workflowId,
            runId: wf.runId,
            type: wf.type,
            status: wf.status.name,
            startTime: wf.startTime.toISOString(),
            closeTime: wf.closeTime?.toISOString(),
            environment: wf.typedSearchAttributes.get(environmentSearchAttribute),
            phase: wf.typedSearchAttributes.get(phaseSearchAttribute),
            commit: wf.typedSearchAttributes.get(commitSearchAttribute),
            // Runs recorded before the outcome was a search attribute have none.
            outcome: wf.typedSearchAttributes.get(outcomeSearchAttribute),
          });
          if (rows.length >= flags.limit) break;
        }
        if (globals.json) {
          printJson(rows);
          return;
        }
        if (rows.length === 0) {
          print(`no runs match: ${query}`);
          return;
        }
        print(
          table(
            ['workflow id', 'environment', 'commit', 'status', 'phase', 'outcome', 'started (UTC)'],
            rows.map((r) => [
              oneLineSafe(r.workflowId),
              r.environment ?? '',
              (r.commit ?? '').slice(0, 12),
              r.status,
              r.phase ?? '',
              r.outcome ?? (r.status === 'RUNNING' ? '' : '?'),
              r.startTime.replace('T', ' ').slice(0, 19),
            ]),
          ),
        );
      });
    });
}

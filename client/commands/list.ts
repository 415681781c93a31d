import type { Command } from 'commander';
import { PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE } from '../../contracts/messages';
import { environmentSearchAttribute, phaseSearchAttribute } from '../../contracts/search-attributes';
import { readGlobals, withClient } from '../connection';
import { environmentFlag } from '../environment-state';
import { print, printJson, PROGRAM_NAME, table } from '../output';
import { parseLimit } from '../validation';

interface ListFlags {
  env?: string;
  limit: number;
}

export function registerList(program: Command): void {
  program
    .command('list')
    .description('List recent promotion and rollback runs, newest first.')
    .option('--env <name>', 'only runs for this environment (CdfEnvironment search attribute)')
    .option('--limit <n>', 'maximum number of runs to show (1-1000)', parseLimit, 20)
    .addHelpText('after', `\nExample:\n  $ ${PROGRAM_NAME} list --env prod --limit 5`)
    .action(async (flags: ListFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      const types = [PROMOTION_WORKFLOW_TYPE, ROLLBACK_WORKFLOW_TYPE].map((t) => `'${t}'`).join(',');
      let query = `WorkflowType IN (${types})`;
      if (flags.env !== undefined) {
        // The environment schema only admits [a-z0-9_-], so interpolating it into the query is safe.
        const environment = environmentFlag(flags.env);
        query += ` AND ${environmentSearchAttribute.name} = '${environment}'`;
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
            ['workflow id', 'type', 'status', 'phase', 'started (UTC)'],
            rows.map((r) => [
              r.workflowId,
              r.type,
              r.status,
              r.phase ?? '',
              r.startTime.replace('T', ' ').slice(0, 19),
            ]),
          ),
        );
      });
    });
}

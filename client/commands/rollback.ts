import type { Command } from 'commander';
import { ROLLBACK_WORKFLOW_TYPE } from '../../contracts/messages';
import { LAST_KNOWN_GOOD_REF, rollbackInputSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { launch, staticMetadata } from '../launch';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP, signRequest } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';
import { rollbackWorkflowId } from '../workflow-ids';

interface RollbackFlags {
  signWith?: string;
  env?: string;
  commit?: string;
  requestedBy?: string;
  reason?: string;
  workflowId?: string;
  wait?: boolean;
}

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description(
      'Re-apply the configuration of an earlier commit to one environment; without --commit, its last known ' +
        'good commit (the last run whose smoke tests passed there).',
    )
    .requiredOption('--env <name>', 'target environment, as configured for the worker (e.g. prod)')
    .option(
      '--commit <sha>',
      'commit sha (7 to 40 hex characters) to roll back to: one this service deployed to the environment before (see `history --env`), or on rollback.allowBranch (default: the last known good)',
    )
    .requiredOption('--requested-by <who>', 'who asks for the rollback')
    .option('--reason <text>', 'why, shown to approvers and kept in history')
    .option('--workflow-id <id>', 'explicit workflow id (default: rollback-<env>-<sha>-<UTC timestamp>)')
    .option('--wait', 'wait for the run to finish; exit 0 only for outcome succeeded or no_changes, else 5')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExamples:\n  $ ${PROGRAM_NAME} rollback --env prod --commit 3f2a9c1d7b4e --requested-by alice --reason "bad view"` +
        `\n  $ ${PROGRAM_NAME} rollback --env prod --requested-by alice --reason "back to the last known good"`,
    )
    .action(async (flags: RollbackFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      const input = parseFlags(
        rollbackInputSchema,
        {
          environment: flags.env,
          commit: flags.commit,
          requestedBy: flags.requestedBy,
          reason: flags.reason,
        },
        { environment: '--env', commit: '--commit', requestedBy: '--requested-by', reason: '--reason' },
      );
      const workflowId =
        flags.workflowId !== undefined
          ? checkWorkflowId(flags.workflowId, '--workflow-id')
          : rollbackWorkflowId(input.environment, input.commit ?? LAST_KNOWN_GOOD_REF);
      // Signed before anything is sent: a key that cannot sign must not leave a half-started run.
      const signed = flags.signWith
        ? await signRequest(
            {
              action: 'rollback',
              environment: input.environment,
              workflowId,
              ref: input.commit ?? LAST_KNOWN_GOOD_REF,
              person: input.requestedBy,
            },
            flags.signWith,
          )
        : {};
      await withClient(globals, (client) =>
        launch(client, globals, {
          workflowType: ROLLBACK_WORKFLOW_TYPE,
          workflowId,
          input: { ...input, ...signed },
          wait: !!flags.wait,
          ...staticMetadata({
            kind: 'rollback',
            environment: input.environment,
            ref: input.commit ?? LAST_KNOWN_GOOD_REF,
            requestedBy: input.requestedBy,
            reason: input.reason,
          }),
        }),
      );
    });
}

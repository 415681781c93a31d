import type { Command } from 'commander';
import { PROMOTION_WORKFLOW_TYPE } from '../../contracts/messages';
import { promotionInputSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { launch } from '../launch';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP, signRequest } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';
import { promotionWorkflowId } from '../workflow-ids';

interface StartFlags {
  signWith?: string;
  env?: string;
  ref?: string;
  requestedBy?: string;
  reason?: string;
  workflowId?: string;
  wait?: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('Start a promotion of a git ref (branch, tag or sha) to one environment.')
    .requiredOption('--env <name>', 'target environment, as configured for the worker (e.g. prod)')
    .requiredOption('--ref <branch|tag|sha>', 'git ref of the configuration repository to promote')
    .requiredOption('--requested-by <who>', 'who asks for the promotion (recorded, may not approve it)')
    .option('--reason <text>', 'why, shown to approvers and kept in history')
    .option('--workflow-id <id>', 'explicit workflow id (default: promotion-<env>-<ref>-<UTC timestamp>)')
    .option('--wait', 'wait for the run to finish; exit 0 only for outcome succeeded or no_changes, else 5')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} start --env prod --ref v1.4.0 --requested-by alice --reason "release 1.4"`,
    )
    .action(async (flags: StartFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      const input = parseFlags(
        promotionInputSchema,
        { environment: flags.env, ref: flags.ref, requestedBy: flags.requestedBy, reason: flags.reason },
        { environment: '--env', ref: '--ref', requestedBy: '--requested-by', reason: '--reason' },
      );
      const workflowId =
        flags.workflowId !== undefined
          ? checkWorkflowId(flags.workflowId, '--workflow-id')
          : promotionWorkflowId(input.environment, input.ref);
      // Signed before anything is sent: a key that cannot sign must not leave a half-started run.
      const signed = flags.signWith
        ? await signRequest(
            {
              action: 'promote',
              environment: input.environment,
              workflowId,
              ref: input.ref,
              person: input.requestedBy,
            },
            flags.signWith,
          )
        : {};
      await withClient(globals, (client) =>
        launch(client, globals, {
          workflowType: PROMOTION_WORKFLOW_TYPE,
          workflowId,
          input: { ...input, ...signed },
          wait: !!flags.wait,
        }),
      );
    });
}

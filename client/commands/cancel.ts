import type { Command } from 'commander';
import { cancelUpdate } from '../../contracts/messages';
import { cancelPayloadSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { decide, decisionUpdateId } from '../decision';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';

interface CancelFlags {
  signWith?: string;
  by?: string;
  reason?: string;
}

/**
 * Cancels a run through the cancel update, so the workflow checks who asks (its requester or an approver) and
 * records it. Unlike `temporal workflow cancel`, which anyone with access to the namespace can send.
 */
export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description(
      'Cancel a run in any phase before its outcome (its requester or an approver). During an apply the run ' +
        'waits for the Toolkit to stop, then alerts: CDF may be half-deployed. Exit 4 with the reason if refused.',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .requiredOption('--by <who>', 'your name: the requester or an environment approver')
    .option('--reason <text>', 'why, recorded in the run and its alert')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} cancel promotion-prod-v1-4-0-20250101T120000 --by alice --reason "wrong tag"`,
    )
    .action(async (workflowId: string, flags: CancelFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      const payload = parseFlags(
        cancelPayloadSchema,
        { by: flags.by, reason: flags.reason },
        { by: '--by', reason: '--reason' },
      );
      await withClient(globals, (client) =>
        decide(client, globals, {
          workflowId,
          kind: 'cancel',
          by: payload.by,
          update: cancelUpdate,
          payload,
          signWith: flags.signWith,
          updateId: decisionUpdateId('cancel', payload.by),
          reason: payload.reason,
        }),
      );
    });
}

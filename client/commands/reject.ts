import type { Command } from 'commander';
import { rejectUpdate } from '../../contracts/messages';
import { rejectSignalPayloadSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { decide, decisionUpdateId } from '../decision';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';

interface RejectFlags {
  signWith?: string;
  approver?: string;
  reason?: string;
}

export function registerReject(program: Command): void {
  program
    .command('reject')
    .description(
      'Reject a run that is awaiting approval (approvers, or the requester to withdraw). A Workflow Update: ' +
        'exit 4 with the reason if the workflow refused it.',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .requiredOption('--approver <who>', 'your name: an environment approver or the requester')
    .option('--reason <text>', 'why, recorded and sent with the outcome')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} reject promotion-prod-v1-4-0-20250101T120000 --approver carol --reason "change freeze"`,
    )
    .action(async (workflowId: string, flags: RejectFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      const payload = parseFlags(
        rejectSignalPayloadSchema,
        { approver: flags.approver, reason: flags.reason },
        { approver: '--approver', reason: '--reason' },
      );
      await withClient(globals, (client) =>
        decide(client, globals, {
          workflowId,
          kind: 'reject',
          by: payload.approver,
          update: rejectUpdate,
          payload,
          signWith: flags.signWith,
          updateId: decisionUpdateId('reject', payload.approver),
          reason: payload.reason,
        }),
      );
    });
}

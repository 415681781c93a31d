import type { Command } from 'commander';
import { rejectSignal } from '../../contracts/messages';
import { rejectSignalPayloadSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { decide } from '../decision';
import { PROGRAM_NAME } from '../output';
import { checkWorkflowId, parseFlags } from '../validation';

interface RejectFlags {
  approver?: string;
  reason?: string;
}

export function registerReject(program: Command): void {
  program
    .command('reject')
    .description(
      'Reject a run that is awaiting approval (approvers, or the requester to withdraw), then confirm the ' +
        'workflow accepted it (exit 4 if it refused).',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .requiredOption('--approver <who>', 'your name: an environment approver or the requester')
    .option('--reason <text>', 'why, recorded and sent with the outcome')
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
          approver: payload.approver,
          kind: 'reject',
          send: (handle) => handle.signal(rejectSignal, payload),
        }),
      );
    });
}

import type { Command } from 'commander';
import { approveUpdate } from '../../contracts/messages';
import { approveSignalPayloadSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { decide, decisionUpdateId } from '../decision';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';

interface ApproveFlags {
  signWith?: string;
  approver?: string;
  planHash?: string;
  comment?: string;
}

export function registerApprove(program: Command): void {
  program
    .command('approve')
    .description(
      'Approve a run that is awaiting approval (a Workflow Update: the workflow answers at once; exit 4 with ' +
        'the reason if it refused: not an approver, the requester, a stale plan hash, already approved, ...).',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .requiredOption('--approver <who>', 'your name, as listed among the environment approvers')
    .option('--plan-hash <sha256>', 'plan hash you reviewed (from status); refused if the plan changed since')
    .option('--comment <text>', 'comment kept with the approval')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} approve promotion-prod-v1-4-0-20250101T120000 --approver bob \\\n` +
        `      --plan-hash <64 hex chars from status> --comment "reviewed"`,
    )
    .action(async (workflowId: string, flags: ApproveFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      const payload = parseFlags(
        approveSignalPayloadSchema,
        { approver: flags.approver, planHash: flags.planHash, comment: flags.comment },
        { approver: '--approver', planHash: '--plan-hash', comment: '--comment' },
      );
      await withClient(globals, (client) =>
        decide(client, globals, {
          workflowId,
          kind: 'approve',
          by: payload.approver,
          update: approveUpdate,
          payload,
          signWith: flags.signWith,
          updateId: decisionUpdateId('approve', payload.approver, payload.planHash),
        }),
      );
    });
}

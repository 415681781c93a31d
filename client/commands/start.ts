import type { Command } from 'commander';
import { PROMOTION_WORKFLOW_TYPE } from '../../contracts/messages';
import { fromRef, promotionInputSchema } from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { launch, staticMetadata } from '../launch';
import { PROGRAM_NAME } from '../output';
import { SIGN_WITH_HELP, signRequest } from '../signing';
import { checkWorkflowId, parseFlags } from '../validation';
import { promotionWorkflowId } from '../workflow-ids';

interface StartFlags {
  signWith?: string;
  env?: string;
  ref?: string;
  from?: string;
  overrideReason?: string;
  requestedBy?: string;
  reason?: string;
  workflowId?: string;
  wait?: boolean;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description(
      'Start a promotion to one environment: of a git ref (branch, tag or sha), or --from the environment upstream (its last known good commit).',
    )
    .requiredOption('--env <name>', 'target environment, as configured for the worker (e.g. prod)')
    .option('--ref <branch|tag|sha>', 'git ref of the configuration repository to promote')
    .option(
      '--from <env>',
      'promote what this environment last deployed with passing smoke tests (instead of --ref)',
    )
    .option(
      '--override-reason <text>',
      'pass the lineage gate or a quarantine with this reason (recorded, shown to approvers)',
    )
    .requiredOption('--requested-by <who>', 'who asks for the promotion (recorded, may not approve it)')
    .option('--reason <text>', 'why, shown to approvers and kept in history')
    .option('--workflow-id <id>', 'explicit workflow id (default: promotion-<env>-<ref>-<UTC timestamp>)')
    .option('--wait', 'wait for the run to finish; exit 0 only for outcome succeeded or no_changes, else 5')
    .option('--sign-with <key>', SIGN_WITH_HELP)
    .addHelpText(
      'after',
      `\nExamples:\n  $ ${PROGRAM_NAME} start --env prod --ref v1.4.0 --requested-by alice --reason "release 1.4"\n  $ ${PROGRAM_NAME} start --env prod --from dev --requested-by alice --reason "what dev runs"`,
    )
    .action(async (flags: StartFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      const input = parseFlags(
        promotionInputSchema,
        {
          environment: flags.env,
          ref: flags.ref,
          from: flags.from,
          requestedBy: flags.requestedBy,
          reason: flags.reason,
          ...(flags.overrideReason !== undefined ? { override: { reason: flags.overrideReason } } : {}),
        },
        {
          environment: '--env',
          ref: '--ref',
          from: '--from',
          requestedBy: '--requested-by',
          reason: '--reason',
          'override.reason': '--override-reason',
        },
      );
      // The ref the run shows (and a signed request names): the git ref, or "from:<env>".
      const ref = input.ref ?? fromRef(input.from!);
      const workflowId =
        flags.workflowId !== undefined
          ? checkWorkflowId(flags.workflowId, '--workflow-id')
          : promotionWorkflowId(input.environment, ref);
      // Signed before anything is sent: a key that cannot sign must not leave a half-started run.
      const signed = flags.signWith
        ? await signRequest(
            {
              action: 'promote',
              environment: input.environment,
              workflowId,
              ref,
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
          ...staticMetadata({
            kind: 'promotion',
            environment: input.environment,
            ref,
            requestedBy: input.requestedBy,
            reason: input.reason,
            override: input.override?.reason,
          }),
        }),
      );
    });
}

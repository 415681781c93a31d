import type { Command } from 'commander';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { loadConfig, CONFIG_ENV_VAR, DEFAULT_CONFIG_PATH } from '../../config/load-config';
import { readGlobals, withClient } from '../connection';
import { CliError } from '../errors';
import { PROGRAM_NAME, terminalSafe } from '../output';
import { snapshot } from '../run-state';
import { checkWorkflowId } from '../validation';

interface PlanFlags {
  config?: string;
}

/**
 * Prints the full plan a run is waiting on: the Toolkit's dry-run output (with per-resource diffs) and, for
 * rollbacks, the leftovers. History holds only the plan's sha256; the text is read from the artifact store the
 * configuration names (the workers' shared folder or S3 bucket, never a worker's run folder) and checked against
 * that hash, so what is printed is exactly what an approval of that hash approves.
 */
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description(
      "Print a run's full plan text (read from the configured artifact store and verified against the plan hash).",
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .option(
      '--config <file>',
      `worker configuration file (default: $${CONFIG_ENV_VAR} or ${DEFAULT_CONFIG_PATH})`,
    )
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} plan promotion-prod-main-20261126T101500 --config config/local.yaml`,
    )
    .action(async (workflowId: string, flags: PlanFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      const config = loadConfig(flags.config ?? process.env[CONFIG_ENV_VAR] ?? DEFAULT_CONFIG_PATH);
      const snap = await withClient(globals, (client) => snapshot(client, workflowId));
      const planHash = snap.status?.planHash ?? snap.result?.planHash;
      if (!planHash)
        throw new CliError(
          `run ${workflowId} has no plan yet (phase: ${snap.status?.phase ?? snap.execution})`,
        );
      const store = openArtifactStore(config.artifacts);
      let text: string;
      try {
        text = await store.getPlan(planHash);
      } catch (err) {
        // The store's messages name the plan and where it looked (a file, an s3:// URL), never credentials.
        throw new CliError(`cannot show the plan of ${workflowId}: ${(err as Error).message}`);
      }
      if (globals.json) {
        process.stdout.write(`${JSON.stringify({ workflowId, planHash, text })}\n`);
      } else {
        // Verified against its hash above; what a terminal would interpret is removed only for display.
        const shown = terminalSafe(text);
        process.stdout.write(
          `# plan ${planHash} of ${workflowId}\n${shown}${shown.endsWith('\n') ? '' : '\n'}`,
        );
      }
    });
}

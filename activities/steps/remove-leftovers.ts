import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { RemoveLeftoversRequest } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { LeftoverReport } from '../../contracts/types';
import { activityLogger } from '../activity-context';
import { ledgerEntry, resourcesOfBuild, type DeploymentLedger } from '../ledger/deployment-ledger';
import { readBuildReport } from '../toolkit/build-report';
import { lastLine } from '../toolkit/output-lines';
import type { ToolkitSteps } from '../toolkit/toolkit-steps';
import type { RunWorkspace } from '../workspace/run-workspace';

/** Rollbacks whose environment removes leftovers: `cdf clean` on the pruned build made while diffing. */
export function createRemoveLeftovers(deps: {
  config: WorkerConfig;
  steps: ToolkitSteps;
  workspace: RunWorkspace;
  ledger: Pick<DeploymentLedger, 'append'>;
  logger: Logger;
}) {
  return async function removeLeftovers(req: RemoveLeftoversRequest): Promise<LeftoverReport> {
    const log = activityLogger(deps.logger);
    requireEnvironment(deps.config, req.environment);
    const folders = deps.workspace.folders(req.run);
    if (!existsSync(folders.leftovers.build)) {
      throw new PromotionError(
        ErrorType.PlanMismatch,
        'the pruned build of the leftovers is gone; run the rollback again',
      );
    }
    // The pruned build was made with the Toolkit the deployed commit pins; clean with the same one.
    const toolkit = await deps.steps.resolve(folders.leftovers.checkout);
    const out = await deps.steps.run(
      'clean',
      { environment: req.environment, worktreeDir: folders.leftovers.checkout, logDir: folders.toolkitLogs },
      toolkit,
      folders.leftovers.build,
    );
    log.info({ removed: req.leftovers.resources.length }, 'rollback leftovers removed');
    await deps.ledger.append(
      ledgerEntry({
        run: req.run,
        environment: req.environment,
        commit: req.commit,
        kind: 'leftover-removal',
        toolkitVersion: toolkit.version,
        resources: await readBuildReport(folders.build)
          .then(resourcesOfBuild)
          .catch(() => null),
      }),
    );
    return { ...req.leftovers, result: 'removed', detail: lastLine(out.output) };
  };
}

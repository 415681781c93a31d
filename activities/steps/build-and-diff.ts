import path from 'node:path';
import type { Logger } from 'pino';
import { buildReportName, type ArtifactStore } from '../../artifacts/artifact-store';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { DiffRequest, DiffResult } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger } from '../activity-context';
import type { createLeftoverFinder } from '../leftovers/leftovers';
import { composePlanText, notAbleToDeploy, summarizePlan } from '../plan/plan-document';
import { keepAlive, type ToolkitSteps } from '../toolkit/toolkit-steps';
import type { RunWorkspace } from '../workspace/run-workspace';

export interface BuildAndDiffDeps {
  config: WorkerConfig;
  steps: ToolkitSteps;
  workspace: RunWorkspace;
  artifacts: Pick<ArtifactStore, 'putPlan' | 'putNamed'>;
  findLeftovers: ReturnType<typeof createLeftoverFinder>;
  logger: Logger;
}

/**
 * The playbook's "diff against the target": build the pinned commit, dry-run it against the environment, and
 * store the plan document (content-addressed) that the approver reads, and the build report, in the artifact
 * store; history gets only the plan's hash and summary.
 */
export function createBuildAndDiff(deps: BuildAndDiffDeps) {
  return (req: DiffRequest): Promise<DiffResult> => keepAlive(() => buildAndDiff(req));

  async function buildAndDiff(req: DiffRequest): Promise<DiffResult> {
    const log = activityLogger(deps.logger);
    requireEnvironment(deps.config, req.environment);
    const folders = deps.workspace.folders(req.run);
    const target = deps.workspace.commitTarget(req.run, req.environment, req.commit);
    const { text, parsed, report, toolkit } = await deps.steps.dryRun(target, folders.build);
    const refusal = notAbleToDeploy(parsed);
    if (refusal) throw new PromotionError(ErrorType.NotAbleToDeploy, refusal);
    const leftovers = req.kind === 'rollback' && report ? await deps.findLeftovers(req, report) : undefined;
    const stored = await deps.artifacts.putPlan(
      composePlanText(text, req.commit, leftovers, toolkit.version),
    );
    const hash = stored.hash;
    if (report) {
      // What the build made of the commit, kept beside the plan: the run's folder is a cache of one worker.
      const kept = {
        commit: req.commit,
        environment: req.environment,
        toolkitVersion: toolkit.version,
        planHash: hash,
      };
      await deps.artifacts.putNamed(
        buildReportName(req.run),
        `${JSON.stringify({ ...kept, report }, null, 2)}\n`,
      );
    }
    await deps.workspace.recordBuiltPlan(req.run, { planHash: hash, toolkitVersion: toolkit.version });
    log.info(
      { planHash: hash, totals: parsed.totals, empty: parsed.empty, toolkitVersion: toolkit.version },
      'plan ready',
    );
    return {
      planHash: hash,
      toolkitVersion: toolkit.version,
      planSummary: summarizePlan(parsed, leftovers?.report),
      // A filesystem store's file relative to the data dir (as it always was), or an s3:// URL.
      planArtifact: path.isAbsolute(stored.uri) ? path.relative(deps.config.dataDir, stored.uri) : stored.uri,
    };
  }
}

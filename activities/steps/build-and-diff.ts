import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { buildReportName, type ArtifactStore, type StoredArtifact } from '../../artifacts/artifact-store';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { DiffRequest, DiffResult } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger } from '../activity-context';
import type { createLeftoverFinder } from '../leftovers/leftovers';
import {
  leftoverSection,
  notAbleToDeploy,
  type LeftoverSection,
  planPreamble,
  summarizePlan,
} from '../plan/plan-document';
import { writePlanFile } from '../plan/plan-file';
import { keepAliveWithLastDetails, type ToolkitSteps } from '../toolkit/toolkit-steps';
import type { RunWorkspace } from '../workspace/run-workspace';

export interface BuildAndDiffDeps {
  config: WorkerConfig;
  steps: ToolkitSteps;
  workspace: RunWorkspace;
  artifacts: Pick<ArtifactStore, 'putPlanFile' | 'putNamed'>;
  findLeftovers: ReturnType<typeof createLeftoverFinder>;
  logger: Logger;
}

/**
 * The playbook's "diff against the target": build the pinned commit, dry-run it against the environment, and
 * store the plan document (content-addressed) that the approver reads, and the build report, in the artifact
 * store; history gets only the plan's hash and summary.
 */
export function createBuildAndDiff(deps: BuildAndDiffDeps) {
  return (req: DiffRequest): Promise<DiffResult> => keepAliveWithLastDetails(() => buildAndDiff(req));

  async function buildAndDiff(req: DiffRequest): Promise<DiffResult> {
    const log = activityLogger(deps.logger);
    requireEnvironment(deps.config, req.environment);
    const folders = deps.workspace.folders(req.run);
    const target = deps.workspace.commitTarget(req.run, req.environment, req.commit);
    // The dry-run's output goes to files and is parsed on the way; the plan document is streamed from them into
    // the store, so a plan of any size is never held in memory (docs/operations.md, "Large plans").
    const { output, parsed, report, toolkit } = await deps.steps.dryRun(
      target,
      folders.build,
      folders.planOutput,
    );
    const storePlan = async (leftovers: LeftoverSection | undefined): Promise<StoredArtifact> => {
      if (!output) throw new Error('the dry-run kept no output to make the plan document of');
      const file = path.join(folders.planOutput, 'plan.txt');
      const plan = await writePlanFile(file, {
        preamble: planPreamble(toolkit.version),
        output,
        after: leftoverSection(req.commit, leftovers),
      });
      return deps.artifacts.putPlanFile(file, plan.hash);
    };
    let leftovers: LeftoverSection | undefined;
    let stored: StoredArtifact;
    try {
      const refusal = notAbleToDeploy(parsed);
      if (refusal) throw new PromotionError(ErrorType.NotAbleToDeploy, refusal);
      leftovers = req.kind === 'rollback' && report ? await deps.findLeftovers(req, report) : undefined;
      stored = await storePlan(leftovers);
    } finally {
      await rm(folders.planOutput, { recursive: true, force: true });
    }
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

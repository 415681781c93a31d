/**
 * Rollback leftovers: resources the currently deployed commit (per the ledger) defines and the rollback target
 * lacks. `cdf deploy` never deletes them, so the plan lists them and the environment decides whether a
 * `cdf clean` removes them. Detection builds the deployed commit, prunes that build to just those resources, and
 * asks `cdf clean --dry-run` which of them CDF has.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { RunIds } from '../../config/data-layout';
import type { LeftoverResource } from '../../contracts/types';
import { activityLogger } from '../activity-context';
import { resourceKey, type DeploymentLedger, type LedgerEntry } from '../ledger/deployment-ledger';
import type { LeftoverSection } from '../plan/plan-document';
import type { BuildReport } from '../toolkit/build-report';
import { parseCleanDryRunOutput } from '../toolkit/dry-run-parser';
import type { ToolkitSteps } from '../toolkit/toolkit-steps';
import type { RunWorkspace } from '../workspace/run-workspace';

export interface LeftoverRequest {
  run: RunIds;
  environment: string;
  /** The rollback target. */
  commit: string;
  removeLeftovers?: boolean;
}

export interface LeftoverFinderDeps {
  ledger: Pick<DeploymentLedger, 'last'>;
  steps: ToolkitSteps;
  workspace: RunWorkspace;
  logger: Logger;
}

/** Resources of the deployed entry that the target build does not define. Pure. */
export function leftoversOf(deployed: LedgerEntry, target: BuildReport): LeftoverResource[] {
  const targetKeys = new Set(target.resources.map((r) => resourceKey(r.kind, r.identifier)));
  return (deployed.resources ?? []).filter((r) => !targetKeys.has(`${r.kind}:${r.id}`));
}

export function createLeftoverFinder(deps: LeftoverFinderDeps) {
  return async function findLeftovers(
    req: LeftoverRequest,
    targetBuild: BuildReport,
  ): Promise<LeftoverSection | undefined> {
    const last = await deps.ledger.last(req.environment);
    if (!last?.resources || last.commit === req.commit) return undefined;
    const leftovers = leftoversOf(last, targetBuild);
    if (leftovers.length === 0) return undefined;
    const action = req.removeLeftovers ? 'remove' : 'keep';
    if (!deps.steps.has('clean')) {
      return {
        report: { fromCommit: last.commit, resources: leftovers, existing: null, action },
        cleanPreview: '',
      };
    }
    const run = deps.workspace.folders(req.run);
    const folders = run.leftovers;
    // The deployed commit is built with the Toolkit version it pins, which may differ from the target's.
    const target = {
      environment: req.environment,
      commit: last.commit,
      worktreeDir: folders.checkout,
      logDir: run.toolkitLogs,
    };
    const { report: fromReport, toolkit } = await deps.steps.build(target, folders.build);
    if (!fromReport) return undefined;
    const keep = new Set(leftovers.map((r) => `${r.kind}:${r.id}`));
    const keepFiles = new Set<string>();
    for (const r of fromReport.resources) {
      if (!keep.has(resourceKey(r.kind, r.identifier))) continue;
      // 0.8.271 records builtFile relative to the build dir; older versions wrote absolute paths.
      const built = path.resolve(folders.build, r.builtFile);
      keepFiles.add(built);
      // Transformations carry their SQL in a sibling file with the same stem.
      keepFiles.add(built.replace(/\.[A-Za-z]+\.yaml$/, '.sql'));
    }
    await pruneBuild(folders.build, keepFiles);
    const preview = await deps.steps.run('clean', target, toolkit, folders.build, ['--dry-run']);
    const parsed = parseCleanDryRunOutput(preview.stdout);
    activityLogger(deps.logger).info(
      { fromCommit: last.commit, leftovers: leftovers.length, existing: parsed.totalDelete, action },
      'rollback leftovers found',
    );
    return {
      report: { fromCommit: last.commit, resources: leftovers, existing: parsed.totalDelete, action },
      cleanPreview: preview.output,
    };
  };
}

/** Deletes every file under the build's resource folders except the ones to keep (lineage and insights stay). */
export async function pruneBuild(buildDir: string, keep: Set<string>): Promise<void> {
  for (const entry of await readdir(buildDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const folder = path.join(buildDir, entry.name);
    for (const file of await readdir(folder, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const full = path.resolve(file.parentPath ?? folder, file.name);
      if (!keep.has(full)) await rm(full, { force: true });
    }
  }
}

import { Context } from '@temporalio/activity';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ArtifactStore } from '../../artifacts/artifact-store';
import { requireEnvironment } from '../../config/environment-policy';
import type { WorkerConfig } from '../../config/schema';
import type { ApplyRequest, ApplyResult } from '../../contracts/activity-types';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger } from '../activity-context';
import { ledgerEntry, resourcesOfBuild, type DeploymentLedger } from '../ledger/deployment-ledger';
import { changesBeyondApproved, planDifferences } from '../plan/plan-document';
import { readBuildReport } from '../toolkit/build-report';
import { DryRunParser, parseDeployOutput, type ParsedDryRun } from '../toolkit/dry-run-parser';
import { deployStarted, keepAliveWithLastDetails, type ToolkitSteps } from '../toolkit/toolkit-steps';
import type { RunWorkspace } from '../workspace/run-workspace';

export interface ApplyPlanDeps {
  config: WorkerConfig;
  steps: ToolkitSteps;
  workspace: RunWorkspace;
  artifacts: Pick<ArtifactStore, 'readPlan'>;
  ledger: Pick<DeploymentLedger, 'append'>;
  logger: Logger;
}

type Counts = Omit<ApplyResult, 'attempts'>;

/** Adds up the deploy summary's rows. */
export function deployCounts(stdout: string): Counts {
  const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
  for (const r of parseDeployOutput(stdout).resources) {
    counts.created += r.created;
    counts.updated += r.updated;
    counts.deleted += r.deleted;
    counts.unchanged += r.unchanged;
  }
  return counts;
}

/**
 * The playbook's apply: deploys exactly the build that was diffed and approved. Right before deploying, a fresh
 * dry-run must match the approved plan (read from the artifact store); if CDF changed meanwhile nothing is
 * applied (PlanMismatch). A retry that has to rebuild (its worker lacks the build) accepts a fresh plan that is
 * what is left of the approved one after a partial deploy, and nothing beyond it.
 */
export function createApplyPlan(deps: ApplyPlanDeps) {
  return (req: ApplyRequest): Promise<ApplyResult> => keepAliveWithLastDetails(() => applyPlan(req));

  async function applyPlan(req: ApplyRequest): Promise<ApplyResult> {
    const log = activityLogger(deps.logger);
    requireEnvironment(deps.config, req.environment);
    const folders = deps.workspace.folders(req.run);
    const target = deps.workspace.commitTarget(req.run, req.environment, req.commit);
    const built = await deps.workspace.builtPlan(req.run);
    await deps.workspace.checkout(req.commit, folders.checkout);
    let toolkit = await deps.steps.resolve(folders.checkout);
    // The approved plan was made with the version the commit pins; the same commit cannot pin another.
    if (req.toolkitVersion !== undefined && req.toolkitVersion !== toolkit.version) {
      throw new PromotionError(
        ErrorType.PlanMismatch,
        `the plan was approved as made with Toolkit ${req.toolkitVersion ?? '(no pin)'}, but this worker resolves ${toolkit.version ?? '(no pin)'}; nothing was applied`,
      );
    }
    // Profiles without a build step (playbook syntax) rebuild inside their own apply command.
    const buildMissing = deps.steps.has('build') && !existsSync(folders.build);
    // A build is deployed only by the Toolkit version that made it (0.9 cannot read a 0.8 build folder).
    // A marker from before versions were recorded says nothing about the version: rebuild to be sure.
    const otherVersion = built !== undefined && built.toolkitVersion !== toolkit.version;
    // What the last attempt recorded, not the attempt number, says whether CDF may be half-deployed: an attempt
    // that died in its pre-deploy check changed nothing, and this one checks again as strictly.
    const resumed = deployStarted();
    let current: ParsedDryRun;
    if (built?.planHash !== req.planHash || buildMissing || otherVersion) {
      // The build that was diffed is gone (new machine, cleaned disk, reset run) or was made by another
      // Toolkit version: rebuild the pinned commit with its own version.
      log.warn(
        { builtWith: built?.toolkitVersion, toolkitVersion: toolkit.version },
        'no build of the approved plan made by the pinned Toolkit; rebuilding from the pinned commit',
      );
      const rebuilt = await deps.steps.dryRun(target, folders.build);
      current = rebuilt.parsed;
      toolkit = rebuilt.toolkit;
    } else {
      // CDF may have changed while the plan waited for approval (hours, days), or a deploy was cut short.
      current = await deps.steps.diffExistingBuild(target, toolkit, folders.build);
    }
    // The approved text comes from the artifact store every worker shares, checked against its hash: this
    // worker may never have seen the plan (another machine made it) or may have lost its run folder. Parsed as it
    // is read (a plan can be 50 MB), its diffs kept as digests like the fresh dry-run's.
    const reading = new DryRunParser({ diffBodies: 'sha256' });
    await deps.artifacts.readPlan(req.planHash, (text) => reading.write(text));
    const approved = reading.end();
    if (!resumed) {
      const changed = planDifferences(approved, current);
      if (changed.length > 0) {
        throw new PromotionError(
          ErrorType.PlanMismatch,
          `the plan changed since it was approved (${changed.join('; ')}); nothing was applied, start a new promotion`,
        );
      }
    } else {
      // An earlier attempt began deploying before it died: what is left may be less than was approved, never
      // more. What the new dry-run shows is recorded before anything is applied again.
      const beyond = changesBeyondApproved(approved, current);
      const left = current.totals;
      log.warn(
        {
          attempt: Context.current().info.attempt,
          left: { create: left.create, update: left.update, delete: left.delete },
          beyondApproved: beyond,
        },
        'an earlier attempt had started cdf deploy: the dry-run shows what is left of the approved plan',
      );
      if (beyond.length > 0) {
        throw new PromotionError(
          ErrorType.PlanMismatch,
          `CDF needs changes the approved plan does not have (${beyond.join('; ')}); nothing more was applied, start a new promotion`,
        );
      }
    }
    await deps.workspace.recordBuiltPlan(req.run, {
      planHash: req.planHash,
      toolkitVersion: toolkit.version,
    });
    const out = await deps.steps.run('apply', target, toolkit, folders.build);
    let counts: Counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    try {
      counts = deployCounts(out.stdout);
    } catch (err) {
      // Exit code 0 is the Toolkit's own verdict; an unreadable summary only costs us the counts.
      log.warn({ err: (err as Error).message }, 'could not parse the deploy summary');
    }
    log.info(counts, 'apply finished');
    const report = deps.steps.has('build')
      ? await readBuildReport(folders.build).catch(() => undefined)
      : undefined;
    await deps.ledger.append(
      ledgerEntry({
        run: req.run,
        environment: req.environment,
        commit: req.commit,
        kind: req.kind ?? 'promotion',
        toolkitVersion: toolkit.version,
        // Leftovers kept in CDF are still deployed: the next rollback must know about them too.
        resources: report ? [...resourcesOfBuild(report), ...(req.leftovers ?? [])] : null,
      }),
    );
    return { ...counts, attempts: Context.current().info.attempt, toolkitVersion: toolkit.version };
  }
}

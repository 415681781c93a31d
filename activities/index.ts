/**
 * Activities, built over injected clients so tests can pass fakes and the worker passes real ones.
 * Every activity converts its errors with toApplicationFailure, so retry decisions are made in one place.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type {
  AlertDelivery,
  AlertRequest,
  ApplyRequest,
  ApplyResult,
  CleanupRequest,
  DiffRequest,
  DiffResult,
  EnvironmentPolicy,
  PrepareCheckoutRequest,
  PreparedCheckout,
  RemoveLeftoversRequest,
  RunRef,
  SmokeRequest,
} from '../contracts/activity-types';
import {
  ErrorType,
  PromotionError,
  UnknownEnvironmentError,
  toApplicationFailure,
} from '../contracts/errors';
import type { LeftoverReport, LeftoverResource, SmokeCheckResult, WorkflowKind } from '../contracts/types';
import type { EnvironmentConfig, WorkerConfig } from '../config/schema';
import { channelName, type AlertSender } from './alerts/alert-channels';
import { type PlanStore } from '../artifacts/plan-store';
import type { CdfClientFactory } from './cdf/cdf-client-factory';
import { removeDotEnvFiles, type ConfigRepository } from './git/config-repository';
import { runSmokeChecks as runChecks } from './smoke/smoke-checks';
import { type DeploymentLedger, resourceKey, toLeftoverResource } from './ledger/deployment-ledger';
import { readBuildReport, type BuildReport } from './toolkit/build-report';
import { parseCleanDryRunOutput, parseDeployOutput, parseDryRunOutput } from './toolkit/dry-run-parser';
import type { ToolkitOutput, ToolkitRunner, ToolkitStep } from './toolkit/toolkit-runner';

export interface ActivityDeps {
  config: WorkerConfig;
  toolkit: ToolkitRunner;
  repository: ConfigRepository;
  cdf: CdfClientFactory;
  alerts: AlertSender;
  plans: PlanStore;
  ledger: DeploymentLedger;
  logger: Logger;
}

const HEARTBEAT_EVERY_MS = 5_000;
const PROGRESS_LOG_EVERY_MS = 15_000;

export function createActivities(deps: ActivityDeps) {
  const { config } = deps;
  // Alerts delivered per run and channel on this worker: a retry after a partial failure does not re-send.
  const delivered = new Map<string, Set<string>>();

  const environment = (name: string): EnvironmentConfig => {
    const env = config.environments[name];
    if (!env) throw new UnknownEnvironmentError(name, Object.keys(config.environments));
    return env;
  };

  /** What a Toolkit step works on: the run, its environment, the pinned commit and the checkout holding it. */
  type StepRequest = Pick<DiffRequest, 'run' | 'environment' | 'commit'> & { worktreeDir: string };

  const runDir = (run: RunRef): string =>
    path.join(
      config.dataDir,
      'runs',
      run.workflowId.replace(/[^A-Za-z0-9._-]/g, '_'),
      run.runId.replace(/[^A-Za-z0-9-]/g, '_'),
    );

  /** A logger bound to the current activity, so every line names the workflow and activity it belongs to. */
  const activityLogger = (): Logger => {
    const info = Context.current().info;
    return deps.logger.child({
      workflowId: info.workflowExecution?.workflowId,
      runId: info.workflowExecution?.runId,
      activityId: info.activityId,
      activityType: info.activityType,
      attempt: info.attempt,
    });
  };

  const wrap =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        // A cancellation the workflow asked for must be reported as one (the workflow waits for it and then
        // alerts). A worker shutdown stays a retryable failure so the next worker picks the attempt up.
        const ctx = Context.current();
        if (ctx.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested) {
          activityLogger().warn(`${name} cancelled by the workflow; the Toolkit process was stopped`);
          throw new CancelledFailure(`${name} cancelled`);
        }
        const failure = toApplicationFailure(err);
        activityLogger().warn(
          { errorType: failure.type, nonRetryable: failure.nonRetryable },
          `${name} failed: ${failure.message}`,
        );
        throw failure;
      }
    };

  /**
   * Runs one Toolkit step with heartbeats carrying the last output lines and periodic progress logs, and kills
   * the child when the activity is cancelled.
   */
  const runToolkitStep = async (
    step: ToolkitStep,
    req: Pick<StepRequest, 'environment' | 'worktreeDir'>,
    buildDir: string,
    extraArgs?: string[],
  ): Promise<ToolkitOutput> => {
    const ctx = Context.current();
    const log = activityLogger();
    const lastLines: string[] = [];
    let lines = 0;
    const beat = (): void => ctx.heartbeat({ step, lines, lastLines: lastLines.slice(-5) });
    const hb = setInterval(beat, HEARTBEAT_EVERY_MS);
    const progress = setInterval(
      () =>
        log.info({ step, lines, lastLine: lastLines[lastLines.length - 1] }, `toolkit ${step} still running`),
      PROGRESS_LOG_EVERY_MS,
    );
    log.info({ step }, `toolkit ${step} started`);
    try {
      const out = await deps.toolkit.run(step, {
        environment: req.environment,
        worktreeDir: req.worktreeDir,
        buildDir,
        extraArgs,
        signal: ctx.cancellationSignal,
        onLine: (line) => {
          lines += 1;
          if (line.trim()) lastLines.push(line.slice(0, 300));
          if (lastLines.length > 20) lastLines.shift();
          log.debug({ step }, line);
        },
      });
      log.info({ step, durationMs: out.durationMs, lines }, `toolkit ${step} finished`);
      return out;
    } finally {
      clearInterval(hb);
      clearInterval(progress);
    }
  };

  const checkoutDir = (run: RunRef): string => path.join(runDir(run), 'checkout');

  /** Makes sure the worktree holds the pinned commit (a new worker may run on another machine). */
  const ensureWorktree = async (commit: string, worktreeDir: string): Promise<void> => {
    await deps.repository.checkout(commit, worktreeDir);
    await removeDotEnvFiles(worktreeDir);
  };

  /** Build (when the profile has a build step) and dry-run; returns the plan text and its parsed summary. */
  const build = async (req: StepRequest, buildDir: string): Promise<BuildReport | undefined> => {
    await ensureWorktree(req.commit, req.worktreeDir);
    if (deps.toolkit.has('build')) {
      await rm(buildDir, { recursive: true, force: true });
      await runToolkitStep('build', req, buildDir);
      const report = await readBuildReport(buildDir).catch((err: Error) => {
        throw new PromotionError(ErrorType.BuildFailed, `build produced no readable report: ${err.message}`);
      });
      if (report.modulesFailed > 0 || report.criticalInsights.length > 0) {
        const insights = report.criticalInsights
          .slice(0, 5)
          .map(
            (i) =>
              `${i.insightType}${i.code ? ` ${i.code}` : ''}: ${i.message.replace(/\[\/?[a-z ]*\]/g, '')}`,
          );
        throw new PromotionError(
          ErrorType.BuildFailed,
          `build failed: ${report.modulesFailed} module(s) failed, ${report.criticalInsights.length} critical insight(s)${insights.length ? `; ${insights.join('; ')}` : ''}`,
        );
      }
      return report;
    }
    return undefined;
  };

  const buildAndDryRun = async (req: StepRequest, buildDir: string) => {
    const report = await build(req, buildDir);
    const diff = await runToolkitStep('diff', req, buildDir);
    const parsed = (() => {
      try {
        return parseDryRunOutput(diff.stdout);
      } catch (err) {
        throw new PromotionError(
          ErrorType.PlanParse,
          `could not understand the dry-run output: ${(err as Error).message}`,
        );
      }
    })();
    return { text: diff.output, parsed, report };
  };

  const resourcesOf = (report: BuildReport): LeftoverResource[] =>
    report.resources.map((r) => toLeftoverResource(r.kind, r.identifier));

  /**
   * For a rollback: what the deployed commit (per the ledger) defines and the target lacks. Builds the deployed
   * commit, prunes the build to just those resources, and asks `cdf clean --dry-run` which of them CDF has.
   */
  const findLeftovers = async (
    req: DiffRequest,
    target: BuildReport,
  ): Promise<{ report: LeftoverReport; cleanPreview: string } | undefined> => {
    const log = activityLogger();
    const last = await deps.ledger.last(req.environment);
    if (!last?.resources || last.commit === req.commit) return undefined;
    const targetKeys = new Set(target.resources.map((r) => resourceKey(r.kind, r.identifier)));
    const leftovers = last.resources.filter((r) => !targetKeys.has(`${r.kind}:${r.id}`));
    if (leftovers.length === 0) return undefined;
    const action = req.removeLeftovers ? 'remove' : 'keep';
    if (!deps.toolkit.has('clean')) {
      return {
        report: { fromCommit: last.commit, resources: leftovers, existing: null, action },
        cleanPreview: '',
      };
    }
    const dir = path.join(runDir(req.run), 'leftovers');
    const checkout = path.join(dir, 'checkout');
    const buildDir = path.join(dir, 'build');
    const fromReport = await build({ ...req, commit: last.commit, worktreeDir: checkout }, buildDir);
    if (!fromReport) return undefined;
    const keep = new Set(leftovers.map((r) => `${r.kind}:${r.id}`));
    const keepFiles = new Set<string>();
    for (const r of fromReport.resources) {
      if (!keep.has(resourceKey(r.kind, r.identifier))) continue;
      // 0.8.271 records builtFile relative to the build dir; older versions wrote absolute paths.
      const built = path.resolve(buildDir, r.builtFile);
      keepFiles.add(built);
      // Transformations carry their SQL in a sibling file with the same stem.
      keepFiles.add(built.replace(/\.[A-Za-z]+\.yaml$/, '.sql'));
    }
    await pruneBuild(buildDir, keepFiles);
    const preview = await runToolkitStep(
      'clean',
      { environment: req.environment, worktreeDir: checkout },
      buildDir,
      ['--dry-run'],
    );
    const parsed = parseCleanDryRunOutput(preview.stdout);
    log.info(
      { fromCommit: last.commit, leftovers: leftovers.length, existing: parsed.totalDelete, action },
      'rollback leftovers found',
    );
    return {
      report: { fromCommit: last.commit, resources: leftovers, existing: parsed.totalDelete, action },
      cleanPreview: preview.output,
    };
  };

  return {
    resolveEnvironment: wrap(
      'resolveEnvironment',
      async (req: { environment: string; kind: WorkflowKind }): Promise<EnvironmentPolicy> => {
        const env = environment(req.environment);
        return {
          environment: req.environment,
          cdfProject: env.cdfProject,
          approvalTimeoutMs: env.approval.timeout,
          approvers: env.approval.approvers,
          requiredApprovals: env.approval.requiredApprovals,
          allowSelfApproval: env.approval.allowSelfApproval,
          approvalRequired: req.kind === 'promotion' || env.approval.rollbackRequiresApproval,
          removeLeftovers: env.rollback.removeLeftovers,
          temporalUiUrl: config.temporal.uiUrl,
          namespace: config.temporal.namespace,
        };
      },
    ),

    prepareCheckout: wrap(
      'prepareCheckout',
      async (req: PrepareCheckoutRequest): Promise<PreparedCheckout> => {
        const log = activityLogger();
        const commit = await deps.repository.resolve(req.ref);
        const worktreeDir = checkoutDir(req.run);
        await deps.repository.checkout(commit, worktreeDir);
        const removed = await removeDotEnvFiles(worktreeDir);
        if (removed.length)
          log.warn({ removed }, 'removed .env files from the checkout: they would override credentials');
        log.info({ ref: req.ref, commit, worktreeDir }, 'checked out pinned commit');
        return { commit };
      },
    ),

    buildAndDiff: wrap('buildAndDiff', async (request: DiffRequest): Promise<DiffResult> => {
      const log = activityLogger();
      environment(request.environment);
      const req = { ...request, worktreeDir: checkoutDir(request.run) };
      const buildDir = path.join(runDir(req.run), 'build');
      const { text, parsed, report } = await buildAndDryRun(req, buildDir);
      if (!parsed.ableToDeploy) {
        const rows = parsed.resources.filter((r) => !r.ableToDeploy).map((r) => r.resource);
        throw new PromotionError(
          ErrorType.NotAbleToDeploy,
          `dry-run says "Able to deploy: No" for ${rows.join(', ') || 'some resources'}: the credentials lack write access`,
        );
      }
      const leftovers = req.kind === 'rollback' && report ? await findLeftovers(req, report) : undefined;
      // The approver reads one artifact: the dry-run, then what the rollback leaves behind or removes.
      const planText = leftovers
        ? `${text}\n\n=== Rollback leftovers: in CDF from ${leftovers.report.fromCommit}, not in ${req.commit} ===\n` +
          `${leftovers.report.resources.map((r) => `  ${r.kind} ${r.id}`).join('\n')}\n` +
          `Action: ${leftovers.report.action === 'remove' ? 'remove with cdf clean after the apply' : 'keep (environment setting rollback.removeLeftovers is false)'}\n\n` +
          leftovers.cleanPreview
        : text;
      const { hash, file } = await deps.plans.put(planText);
      await writeFile(path.join(runDir(req.run), 'plan-hash'), hash);
      const planSummary = {
        resources: parsed.resources,
        totals: parsed.totals,
        // A rollback whose only change is removing leftovers still has work to do.
        empty:
          parsed.empty && !(leftovers?.report.action === 'remove' && (leftovers.report.existing ?? 1) > 0),
        ...(leftovers ? { leftovers: leftovers.report } : {}),
      };
      log.info({ planHash: hash, totals: parsed.totals, empty: parsed.empty }, 'plan ready');
      return { planHash: hash, planSummary, planArtifact: path.relative(config.dataDir, file) };
    }),

    applyPlan: wrap('applyPlan', async (request: ApplyRequest): Promise<ApplyResult> => {
      const log = activityLogger();
      environment(request.environment);
      const dir = runDir(request.run);
      const req = { ...request, worktreeDir: checkoutDir(request.run) };
      const buildDir = path.join(dir, 'build');
      const marker = path.join(dir, 'plan-hash');
      const builtHash = existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : undefined;
      // Profiles without a build step (playbook syntax) rebuild inside their own apply command.
      const buildMissing = deps.toolkit.has('build') && !existsSync(buildDir);
      let current: ReturnType<typeof parseDryRunOutput> | undefined;
      if (builtHash !== req.planHash || buildMissing) {
        // The build that was diffed is gone (new machine, cleaned disk, reset run): rebuild the pinned commit.
        log.warn('build of the approved plan is missing; rebuilding from the pinned commit');
        current = (await buildAndDryRun(req, buildDir)).parsed;
      } else if (Context.current().info.attempt === 1) {
        // CDF may have changed while the plan waited for approval (hours, days). Later attempts skip this:
        // after a partial apply the plan differs by design.
        await ensureWorktree(req.commit, req.worktreeDir);
        current = parseDryRunOutput((await runToolkitStep('diff', req, buildDir)).stdout);
      }
      if (current) {
        const approved = parseDryRunOutput(await deps.plans.get(req.planHash));
        const changed = planDifferences(approved, current);
        if (changed.length > 0) {
          throw new PromotionError(
            ErrorType.PlanMismatch,
            `the plan changed since it was approved (${changed.join('; ')}); nothing was applied, start a new promotion`,
          );
        }
        await writeFile(marker, req.planHash);
      }
      const out = await runToolkitStep('apply', req, buildDir);
      let counts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
      try {
        const parsed = parseDeployOutput(out.stdout);
        for (const r of parsed.resources) {
          counts = {
            created: counts.created + r.created,
            updated: counts.updated + r.updated,
            deleted: counts.deleted + r.deleted,
            unchanged: counts.unchanged + r.unchanged,
          };
        }
      } catch (err) {
        // Exit code 0 is the Toolkit's own verdict; an unreadable summary only costs us the counts.
        log.warn({ err: (err as Error).message }, 'could not parse the deploy summary');
      }
      log.info(counts, 'apply finished');
      const report = deps.toolkit.has('build')
        ? await readBuildReport(buildDir).catch(() => undefined)
        : undefined;
      const info = Context.current().info;
      await deps.ledger.append({
        at: new Date().toISOString(),
        environment: req.environment,
        commit: req.commit,
        workflowId: req.run.workflowId,
        runId: req.run.runId,
        kind: req.kind ?? 'promotion',
        // Leftovers kept in CDF are still deployed: the next rollback must know about them too.
        resources: report ? [...resourcesOf(report), ...(req.leftovers ?? [])] : null,
      });
      return { ...counts, attempts: info.attempt };
    }),

    runSmokeChecks: wrap('runSmokeChecks', async (req: SmokeRequest): Promise<SmokeCheckResult[]> => {
      const log = activityLogger();
      const env = environment(req.environment);
      const ctx = Context.current();
      const results = await runChecks(deps.cdf(req.environment), env.smoke, Date.now, (done, total) => {
        ctx.heartbeat({ done, total });
        log.info({ done, total }, 'smoke checks progress');
      });
      log.info(
        { passed: results.filter((r) => r.passed).length, failed: results.filter((r) => !r.passed).length },
        'smoke checks done',
      );
      return results;
    }),

    sendAlert: wrap('sendAlert', async (req: AlertRequest): Promise<AlertDelivery> => {
      const log = activityLogger();
      const env = environment(req.environment);
      const key = `${req.workflowId}/${req.runId}`;
      const done = delivered.get(key) ?? new Set<string>();
      delivered.set(key, done);
      const ui = config.temporal.uiUrl.replace(/\/$/, '');
      const message = {
        ...req,
        title: `CDF ${req.kind} to ${req.environment} ${req.outcome.replace('_', ' ')}`,
        runUrl: `${ui}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(req.workflowId)}/${encodeURIComponent(req.runId)}/history`,
      };
      const failures: string[] = [];
      let allConfiguration = true;
      for (const [i, channel] of env.alerts.entries()) {
        const name = channelName(channel, i);
        if (done.has(name)) continue;
        try {
          await deps.alerts.send(channel, message);
          done.add(name);
          log.info({ channel: name }, 'alert delivered');
        } catch (err) {
          if (!(err instanceof PromotionError && err.type === ErrorType.Configuration))
            allConfiguration = false;
          failures.push(`${name}: ${(err as Error).message}`);
        }
      }
      if (failures.length) {
        // Retrying cannot fix a channel whose URL variable is missing; anything else may be a blip.
        const type = allConfiguration ? ErrorType.Configuration : ErrorType.AlertDelivery;
        throw new PromotionError(type, `alert delivery failed: ${failures.join('; ')}`);
      }
      if (env.alerts.length === 0) log.warn('no alert channels configured for this environment');
      delivered.delete(key);
      return { delivered: [...done] };
    }),

    removeLeftovers: wrap('removeLeftovers', async (req: RemoveLeftoversRequest): Promise<LeftoverReport> => {
      const log = activityLogger();
      environment(req.environment);
      const dir = path.join(runDir(req.run), 'leftovers');
      const buildDir = path.join(dir, 'build');
      if (!existsSync(buildDir)) {
        throw new PromotionError(
          ErrorType.PlanMismatch,
          'the pruned build of the leftovers is gone; run the rollback again',
        );
      }
      const out = await runToolkitStep(
        'clean',
        { environment: req.environment, worktreeDir: path.join(dir, 'checkout') },
        buildDir,
      );
      log.info({ removed: req.leftovers.resources.length }, 'rollback leftovers removed');
      await deps.ledger.append({
        at: new Date().toISOString(),
        environment: req.environment,
        commit: req.commit,
        workflowId: req.run.workflowId,
        runId: req.run.runId,
        kind: 'leftover-removal',
        resources: await readBuildReport(path.join(runDir(req.run), 'build'))
          .then(resourcesOf)
          .catch(() => null),
      });
      return { ...req.leftovers, result: 'removed', detail: lastLine(out.output) };
    }),

    cleanupRun: wrap('cleanupRun', async (req: CleanupRequest): Promise<void> => {
      const dir = runDir(req.run);
      const checkout = checkoutDir(req.run);
      if (existsSync(checkout)) await deps.repository.remove(checkout);
      const leftoverCheckout = path.join(dir, 'leftovers', 'checkout');
      if (existsSync(leftoverCheckout)) await deps.repository.remove(leftoverCheckout);
      await rm(path.join(dir, 'build'), { recursive: true, force: true });
      await rm(path.join(dir, 'leftovers'), { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      activityLogger().info('run folder cleaned');
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** Deletes every file under the build's resource folders except the ones to keep (lineage and insights stay). */
async function pruneBuild(buildDir: string, keep: Set<string>): Promise<void> {
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

/** What differs between the approved plan and a fresh dry-run: counts per resource type and per-resource diffs. */
function planDifferences(
  approved: ReturnType<typeof parseDryRunOutput>,
  current: ReturnType<typeof parseDryRunOutput>,
): string[] {
  const out: string[] = [];
  const counts = (p: typeof approved) => new Map(p.resources.map((r) => [r.resource, JSON.stringify(r)]));
  const a = counts(approved);
  const c = counts(current);
  for (const name of new Set([...a.keys(), ...c.keys()]))
    if (a.get(name) !== c.get(name)) out.push(`${name} counts differ`);
  const diffs = (p: typeof approved) => new Map(p.resourceDiffs.map((d) => [d.title, d.body]));
  const ad = diffs(approved);
  const cd = diffs(current);
  for (const title of new Set([...ad.keys(), ...cd.keys()]))
    if (ad.get(title) !== cd.get(title)) out.push(`${title} differs`);
  return out;
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/[│╭╮╰╯─]/g, '').trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? '';
}

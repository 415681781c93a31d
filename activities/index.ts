/**
 * Activities, built over injected clients so tests can pass fakes and the worker passes real ones.
 * Every activity converts its errors with toApplicationFailure, so retry decisions are made in one place.
 */
import { Context } from '@temporalio/activity';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  RunRef,
  SmokeRequest,
} from '../contracts/activity-types';
import { ErrorType, PromotionError, UnknownEnvironmentError, toApplicationFailure } from '../contracts/errors';
import type { SmokeCheckResult, WorkflowKind } from '../contracts/types';
import type { EnvironmentConfig, WorkerConfig } from '../worker/config';
import { channelName, type AlertSender } from './alerts/alert-channels';
import { type PlanStore } from './artifacts/plan-store';
import type { CdfClientFactory } from './cdf/cdf-client-factory';
import { removeDotEnvFiles, type ConfigRepository } from './git/config-repository';
import { runSmokeChecks as runChecks } from './smoke/smoke-checks';
import { readBuildReport } from './toolkit/build-report';
import { parseDeployOutput, parseDryRunOutput } from './toolkit/dry-run-parser';
import type { ToolkitOutput, ToolkitRunner, ToolkitStep } from './toolkit/toolkit-runner';

export interface ActivityDeps {
  config: WorkerConfig;
  toolkit: ToolkitRunner;
  repository: ConfigRepository;
  cdf: CdfClientFactory;
  alerts: AlertSender;
  plans: PlanStore;
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

  const runDir = (run: RunRef): string =>
    path.join(config.dataDir, 'runs', run.workflowId.replace(/[^A-Za-z0-9._-]/g, '_'), run.runId.replace(/[^A-Za-z0-9-]/g, '_'));

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

  const wrap = <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        const failure = toApplicationFailure(err);
        activityLogger().warn({ errorType: failure.type, nonRetryable: failure.nonRetryable }, `${name} failed: ${failure.message}`);
        throw failure;
      }
    };

  /**
   * Runs one Toolkit step with heartbeats carrying the last output lines and periodic progress logs, and kills
   * the child when the activity is cancelled.
   */
  const runToolkitStep = async (step: ToolkitStep, req: DiffRequest, buildDir: string): Promise<ToolkitOutput> => {
    const ctx = Context.current();
    const log = activityLogger();
    const lastLines: string[] = [];
    let lines = 0;
    const beat = (): void => ctx.heartbeat({ step, lines, lastLines: lastLines.slice(-5) });
    const hb = setInterval(beat, HEARTBEAT_EVERY_MS);
    const progress = setInterval(
      () => log.info({ step, lines, lastLine: lastLines[lastLines.length - 1] }, `toolkit ${step} still running`),
      PROGRESS_LOG_EVERY_MS,
    );
    log.info({ step }, `toolkit ${step} started`);
    try {
      const out = await deps.toolkit.run(step, {
        environment: req.environment,
        worktreeDir: req.worktreeDir,
        buildDir,
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

  /** Makes sure the run's worktree holds the pinned commit (a new worker may run on another machine). */
  const ensureWorktree = async (run: RunRef, commit: string, worktreeDir: string): Promise<void> => {
    if (path.resolve(worktreeDir) !== path.join(runDir(run), 'checkout')) {
      throw new PromotionError(ErrorType.InvalidInput, `worktree ${worktreeDir} is not owned by this run`);
    }
    await deps.repository.checkout(commit, worktreeDir);
    await removeDotEnvFiles(worktreeDir);
  };

  /** Build (when the profile has a build step) and dry-run; returns the plan text and its parsed summary. */
  const buildAndDryRun = async (req: DiffRequest, buildDir: string) => {
    await ensureWorktree(req.run, req.commit, req.worktreeDir);
    if (deps.toolkit.has('build')) {
      await rm(buildDir, { recursive: true, force: true });
      await runToolkitStep('build', req, buildDir);
      const report = await readBuildReport(buildDir).catch((err: Error) => {
        throw new PromotionError(ErrorType.BuildFailed, `build produced no readable report: ${err.message}`);
      });
      if (report.modulesFailed > 0 || report.criticalInsights.length > 0) {
        const insights = report.criticalInsights
          .slice(0, 5)
          .map((i) => `${i.insightType}${i.code ? ` ${i.code}` : ''}: ${i.message.replace(/\[\/?[a-z ]*\]/g, '')}`);
        throw new PromotionError(
          ErrorType.BuildFailed,
          `build failed: ${report.modulesFailed} module(s) failed, ${report.criticalInsights.length} critical insight(s)${insights.length ? `; ${insights.join('; ')}` : ''}`,
        );
      }
    }
    const diff = await runToolkitStep('diff', req, buildDir);
    const parsed = (() => {
      try {
        return parseDryRunOutput(diff.stdout);
      } catch (err) {
        throw new PromotionError(ErrorType.PlanParse, `could not understand the dry-run output: ${(err as Error).message}`);
      }
    })();
    return { text: diff.output, parsed };
  };

  return {
    resolveEnvironment: wrap('resolveEnvironment', async (req: { environment: string; kind: WorkflowKind }): Promise<EnvironmentPolicy> => {
      const env = environment(req.environment);
      return {
        environment: req.environment,
        cdfProject: env.cdfProject,
        approvalTimeoutMs: env.approval.timeout,
        approvers: env.approval.approvers,
        requiredApprovals: env.approval.requiredApprovals,
        allowSelfApproval: env.approval.allowSelfApproval,
        approvalRequired: req.kind === 'promotion' || env.approval.rollbackRequiresApproval,
        temporalUiUrl: config.temporal.uiUrl,
        namespace: config.temporal.namespace,
      };
    }),

    prepareCheckout: wrap('prepareCheckout', async (req: PrepareCheckoutRequest): Promise<PreparedCheckout> => {
      const log = activityLogger();
      const commit = await deps.repository.resolve(req.ref);
      const worktreeDir = path.join(runDir(req.run), 'checkout');
      await deps.repository.checkout(commit, worktreeDir);
      const removed = await removeDotEnvFiles(worktreeDir);
      if (removed.length) log.warn({ removed }, 'removed .env files from the checkout: they would override credentials');
      log.info({ ref: req.ref, commit, worktreeDir }, 'checked out pinned commit');
      return { commit, worktreeDir };
    }),

    buildAndDiff: wrap('buildAndDiff', async (req: DiffRequest): Promise<DiffResult> => {
      const log = activityLogger();
      environment(req.environment);
      const buildDir = path.join(runDir(req.run), 'build');
      const { text, parsed } = await buildAndDryRun(req, buildDir);
      if (!parsed.ableToDeploy) {
        const rows = parsed.resources.filter((r) => !r.ableToDeploy).map((r) => r.resource);
        throw new PromotionError(
          ErrorType.NotAbleToDeploy,
          `dry-run says "Able to deploy: No" for ${rows.join(', ') || 'some resources'}: the credentials lack write access`,
        );
      }
      const { hash, file } = await deps.plans.put(text);
      await writeFile(path.join(runDir(req.run), 'plan-hash'), hash);
      const planSummary = {
        resources: parsed.resources,
        totals: parsed.totals,
        empty: parsed.empty,
      };
      log.info({ planHash: hash, totals: parsed.totals, empty: parsed.empty }, 'plan ready');
      return { planHash: hash, planSummary, planArtifact: path.relative(config.dataDir, file) };
    }),

    applyPlan: wrap('applyPlan', async (req: ApplyRequest): Promise<ApplyResult> => {
      const log = activityLogger();
      environment(req.environment);
      const dir = runDir(req.run);
      const buildDir = path.join(dir, 'build');
      const marker = path.join(dir, 'plan-hash');
      const builtHash = existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : undefined;
      if (builtHash !== req.planHash || !existsSync(buildDir)) {
        // The build that was diffed is gone (new machine or cleaned disk). Rebuild from the pinned commit and
        // refuse to apply unless the plan still says the same thing as the approved one.
        log.warn('build of the approved plan is missing; rebuilding from the pinned commit');
        const approved = parseDryRunOutput(await deps.plans.get(req.planHash));
        const { parsed } = await buildAndDryRun(req, buildDir);
        if (JSON.stringify(parsed.resources) !== JSON.stringify(approved.resources)) {
          throw new PromotionError(ErrorType.PlanMismatch, 'the plan changed since it was approved (CDF or the build differs); start a new promotion');
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
      return { ...counts, attempts: Context.current().info.attempt };
    }),

    runSmokeChecks: wrap('runSmokeChecks', async (req: SmokeRequest): Promise<SmokeCheckResult[]> => {
      const log = activityLogger();
      const env = environment(req.environment);
      const ctx = Context.current();
      const results = await runChecks(deps.cdf(req.environment), env.smoke, Date.now, (done, total) => {
        ctx.heartbeat({ done, total });
        log.info({ done, total }, 'smoke checks progress');
      });
      log.info({ passed: results.filter((r) => r.passed).length, failed: results.filter((r) => !r.passed).length }, 'smoke checks done');
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
          if (!(err instanceof PromotionError && err.type === ErrorType.Configuration)) allConfiguration = false;
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

    cleanupRun: wrap('cleanupRun', async (req: CleanupRequest): Promise<void> => {
      const dir = runDir(req.run);
      if (req.worktreeDir && existsSync(req.worktreeDir)) await deps.repository.remove(req.worktreeDir);
      await rm(path.join(dir, 'build'), { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      activityLogger().info('run folder cleaned');
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * The Toolkit steps as the activities use them. Each command runs with the Toolkit version the checkout pins
 * (toolkit-resolver.ts), with heartbeats carrying its last output lines and periodic progress logs, and is
 * killed when the activity is cancelled. `build` refuses a build the Toolkit reports errors for; `dryRun`
 * parses the plan as it streams out of the Toolkit (once) and, when asked, leaves its text in files.
 */
import { Context } from '@temporalio/activity';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger } from '../activity-context';
import { heartbeatOf } from '../heartbeat';
import type { HeartbeatReceipts } from '../heartbeat-receipts';
import type { RunWorkspace } from '../workspace/run-workspace';
import { buildRefusal, readBuildReport, type BuildReport } from './build-report';
import { PlanParseError, type ParsedDryRun } from './dry-run-parser';
import { OutputCapture, type CapturedOutput } from './output-capture';
import type { ResolvedToolkit, ToolkitResolver } from './toolkit-resolver';
import type { OutputSink, ToolkitOutput, ToolkitRunner, ToolkitStep } from './toolkit-runner';

const PROGRESS_LOG_EVERY_MS = 15_000;
/** Heartbeats carry this many of the last output lines, each cut to LINE_CHARS. */
const HEARTBEAT_LINES = 5;
const KEPT_LINES = 20;
const LINE_CHARS = 300;

/** Where a step runs: the environment it targets, the checkout holding the pinned commit, the log folder. */
export interface StepTarget {
  environment: string;
  worktreeDir: string;
  logDir: string;
}

export interface CommitTarget extends StepTarget {
  commit: string;
}

export interface Built {
  /** Absent when the profile has no build step. */
  report?: BuildReport;
  toolkit: ResolvedToolkit;
}

export interface DryRun extends Built {
  /**
   * Where the dry-run's output is, as printed with secrets masked (when dryRun was given a folder): what the plan
   * document an approver reads, and whose hash they approve, is made of.
   */
  output?: CapturedOutput;
  /** Parsed as the output streamed by; verbose diffs as digests, which is what comparing two plans needs. */
  parsed: ParsedDryRun;
}

export interface ToolkitSteps {
  has(step: ToolkitStep): boolean;
  /** The Toolkit the checkout in `worktreeDir` pins, installed if needed. */
  resolve(worktreeDir: string): Promise<ResolvedToolkit>;
  run(
    step: ToolkitStep,
    target: StepTarget,
    toolkit: ResolvedToolkit,
    buildDir: string,
    extraArgs?: string[],
  ): Promise<ToolkitOutput>;
  /** Checks out the commit, resolves its Toolkit and builds with it. */
  build(target: CommitTarget, buildDir: string): Promise<Built>;
  /**
   * Build (when the profile has one), then the dry-run, parsed; its output is written to files in `outputDir`
   * (emptied first) when one is given, and is otherwise not kept.
   */
  dryRun(target: CommitTarget, buildDir: string, outputDir?: string): Promise<DryRun>;
  /** Only the dry-run, on a build that already exists, in a checkout the caller has made. */
  diffExistingBuild(target: CommitTarget, toolkit: ResolvedToolkit, buildDir: string): Promise<ParsedDryRun>;
}

export interface ToolkitStepsDeps {
  toolkit: ToolkitRunner;
  resolver: ToolkitResolver;
  workspace: RunWorkspace;
  /** Folder of cdf.toml inside a checkout (`repository.projectDir`). */
  projectDir: string;
  logger: Logger;
  /** Lets an apply see that the server has its "deploy started" beat; without it, it waits out the throttle. */
  heartbeatReceipts?: HeartbeatReceipts;
}

/** A plan the parser cannot read, as the diff reports it (the apply's own dry-run throws PlanParseError as is). */
function planParseFailure(err: unknown): PromotionError {
  return new PromotionError(
    ErrorType.PlanParse,
    `could not understand the dry-run output: ${(err as Error).message}`,
  );
}

/**
 * Heartbeats, repeating the activity's last details, while `work` runs. The steps around the Toolkit's commands
 * (the checkout, the artifact store, the deployment recorded with the environment's entity) can wait for many
 * seconds on a busy worker, and an activity that stays silent past its heartbeat timeout is taken for a dead
 * worker: its apply was retried, and after six attempts the run ended apply_failed although CDF had the plan.
 */
export function keepAliveWithLastDetails<T>(work: () => Promise<T>): Promise<T> {
  const hb = heartbeatOf();
  // Before this attempt's first step, keep what the last attempt said about a deploy it had begun.
  if (deployStarted()) hb.describe(() => ({ deployStarted: true }));
  return hb.keepBeating(work);
}

/** Heartbeats with the last lines `track` received, and logs progress, while `work` runs. */
async function withProgress<T>(
  logger: Logger,
  what: string,
  work: (track: (line: string) => void) => Promise<T>,
  receipts?: HeartbeatReceipts,
): Promise<T> {
  const ctx = Context.current();
  const hb = heartbeatOf(ctx);
  const log = activityLogger(logger);
  const lastLines: string[] = [];
  let lines = 0;
  // Once an attempt of this activity has started `cdf deploy`, every later heartbeat says so, in this attempt and
  // the next ones (a retry reads it from the last heartbeat the dead attempt sent: deployStarted()).
  const deployed = deployStarted() || what === 'apply';
  hb.describe(() => ({
    step: what,
    lines,
    lastLines: lastLines.slice(-HEARTBEAT_LINES),
    ...(deployed ? { deployStarted: true } : {}),
  }));
  const progress = setInterval(
    () =>
      log.info(
        { step: what, lines, lastLine: lastLines[lastLines.length - 1] },
        `toolkit ${what} still running`,
      ),
    PROGRESS_LOG_EVERY_MS,
  );
  try {
    return await hb.keepBeating(async () => {
      // A worker killed a moment into the deploy must already have said that it began: otherwise the retry takes
      // the deploy for one that never started (and runs the drift check on a half-deployed plan). The worker may
      // hold this beat back for its throttle interval, so the deploy starts once the beat has surely gone out.
      if (what === 'apply' && !deployStarted()) {
        hb.beat();
        await hb.delivered(receipts && (async () => saysDeployStarted(await receipts(ctx.info))));
      }
      return work((line) => {
        lines += 1;
        if (line.trim()) lastLines.push(line.slice(0, LINE_CHARS));
        if (lastLines.length > KEPT_LINES) lastLines.shift();
        log.debug({ step: what }, line);
      });
    });
  } finally {
    clearInterval(progress);
  }
}

export function createToolkitSteps(deps: ToolkitStepsDeps): ToolkitSteps {
  const resolve = async (worktreeDir: string): Promise<ResolvedToolkit> => {
    const projectDir = path.resolve(worktreeDir, deps.projectDir);
    const toolkit = await withProgress(deps.logger, 'install', (track) =>
      deps.resolver.forProject(projectDir, track, Context.current().cancellationSignal),
    );
    activityLogger(deps.logger).info(
      { toolkitVersion: toolkit.version, executable: toolkit.executable, source: toolkit.source },
      toolkit.version ? `using Cognite Toolkit ${toolkit.version}` : 'the checkout pins no Toolkit version',
    );
    return toolkit;
  };

  const run = async (
    step: ToolkitStep,
    target: StepTarget,
    toolkit: ResolvedToolkit,
    buildDir: string,
    extraArgs?: string[],
    sink?: OutputSink,
  ): Promise<ToolkitOutput> => {
    const log = activityLogger(deps.logger);
    log.info({ step, toolkitVersion: toolkit.version }, `toolkit ${step} started`);
    const out = await withProgress(
      deps.logger,
      step,
      (track) =>
        deps.toolkit.run(step, {
          environment: target.environment,
          worktreeDir: target.worktreeDir,
          buildDir,
          toolkit,
          logDir: target.logDir,
          extraArgs,
          signal: Context.current().cancellationSignal,
          onLine: track,
          sink,
        }),
      deps.heartbeatReceipts,
    );
    log.info({ step, durationMs: out.durationMs }, `toolkit ${step} finished`);
    return out;
  };

  const build = async (target: CommitTarget, buildDir: string): Promise<Built> => {
    await deps.workspace.checkout(target.commit, target.worktreeDir);
    const toolkit = await resolve(target.worktreeDir);
    if (!deps.toolkit.has('build')) return { toolkit };
    await rm(buildDir, { recursive: true, force: true });
    await run('build', target, toolkit, buildDir);
    const report = await readBuildReport(buildDir).catch((err: Error) => {
      throw new PromotionError(ErrorType.BuildFailed, `build produced no readable report: ${err.message}`);
    });
    const refusal = buildRefusal(report);
    if (refusal) throw new PromotionError(ErrorType.BuildFailed, refusal);
    return { report, toolkit };
  };

  /** The dry-run, parsed once as its output streams by: the output is never held whole (plans can be 50 MB). */
  const diff = async (
    target: CommitTarget,
    toolkit: ResolvedToolkit,
    buildDir: string,
    outputDir: string | undefined,
  ): Promise<{ parsed: ParsedDryRun; output?: CapturedOutput }> => {
    const capture = new OutputCapture(outputDir, { diffBodies: 'sha256' });
    try {
      await capture.start();
      await run('diff', target, toolkit, buildDir, undefined, capture);
      return await capture.finish();
    } catch (err) {
      await capture.discard();
      throw err;
    }
  };

  return {
    has: (step) => deps.toolkit.has(step),
    resolve,
    run,
    build,
    async dryRun(target, buildDir, outputDir) {
      const built = await build(target, buildDir);
      try {
        return { ...built, ...(await diff(target, built.toolkit, buildDir, outputDir)) };
      } catch (err) {
        throw err instanceof PlanParseError ? planParseFailure(err) : err;
      }
    },
    async diffExistingBuild(target, toolkit, buildDir) {
      return (await diff(target, toolkit, buildDir, undefined)).parsed;
    },
  };
}

/**
 * Whether an earlier attempt of the running activity had started `cdf deploy`, from the last heartbeat it sent
 * (not from the attempt number: an attempt that died in its pre-deploy check changed nothing).
 */
export function deployStarted(): boolean {
  return saysDeployStarted(Context.current().info.heartbeatDetails);
}

function saysDeployStarted(details: unknown): boolean {
  const d = details as { step?: unknown; deployStarted?: unknown } | undefined;
  return d?.deployStarted === true || d?.step === 'apply';
}

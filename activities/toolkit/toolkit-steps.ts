/**
 * The Toolkit steps as the activities use them: each command runs with heartbeats carrying its last output
 * lines and with periodic progress logs, and is killed when the activity is cancelled. `build` refuses a build
 * the Toolkit itself would deploy broken; `dryRun` returns the plan text and its parsed summary.
 */
import { Context } from '@temporalio/activity';
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { activityLogger } from '../activity-context';
import type { RunWorkspace } from '../workspace/run-workspace';
import { buildRefusal, readBuildReport, type BuildReport } from './build-report';
import { parseDryRunOutput, type ParsedDryRun } from './dry-run-parser';
import type { ToolkitOutput, ToolkitRunner, ToolkitStep } from './toolkit-runner';

const HEARTBEAT_EVERY_MS = 5_000;
const PROGRESS_LOG_EVERY_MS = 15_000;
/** Heartbeats carry this many of the last output lines, each cut to LINE_CHARS. */
const HEARTBEAT_LINES = 5;
const KEPT_LINES = 20;
const LINE_CHARS = 300;

/** Where a step runs: the environment it targets and the checkout holding the pinned commit. */
export interface StepTarget {
  environment: string;
  worktreeDir: string;
}

export interface CommitTarget extends StepTarget {
  commit: string;
}

export interface DryRun {
  /** The dry-run output as printed: the text an approver reads and whose hash they approve. */
  text: string;
  parsed: ParsedDryRun;
  /** Absent when the profile has no build step. */
  report?: BuildReport;
}

export interface ToolkitSteps {
  has(step: ToolkitStep): boolean;
  run(step: ToolkitStep, target: StepTarget, buildDir: string, extraArgs?: string[]): Promise<ToolkitOutput>;
  /** Checks out the commit and builds it; undefined when the profile has no build step. */
  build(target: CommitTarget, buildDir: string): Promise<BuildReport | undefined>;
  /** Build (when the profile has one), then the dry-run, parsed. */
  dryRun(target: CommitTarget, buildDir: string): Promise<DryRun>;
  /** Only the dry-run, on a build that already exists. */
  diffExistingBuild(target: CommitTarget, buildDir: string): Promise<ParsedDryRun>;
}

export interface ToolkitStepsDeps {
  toolkit: ToolkitRunner;
  workspace: RunWorkspace;
  logger: Logger;
}

export function parsePlan(stdout: string): ParsedDryRun {
  try {
    return parseDryRunOutput(stdout);
  } catch (err) {
    throw new PromotionError(
      ErrorType.PlanParse,
      `could not understand the dry-run output: ${(err as Error).message}`,
    );
  }
}

export function createToolkitSteps(deps: ToolkitStepsDeps): ToolkitSteps {
  const run = async (
    step: ToolkitStep,
    target: StepTarget,
    buildDir: string,
    extraArgs?: string[],
  ): Promise<ToolkitOutput> => {
    const ctx = Context.current();
    const log = activityLogger(deps.logger);
    const lastLines: string[] = [];
    let lines = 0;
    const beat = (): void => ctx.heartbeat({ step, lines, lastLines: lastLines.slice(-HEARTBEAT_LINES) });
    const hb = setInterval(beat, HEARTBEAT_EVERY_MS);
    const progress = setInterval(
      () =>
        log.info({ step, lines, lastLine: lastLines[lastLines.length - 1] }, `toolkit ${step} still running`),
      PROGRESS_LOG_EVERY_MS,
    );
    log.info({ step }, `toolkit ${step} started`);
    try {
      const out = await deps.toolkit.run(step, {
        environment: target.environment,
        worktreeDir: target.worktreeDir,
        buildDir,
        extraArgs,
        signal: ctx.cancellationSignal,
        onLine: (line) => {
          lines += 1;
          if (line.trim()) lastLines.push(line.slice(0, LINE_CHARS));
          if (lastLines.length > KEPT_LINES) lastLines.shift();
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

  const build = async (target: CommitTarget, buildDir: string): Promise<BuildReport | undefined> => {
    await deps.workspace.checkout(target.commit, target.worktreeDir);
    if (!deps.toolkit.has('build')) return undefined;
    await rm(buildDir, { recursive: true, force: true });
    await run('build', target, buildDir);
    const report = await readBuildReport(buildDir).catch((err: Error) => {
      throw new PromotionError(ErrorType.BuildFailed, `build produced no readable report: ${err.message}`);
    });
    const refusal = buildRefusal(report);
    if (refusal) throw new PromotionError(ErrorType.BuildFailed, refusal);
    return report;
  };

  return {
    has: (step) => deps.toolkit.has(step),
    run,
    build,
    async dryRun(target, buildDir) {
      const report = await build(target, buildDir);
      const diff = await run('diff', target, buildDir);
      return { text: diff.output, parsed: parsePlan(diff.stdout), report };
    },
    async diffExistingBuild(target, buildDir) {
      await deps.workspace.checkout(target.commit, target.worktreeDir);
      return parseDryRunOutput((await run('diff', target, buildDir)).stdout);
    },
  };
}

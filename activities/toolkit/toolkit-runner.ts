/**
 * Runs the Toolkit's build, diff and apply steps through the configured command profile. The child process
 * gets a minimal environment: the credentials of the one environment it works on, never the worker's whole
 * environment (which may hold other environments' secrets).
 */
import path from 'node:path';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { requireEnvironment } from '../../config/environment-policy';
import type { CredentialsConfig, EnvironmentConfig, WorkerConfig } from '../../config/schema';
import { runCommand, type CommandResult } from '../process/run-command';
import type { WarmPythonPool } from '../process/warm-python';
import { lineRedactor, redact } from '../redact';
import { requireSecret } from '../secrets';
import type { CommandProfile, Placeholder } from '../../config/toolkit-profiles';
import type { ToolkitResult } from '../../contracts/metrics';
import type { ActivityMetrics } from '../metrics';
import { renderArgv } from './command-profiles';
import { classifyToolkitFailure, type FailureClass } from './failure-classifier';
import { lastLine, OutputTail } from './output-lines';

export type ToolkitStep = 'build' | 'diff' | 'apply' | 'clean';

export interface ToolkitRunContext {
  environment: string;
  /** Checkout of the pinned commit. */
  worktreeDir: string;
  buildDir: string;
  /** The Toolkit the checkout pins (see toolkit-resolver.ts); absent: `toolkit.executable`. */
  toolkit?: { executable: string };
  /** Where the Toolkit writes request/response logs of failed calls (outside the checkout). */
  logDir?: string;
  /** Appended to the rendered argv (e.g. `--dry-run` for a clean preview). */
  extraArgs?: string[];
  signal?: AbortSignal;
  /** Receives redacted output lines as they arrive (heartbeats, progress logs). */
  onLine?: (line: string) => void;
  /**
   * Takes the output instead of the runner keeping it (a plan of any size): each line, secrets masked, goes here
   * as it arrives, and the result's `output` and `stdout` hold only the output's last lines.
   */
  sink?: OutputSink;
}

export interface OutputSink {
  /**
   * A line of stdout or stderr with secrets masked, `\n` included when it had one. A returned promise holds the
   * command's output back until it settles (a file that is slow to write).
   */
  line(stream: 'stdout' | 'stderr', text: string): void | Promise<void>;
}

export interface ToolkitOutput {
  argv: string[];
  /** Combined stdout + stderr, with secrets masked (only its last lines when a sink took the output). */
  output: string;
  stdout: string;
  durationMs: number;
}

export interface ToolkitRunner {
  has(step: ToolkitStep): boolean;
  run(step: ToolkitStep, ctx: ToolkitRunContext): Promise<ToolkitOutput>;
}

export interface CliToolkitRunnerOptions {
  config: Pick<WorkerConfig, 'toolkit' | 'repository' | 'environments'>;
  /** Where secret values are read from; the worker passes process.env. */
  secrets: NodeJS.ProcessEnv;
  /** Receives each command's duration and result (cdf_promote_toolkit_command_seconds). */
  metrics?: Pick<ActivityMetrics, 'toolkitCommand'>;
  /** Warm helpers for the pinned `cdf` (`toolkit.warmRunner`); absent: every command is spawned fresh. */
  warm?: WarmPythonPool;
}

/**
 * What differs between two commands of one Toolkit executable: the environment's target and credentials. The
 * warm helper is started without them; each command's forked child gets them (warm-python.ts).
 */
export const PER_COMMAND_ENV = [
  'CDF_CLUSTER',
  'CDF_PROJECT',
  'CDF_URL',
  'LOGIN_FLOW',
  'CDF_TOKEN',
  'PROVIDER',
  'IDP_*',
] as const;

const perCommandVariable = (name: string): boolean =>
  PER_COMMAND_ENV.some((n) => (n.endsWith('*') ? name.startsWith(n.slice(0, -1)) : name === n));

/**
 * How a Toolkit command ended, as the command-duration metric labels it (contracts/metrics.ts TOOLKIT_RESULTS).
 * `failure` is the classifier's verdict on a non-zero exit.
 */
export function toolkitResult(
  ended: { exitCode: number | null; timedOut: boolean } | 'not_started',
  cancelled: boolean,
  failure?: FailureClass,
): ToolkitResult {
  if (ended === 'not_started') return 'not_started';
  // Cancellation first: a killed process exits non-zero, and that is not the Toolkit failing.
  if (cancelled) return 'cancelled';
  if (ended.timedOut) return 'timeout';
  if (ended.exitCode === 0) return 'ok';
  return failure === 'transient' ? 'transient' : 'failed';
}

export class CliToolkitRunner implements ToolkitRunner {
  constructor(private readonly options: CliToolkitRunnerOptions) {}

  private get profile(): CommandProfile {
    return this.options.config.toolkit.commands;
  }

  has(step: ToolkitStep): boolean {
    return this.profile[step] !== undefined;
  }

  async run(step: ToolkitStep, ctx: ToolkitRunContext): Promise<ToolkitOutput> {
    const template = this.profile[step];
    if (!template)
      throw new PromotionError(ErrorType.Configuration, `the toolkit profile has no "${step}" command`);
    const env = this.environment(ctx.environment);
    const { repository, toolkit } = this.options.config;
    const projectDir = path.resolve(ctx.worktreeDir, repository.projectDir);
    // The pinned Toolkit. With the cdf profile it is the command itself; wrappers (playbook, custom) run as
    // configured and find it as {toolkit} or in CDF_BIN.
    const pinned = ctx.toolkit?.executable ?? toolkit.executable;
    const values: Record<Placeholder, string> = {
      cdf: toolkit.profile === 'cdf' ? pinned : toolkit.executable,
      toolkit: pinned,
      logDir: ctx.logDir ?? path.join(path.dirname(ctx.buildDir), 'toolkit-logs'),
      projectDir,
      orgDir: repository.organizationDir,
      configFile: env.configFile ?? path.join(repository.organizationDir, `config.${ctx.environment}.yaml`),
      buildDir: ctx.buildDir,
      env: ctx.environment,
      cdfProject: env.cdfProject,
    };
    const argv = [...renderArgv(template, values), ...(ctx.extraArgs ?? [])];
    const { childEnv, secretValues } = this.childEnvironment(env);
    childEnv.CDF_BIN = pinned;
    const timeoutMs =
      step === 'apply' || step === 'clean'
        ? toolkit.timeouts.apply
        : step === 'build'
          ? toolkit.timeouts.build
          : toolkit.timeouts.diff;

    const started = Date.now();
    const observe = (result: ToolkitResult, ms: number): void =>
      this.options.metrics?.toolkitCommand(step, result, ms / 1000);
    const mask = lineRedactor(secretValues);
    const sink = ctx.sink;
    // With a sink, only the end of the output stays here, masked line by line before it is kept.
    const tails = sink ? { stdout: new OutputTail(), stderr: new OutputTail(), sawStderr: false } : undefined;
    const onOutput = (stream: 'stdout' | 'stderr', raw: string): void | Promise<void> => {
      const line = mask(raw);
      tails![stream].push(line);
      if (stream === 'stderr') tails!.sawStderr = true;
      ctx.onLine?.(line.replace(/\r?\n$/, ''));
      return sink!.line(stream, line);
    };
    // Only the pinned Toolkit itself (the cdf profile) runs warm; wrappers of other profiles are spawned.
    const launcher =
      this.options.warm && toolkit.warmRunner && toolkit.profile === 'cdf'
        ? this.options.warm.launcher(
            Object.fromEntries(Object.entries(childEnv).filter(([k]) => !perCommandVariable(k))),
            PER_COMMAND_ENV,
          )
        : undefined;
    let result: CommandResult;
    try {
      result = await runCommand(argv, {
        launcher,
        cwd: projectDir,
        env: childEnv,
        timeoutMs,
        signal: ctx.signal,
        ...(sink
          ? { onOutput, collectOutput: false }
          : { onLine: ctx.onLine ? (line: string) => ctx.onLine!(mask(line)) : undefined }),
        // A Toolkit command must not go on deploying after its worker died (its retry runs elsewhere).
        guardOrphans: true,
      });
    } catch (err) {
      observe('not_started', Date.now() - started);
      // The executable is missing or not runnable: a configuration problem, retrying will not help.
      throw new PromotionError(ErrorType.Configuration, `cannot run ${argv[0]}: ${(err as Error).message}`);
    }
    const output = tails
      ? `${tails.stdout.text()}${tails.sawStderr ? `\n${tails.stderr.text()}` : ''}`
      : redact(`${result.stdout}${result.stderr ? `\n${result.stderr}` : ''}`, secretValues);
    const failed = result.exitCode !== 0 || result.timedOut;
    const tail = failed ? output.trim().split('\n').slice(-40).join('\n') : '';
    const cls = failed ? classifyToolkitFailure(tail, result.timedOut) : undefined;
    observe(toolkitResult(result, ctx.signal?.aborted === true, cls), result.durationMs);
    if (ctx.signal?.aborted) throw new PromotionError(ErrorType.ToolkitTransient, `${step} was cancelled`);
    if (failed) {
      const how = result.timedOut
        ? `timed out after ${timeoutMs} ms`
        : `exited with ${result.exitCode ?? result.signal}`;
      throw new PromotionError(
        cls === 'transient' ? ErrorType.ToolkitTransient : ErrorType.ToolkitFailed,
        `toolkit ${step} ${how}: ${lastLine(tail, { prefer: /error/i, maxLength: 500 }) || '(no output)'}`,
        { step, exitCode: result.exitCode, outputTail: tail.slice(-4000) },
      );
    }
    const stdout = tails ? tails.stdout.text() : redact(result.stdout, secretValues);
    return { argv, output, stdout, durationMs: result.durationMs };
  }

  private environment(name: string): EnvironmentConfig {
    return requireEnvironment(this.options.config, name);
  }

  private childEnvironment(env: EnvironmentConfig): { childEnv: NodeJS.ProcessEnv; secretValues: string[] } {
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      LANG: process.env.LANG ?? 'C.UTF-8',
      // Plain, wide, machine-parsable output, and no telemetry from a service account.
      NO_COLOR: '1',
      COLUMNS: '200',
      TERM: 'dumb',
      SENTRY_ENABLED: 'false',
      PYTHONWARNINGS: 'ignore::UserWarning',
      PYTHONUNBUFFERED: '1',
      ...(this.options.config.toolkit.disableTelemetry
        ? { PYTEST_CURRENT_TEST: 'cdf-promotion-service' }
        : {}),
      ...this.options.config.toolkit.env,
      CDF_CLUSTER: env.cluster,
      CDF_PROJECT: env.cdfProject,
      CDF_URL: env.baseUrl,
    };
    const { vars, secretValues } = credentialVariables(env.credentials, this.options.secrets);
    return { childEnv: { ...base, ...vars }, secretValues };
  }
}

/** The Toolkit's auth variables for one environment, read from the worker's env at the moment of use. */
export function credentialVariables(
  creds: CredentialsConfig,
  secrets: NodeJS.ProcessEnv,
): { vars: Record<string, string>; secretValues: string[] } {
  const need = (name: string): string => requireSecret(secrets, name);
  if (creds.flow === 'token') {
    const token = need(creds.tokenEnv);
    return { vars: { LOGIN_FLOW: 'token', CDF_TOKEN: token }, secretValues: [token] };
  }
  const clientId = need(creds.clientIdEnv);
  const secret = need(creds.clientSecretEnv);
  const vars: Record<string, string> = {
    LOGIN_FLOW: 'client_credentials',
    PROVIDER: 'other',
    IDP_CLIENT_ID: clientId,
    IDP_CLIENT_SECRET: secret,
    IDP_TOKEN_URL: creds.tokenUrl,
  };
  if (creds.scopes) vars.IDP_SCOPES = creds.scopes.join(',');
  if (creds.audience) vars.IDP_AUDIENCE = creds.audience;
  return { vars, secretValues: [secret] };
}

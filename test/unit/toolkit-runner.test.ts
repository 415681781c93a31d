import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PromotionError } from '../../contracts/errors';
import { CliToolkitRunner, type CliToolkitRunnerOptions } from '../../activities/toolkit/toolkit-runner';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

/**
 * A stand-in Toolkit: behaviour is chosen by FAKE_MODE, which the tests set through the config's `toolkit.env`
 * (the only way a worker operator can add variables to the child's environment).
 */
const FAKE_TOOLKIT = `#!/usr/bin/env node
const mode = process.env.FAKE_MODE || 'echo';
const report = { argv: process.argv.slice(2), cwd: process.cwd(), env: process.env };
switch (mode) {
  case 'echo':
    process.stdout.write(JSON.stringify(report) + '\\n');
    break;
  case 'leak':
    console.log('using token ' + process.env.CDF_TOKEN + ' for ' + process.env.CDF_PROJECT);
    console.error('debug: Authorization: Bearer ' + process.env.CDF_TOKEN);
    break;
  case 'fail503':
    console.log('Deploying 3 spaces');
    console.error('CogniteAPIError: 503 Service Unavailable | code: 503');
    process.exit(1);
  case 'failValidation':
    console.log('Deploying 3 spaces');
    console.error('ERROR (ToolkitValidationError): view Pump references missing container');
    process.exit(1);
  case 'failLeak':
    console.error('ERROR (AuthorizationError): token ' + process.env.CDF_TOKEN + ' lacks dataModelsAcl:WRITE');
    process.exit(2);
  case 'sleep':
    console.log('started ' + process.pid);
    setTimeout(() => {}, 30000);
    break;
}
`;

const TOKENS = {
  CDF_TOKEN_PROD: 'prod-token-5ecret-value',
  CDF_TOKEN_DEV: 'dev-token-0ther-value',
  OTHER_SECRET: 'unrelated-worker-secret',
};

describe('CliToolkitRunner', () => {
  const tmp = tempDir('cdf-runner-');
  const exe = path.join(tmp.dir, 'bin', 'fake-cdf');
  const worktree = path.join(tmp.dir, 'run', 'checkout');
  const buildDir = path.join(tmp.dir, 'run', 'build');

  beforeAll(() => {
    mkdirSync(path.dirname(exe), { recursive: true });
    writeFileSync(exe, FAKE_TOOLKIT);
    chmodSync(exe, 0o755);
    mkdirSync(path.join(worktree, 'project'), { recursive: true });
    process.env.WORKER_ONLY_VAR = 'worker-private';
  });
  afterAll(() => {
    delete process.env.WORKER_ONLY_VAR;
    tmp.cleanup();
  });

  function runner(
    mode: string,
    opts: {
      executable?: string;
      timeouts?: Record<string, number>;
      profile?: string;
      metrics?: CliToolkitRunnerOptions['metrics'];
    } = {},
  ) {
    const raw = minimalRawConfig();
    raw.repository = { url: 'https://example.invalid/x.git', projectDir: 'project', organizationDir: 'org' };
    raw.toolkit = {
      profile: opts.profile ?? 'cdf',
      executable: opts.executable ?? exe,
      env: { FAKE_MODE: mode },
      ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
    };
    raw.environments.dev = {
      cdfProject: 'acme-dev',
      baseUrl: 'https://dev.example.invalid',
      cluster: 'westeurope-1',
      credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_DEV' },
      approval: { approvers: ['bob', 'carol'] },
    };
    const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
    return new CliToolkitRunner({ config, secrets: { ...TOKENS }, metrics: opts.metrics });
  }

  async function failure(p: Promise<unknown>): Promise<PromotionError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PromotionError);
    return err as PromotionError;
  }

  test('renders argv from the profile and runs in worktree/projectDir', async () => {
    const out = await runner('echo').run('diff', { environment: 'prod', worktreeDir: worktree, buildDir });
    const report = JSON.parse(out.stdout) as { argv: string[]; cwd: string };
    expect(out.argv).toEqual([
      exe,
      '--no-override-env',
      'deploy',
      buildDir,
      '--dry-run',
      '--cdf-project',
      'acme-prod',
      '--verbose',
      '--log-dir',
      path.join(path.dirname(buildDir), 'toolkit-logs'),
    ]);
    expect(report.argv).toEqual(out.argv.slice(1));
    expect(report.cwd).toBe(path.join(worktree, 'project'));
  });

  test('build uses the per-environment config file under the org dir', async () => {
    const out = await runner('echo').run('build', { environment: 'dev', worktreeDir: worktree, buildDir });
    const report = JSON.parse(out.stdout) as { argv: string[] };
    expect(report.argv).toEqual([
      '--no-override-env',
      'build',
      '-o',
      'org',
      '-c',
      path.join('org', 'config.dev.yaml'),
      '-b',
      buildDir,
      '--insight-format',
      'json',
    ]);
  });

  test("child env has only THIS environment's CDF settings and token", async () => {
    const out = await runner('echo').run('diff', { environment: 'prod', worktreeDir: worktree, buildDir });
    const { env } = JSON.parse(out.stdout) as { env: Record<string, string> };
    expect(env.CDF_PROJECT).toBe('acme-prod');
    expect(env.CDF_URL).toBe('https://api.example.invalid');
    expect(env.LOGIN_FLOW).toBe('token');
    expect(env.CDF_CLUSTER).toBe('sandbox');
    expect(env.FAKE_MODE).toBe('echo');
    expect(env.NO_COLOR).toBe('1');
    // stdout is redacted, so the token itself shows as *** (proves it was set and is masked)
    expect(env.CDF_TOKEN).toBe('***');
    // Nothing from other environments or the worker's own environment.
    expect(env.CDF_TOKEN_DEV).toBeUndefined();
    expect(env.CDF_TOKEN_PROD).toBeUndefined();
    expect(env.OTHER_SECRET).toBeUndefined();
    expect(env.WORKER_ONLY_VAR).toBeUndefined();
    expect(out.stdout).not.toContain(TOKENS.CDF_TOKEN_DEV);
    expect(out.stdout).not.toContain(TOKENS.OTHER_SECRET);
    expect(out.stdout).not.toContain('worker-private');
  });

  test("running for dev gets the dev token and project, not prod's", async () => {
    const out = await runner('leak').run('diff', { environment: 'dev', worktreeDir: worktree, buildDir });
    expect(out.stdout).toBe('using token *** for acme-dev\n');
    expect(out.output).not.toContain(TOKENS.CDF_TOKEN_PROD);
    expect(out.output).not.toContain(TOKENS.CDF_TOKEN_DEV);
  });

  test('a secret the child prints is redacted in output, stdout and onLine', async () => {
    const lines: string[] = [];
    const out = await runner('leak').run('diff', {
      environment: 'prod',
      worktreeDir: worktree,
      buildDir,
      onLine: (l) => lines.push(l),
    });
    expect(out.stdout).toBe('using token *** for acme-prod\n');
    expect(out.output).toContain('Authorization: Bearer ***');
    expect(out.output).not.toContain(TOKENS.CDF_TOKEN_PROD);
    expect(lines).toEqual(
      expect.arrayContaining(['using token *** for acme-prod', 'debug: Authorization: Bearer ***']),
    );
    expect(lines.join('\n')).not.toContain(TOKENS.CDF_TOKEN_PROD);
  });

  test('with a sink, the output goes there line by line with secrets masked, and failures read the same', async () => {
    const got: string[] = [];
    const sink = { line: (stream: string, text: string) => void got.push(`${stream}: ${text}`) };
    const out = await runner('leak').run('diff', {
      environment: 'prod',
      worktreeDir: worktree,
      buildDir,
      sink,
    });
    expect(got.sort()).toEqual([
      'stderr: debug: Authorization: Bearer ***\n',
      'stdout: using token *** for acme-prod\n',
    ]);
    expect(out.stdout).toBe('using token *** for acme-prod\n');
    const run = (withSink: boolean) =>
      failure(
        runner('failLeak').run('diff', {
          environment: 'prod',
          worktreeDir: worktree,
          buildDir,
          ...(withSink ? { sink: { line: () => undefined } } : {}),
        }),
      );
    const [kept, streamed] = [await run(false), await run(true)];
    expect(streamed.message).toBe(kept.message);
    expect(streamed.details).toEqual(kept.details);
    expect(streamed.message).not.toContain(TOKENS.CDF_TOKEN_PROD);
  });

  test('non-zero exit with a 503 is a retryable ToolkitTransientError', async () => {
    const err = await failure(
      runner('fail503').run('apply', { environment: 'prod', worktreeDir: worktree, buildDir }),
    );
    expect(err.type).toBe('ToolkitTransientError');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('toolkit apply exited with 1');
    expect(err.message).toContain('503 Service Unavailable');
    expect(err.details).toMatchObject({ step: 'apply', exitCode: 1 });
  });

  test('ToolkitValidationError output is a non-retryable ToolkitFailedError naming the error line', async () => {
    const err = await failure(
      runner('failValidation').run('diff', { environment: 'prod', worktreeDir: worktree, buildDir }),
    );
    expect(err.type).toBe('ToolkitFailedError');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('ERROR (ToolkitValidationError): view Pump references missing container');
  });

  test('a secret in failure output is redacted in the error message and details', async () => {
    const err = await failure(
      runner('failLeak').run('apply', { environment: 'prod', worktreeDir: worktree, buildDir }),
    );
    expect(err.type).toBe('ToolkitFailedError');
    expect(err.message).toContain('token *** lacks');
    expect(JSON.stringify(err.details)).not.toContain(TOKENS.CDF_TOKEN_PROD);
    expect(err.message).not.toContain(TOKENS.CDF_TOKEN_PROD);
  });

  test('a missing executable is a non-retryable ConfigurationError', async () => {
    const err = await failure(
      runner('echo', { executable: path.join(tmp.dir, 'bin', 'not-installed') }).run('diff', {
        environment: 'prod',
        worktreeDir: worktree,
        buildDir,
      }),
    );
    expect(err.type).toBe('ConfigurationError');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('not-installed');
  });

  test('a missing token variable is a ConfigurationError naming the variable (and nothing runs)', async () => {
    const config = buildConfig(
      { ...minimalRawConfig(), toolkit: { executable: exe, env: { FAKE_MODE: 'echo' } } },
      path.join(tmp.dir, 'promotion.yaml'),
    );
    const r = new CliToolkitRunner({ config, secrets: { CDF_TOKEN_DEV: 'x' } });
    const err = await failure(r.run('diff', { environment: 'prod', worktreeDir: worktree, buildDir }));
    expect(err.type).toBe('ConfigurationError');
    expect(err.message).toContain('CDF_TOKEN_PROD');
  });

  test('an unknown environment is refused', async () => {
    const err = await failure(
      runner('echo').run('diff', { environment: 'staging', worktreeDir: worktree, buildDir }),
    );
    expect(err.type).toBe('UnknownEnvironment');
  });

  test('has() reflects the profile: the playbook profile has no build step', () => {
    expect(runner('echo').has('build')).toBe(true);
    expect(runner('echo', { profile: 'playbook' }).has('build')).toBe(false);
  });

  test('a step the profile lacks is a ConfigurationError', async () => {
    const err = await failure(
      runner('echo', { profile: 'playbook' }).run('build', {
        environment: 'prod',
        worktreeDir: worktree,
        buildDir,
      }),
    );
    expect(err.type).toBe('ConfigurationError');
  });

  test('timeout is a retryable ToolkitTransientError', async () => {
    const started = Date.now();
    const err = await failure(
      runner('sleep', { timeouts: { diff: 400 } }).run('diff', {
        environment: 'prod',
        worktreeDir: worktree,
        buildDir,
      }),
    );
    expect(err.type).toBe('ToolkitTransientError');
    expect(err.message).toContain('timed out after 400 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('abort kills the child and the run fails quickly', async () => {
    const ac = new AbortController();
    let childPid: number | undefined;
    const started = Date.now();
    const p = runner('sleep').run('apply', {
      environment: 'prod',
      worktreeDir: worktree,
      buildDir,
      signal: ac.signal,
      onLine: (l) => {
        const m = /^started (\d+)/.exec(l);
        if (m) {
          childPid = Number(m[1]);
          ac.abort();
        }
      },
    });
    const err = await failure(p);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(err.type).toBe('ToolkitTransientError');
    expect(err.message).toContain('cancelled');
    expect(childPid).toBeDefined();
    expect(() => process.kill(childPid!, 0)).toThrow();
  });

  test('reports every command to the metrics: its step, how it ended and how long it took', async () => {
    const seen: Array<{ command: string; result: string; seconds: number }> = [];
    const metrics = {
      toolkitCommand: (command: string, result: string, seconds: number) =>
        seen.push({ command, result, seconds }),
    };
    const target = { environment: 'prod', worktreeDir: worktree, buildDir };
    await runner('echo', { metrics }).run('build', target);
    await failure(runner('fail503', { metrics }).run('diff', target));
    await failure(runner('failValidation', { metrics }).run('apply', target));
    const missing = path.join(tmp.dir, 'bin', 'not-installed');
    await failure(runner('echo', { metrics, executable: missing }).run('clean', target));
    await failure(runner('sleep', { metrics, timeouts: { diff: 300 } }).run('diff', target));
    const ac = new AbortController();
    const onLine = (l: string) => (l.startsWith('started') ? ac.abort() : undefined);
    await failure(runner('sleep', { metrics }).run('apply', { ...target, signal: ac.signal, onLine }));

    expect(seen.map(({ command, result }) => `${command} ${result}`)).toEqual([
      'build ok',
      'diff transient',
      'apply failed',
      'clean not_started',
      'diff timeout',
      'apply cancelled',
    ]);
    for (const { seconds } of seen) expect(seconds >= 0 && seconds < 10).toBe(true);
    // The timed-out command ran for its whole limit.
    expect(seen[4]!.seconds).toBeGreaterThanOrEqual(0.3);
  });
});

/**
 * The warm Toolkit runner (toolkit.warmRunner) is invisible to the command: the real `cdf` run warm prints the
 * same output and exits with the same code as a fresh `cdf`, each command sees its own env and cwd, cancellation
 * and timeouts end it, and a worker killed with SIGKILL leaves neither the helper nor its commands behind.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { runCommand, type CommandResult } from '../../activities/process/run-command';
import { toolkitInterpreter, WarmPythonPool } from '../../activities/process/warm-python';
import {
  type CliToolkitRunner,
  PER_COMMAND_ENV,
  type ToolkitOutput,
} from '../../activities/toolkit/toolkit-runner';
import { PromotionError } from '../../contracts/errors';
import { startFakeCdf, type RunningFakeCdf } from '../../fakes/cdf/server';
import { CDF_0_9 as CDF, demoToolkitRunners } from '../support/demo-toolkit-runners';

const ROOT = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'warm-runner-'));
const pool = new WarmPythonPool();
let fakeCdf: RunningFakeCdf;

/**
 * A stand-in console script of the installed Toolkit (same interpreter, same `from cognite_toolkit._cdf import
 * app`), which reports what the process sees instead of running the app, and then behaves as asked.
 */
const PROBE = path.join(dir, 'bin', 'cdf-probe');
const PROBE_SOURCE = (python: string): string => `#!${python}
import json, os, signal, stat, sys, time
if sys.argv[1:2] == ['sleep']:
    print('pid', os.getpid(), flush=True)
from cognite_toolkit._cdf import app
if __name__ == '__main__':
    import rich
    fd = lambda n: stat.S_IFMT(os.fstat(n).st_mode)
    print(json.dumps({
        'argv': sys.argv, 'cwd': os.getcwd(), 'env': dict(os.environ), 'path': sys.path,
        'file': __file__, 'main': __name__, 'sid': os.getsid(0) == os.getpid(), 'pgid': os.getpgid(0) == os.getpid(),
        'fds': [fd(0), fd(1), fd(2)], 'stdin': sys.stdin.read(), 'sigint': str(signal.getsignal(signal.SIGINT)),
        'sigterm': str(signal.getsignal(signal.SIGTERM)), 'sigpipe': str(signal.getsignal(signal.SIGPIPE)),
        'rich_cwd': rich._IMPORT_CWD, 'tz': time.tzname, 'pid': os.getpid(), 'orig_argv': sys.orig_argv,
    }, sort_keys=True), flush=True)
    what = sys.argv[1] if len(sys.argv) > 1 else ''
    if what == 'sleep':
        time.sleep(300)
    elif what == 'raise':
        raise RuntimeError('boom from the probe')
    elif what == 'exit-text':
        sys.exit('a message as the exit value')
    elif what.isdigit():
        sys.exit(int(what))
    else:
        sys.exit(app())
`;

const SHARED_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LANG: 'C.UTF-8',
  NO_COLOR: '1',
  COLUMNS: '200',
  TERM: 'dumb',
  SENTRY_ENABLED: 'false',
  PYTHONUNBUFFERED: '1',
  PYTEST_CURRENT_TEST: 'cdf-promotion-service',
};

const launcher = pool.launcher(SHARED_ENV, PER_COMMAND_ENV);

beforeAll(async () => {
  fakeCdf = await startFakeCdf({
    port: 0,
    stateFile: path.join(dir, 'fake-cdf.json'),
    projects: ['demo-prod'],
    logger: pino({ level: 'silent' }),
  });
  const python = toolkitInterpreter(CDF);
  expect(python).toBeDefined();
  mkdirSync(path.join(dir, 'bin'));
  writeFileSync(PROBE, PROBE_SOURCE(python!));
  chmodSync(PROBE, 0o755);
  // The helpers start in the background; the tests compare warm runs, so wait for both.
  expect(await pool.prewarm(CDF, SHARED_ENV, PER_COMMAND_ENV)).toBe(true);
  expect(await pool.prewarm(PROBE, SHARED_ENV, PER_COMMAND_ENV)).toBe(true);
});

afterAll(async () => {
  pool.close();
  await fakeCdf?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function both(
  argv: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ fresh: CommandResult; warm: CommandResult }> {
  const before = pool.stats.warm;
  const fresh = await runCommand(argv, { cwd, env, timeoutMs: 120_000 });
  const warm = await runCommand(argv, { cwd, env, timeoutMs: 120_000, launcher });
  expect(pool.stats.warm).toBe(before + 1);
  return { fresh, warm };
}

describe('what the command sees', () => {
  test('argv, env, cwd, stdio, session, signals and module state are those of a fresh process', async () => {
    const env = { ...SHARED_ENV, CDF_PROJECT: 'demo-prod', CDF_TOKEN: 'secret-token-1' };
    const { fresh, warm } = await both([PROBE, '0', 'an arg with spaces'], dir, env);
    const f = JSON.parse(fresh.stdout) as Record<string, unknown>;
    const w = JSON.parse(warm.stdout) as Record<string, unknown>;
    expect(f.pid).not.toBe(w.pid);
    delete f.pid;
    delete w.pid;
    expect(w).toEqual(f);
    expect(w).toMatchObject({ cwd: dir, sid: true, pgid: true, stdin: '', rich_cwd: dir });
    expect(warm.stderr).toBe(fresh.stderr);
    expect([warm.exitCode, warm.signal]).toEqual([0, null]);
  });

  test('two consecutive commands each see their own env and cwd', async () => {
    const other = path.join(dir, 'bin');
    const a = await runCommand([PROBE, '0'], {
      cwd: dir,
      env: { ...SHARED_ENV, CDF_PROJECT: 'project-a', IDP_CLIENT_SECRET: 'a-secret' },
      timeoutMs: 60_000,
      launcher,
    });
    const b = await runCommand([PROBE, '0'], {
      cwd: other,
      env: { ...SHARED_ENV, CDF_PROJECT: 'project-b' },
      timeoutMs: 60_000,
      launcher,
    });
    const [ea, eb] = [a, b].map((r) => JSON.parse(r.stdout) as { cwd: string; env: Record<string, string> });
    expect(ea!.cwd).toBe(dir);
    expect(eb!.cwd).toBe(other);
    expect(ea!.env).toEqual({ ...SHARED_ENV, CDF_PROJECT: 'project-a', IDP_CLIENT_SECRET: 'a-secret' });
    expect(eb!.env).toEqual({ ...SHARED_ENV, CDF_PROJECT: 'project-b' });
  });

  test('exit codes: a message as the exit value, an uncaught exception (traceback as Python prints it)', async () => {
    for (const what of ['exit-text', 'raise']) {
      const { fresh, warm } = await both([PROBE, what], dir, SHARED_ENV);
      expect([warm.exitCode, warm.signal]).toEqual([fresh.exitCode, fresh.signal]);
      expect(warm.stderr).toBe(fresh.stderr);
    }
  });

  test('an environment that differs beyond the per-command variables is spawned fresh', async () => {
    const before = { ...pool.stats };
    const r = await runCommand([PROBE, '0'], {
      cwd: dir,
      env: { ...SHARED_ENV, LANG: 'en_US.UTF-8' },
      timeoutMs: 60_000,
      launcher,
    });
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { env: Record<string, string> }).env.LANG).toBe('en_US.UTF-8');
    // The helper refuses it (a fresh interpreter would start with another locale): spawned fresh.
    expect(pool.stats).toEqual({ warm: before.warm, fresh: before.fresh + 1 });
  });
});

describe('ending a warm command', () => {
  const groupAlive = (pgid: number): boolean => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /** The probe prints `pid <n>` first thing when asked to sleep. */
  const pidOf = (r: CommandResult): number => Number(/^pid (\d+)$/m.exec(r.stdout)![1]);

  test('a timeout kills the warm child and its group', async () => {
    const r = await runCommand([PROBE, 'sleep'], { cwd: dir, env: SHARED_ENV, timeoutMs: 3_000, launcher });
    expect(r.timedOut).toBe(true);
    expect(r.signal).toBe('SIGTERM');
    expect(groupAlive(pidOf(r))).toBe(false);
  });

  test('cancellation kills the warm child', async () => {
    const abort = new AbortController();
    const r = await runCommand([PROBE, 'sleep'], {
      cwd: dir,
      env: SHARED_ENV,
      timeoutMs: 60_000,
      launcher,
      signal: abort.signal,
      onLine: () => abort.abort(),
    });
    expect(r.timedOut).toBe(false);
    expect(r.signal).toBe('SIGTERM');
    expect(groupAlive(pidOf(r))).toBe(false);
  });

  test('a worker killed with SIGKILL leaves neither the helper nor its command running', async () => {
    const registry = path.join(dir, 'processes');
    const script = `
      const { useProcessRegistry } = require('./activities/process/orphan-guard');
      const { runCommand } = require('./activities/process/run-command');
      const { WarmPythonPool } = require('./activities/process/warm-python');
      useProcessRegistry(${JSON.stringify(registry)});
      const pool = new WarmPythonPool();
      const env = ${JSON.stringify(SHARED_ENV)};
      pool.prewarm(${JSON.stringify(PROBE)}, env, []).then(() => {
        void runCommand([${JSON.stringify(PROBE)}, 'sleep'], {
          cwd: '/', env, timeoutMs: 600000, guardOrphans: true, launcher: pool.launcher(env, []),
          onLine: (line) => console.log(line),
        });
      });
      setInterval(() => {}, 1000);
    `;
    const worker = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const child = await new Promise<number>((resolve) =>
      worker.stdout.setEncoding('utf8').on('data', (c: string) => {
        const m = /^pid (\d+)$/m.exec(c);
        if (m) resolve(Number(m[1]));
      }),
    );
    const helper = Number(readFileSync(`/proc/${child}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    expect(readFileSync(`/proc/${helper}/cmdline`, 'utf8')).toContain('warm_cdf.py');
    expect(groupAlive(child)).toBe(true);
    worker.kill('SIGKILL');
    const gone = async (pid: number, group: boolean): Promise<boolean> => {
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(group ? -pid : pid, 0);
        } catch {
          return true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    };
    expect(await gone(child, true)).toBe(true);
    expect(await gone(helper, false)).toBe(true);
  });
});

describe('the real Toolkit, fresh and warm', () => {
  let runnerFresh: CliToolkitRunner;
  let runnerWarm: CliToolkitRunner;
  let repoDir: string;

  beforeAll(() => {
    ({
      repoDir,
      fresh: runnerFresh,
      warm: runnerWarm,
    } = demoToolkitRunners(dir, fakeCdf.url, pool, 'test-token-prod-0123456789'));
  });

  /** Timings and the run's own folders are the only things allowed to differ. */
  const normalise = (text: string): string =>
    text
      .replaceAll(dir, '<dir>')
      .replace(/\d+(\.\d+)?\s*(ms|s|seconds?)\b/g, '<t>')
      .replace(/\d{4}-\d\d-\d\dT?[\d:. ]+/g, '<time>');

  const run = async (
    runner: CliToolkitRunner,
    step: 'build' | 'diff',
    which: string,
    extraArgs?: string[],
  ): Promise<ToolkitOutput | { error: string; details: unknown }> => {
    try {
      return await runner.run(step, {
        environment: 'prod',
        worktreeDir: repoDir,
        buildDir: path.join(dir, 'build'),
        logDir: path.join(dir, `logs-${which}`),
        extraArgs,
      });
    } catch (err) {
      if (!(err instanceof PromotionError)) throw err;
      return { error: err.message, details: err.details };
    }
  };

  test('--version, build, deploy --dry-run against the sandbox and a failing command give the same results', async () => {
    const { fresh, warm } = await both([CDF, '--version'], repoDir, SHARED_ENV);
    expect(warm.stdout).toBe(fresh.stdout);
    expect(warm.exitCode).toBe(0);
    // The runner's commands share another environment than SHARED_ENV, hence another helper: the first command
    // starts it (and runs fresh meanwhile).
    await run(runnerWarm, 'build', 'warm');
    await pool.settled();

    for (const [step, extra] of [
      ['build', undefined],
      ['diff', undefined],
      ['diff', ['--no-such-option']],
    ] as const) {
      const before = pool.stats.warm;
      const f = await run(runnerFresh, step, 'fresh', extra ? [...extra] : undefined);
      const w = await run(runnerWarm, step, 'warm', extra ? [...extra] : undefined);
      expect(pool.stats.warm).toBe(before + 1);
      const norm = (r: typeof f): unknown =>
        'error' in r
          ? JSON.parse(normalise(JSON.stringify(r)))
          : { output: normalise(r.output.replaceAll('logs-fresh', 'logs-warm')), argv: r.argv.length };
      expect(norm(w)).toEqual(norm(f));
      if (step === 'diff' && !extra) expect((w as ToolkitOutput).output).toMatch(/Would create/);
      if (extra) expect('error' in w && w.error).toMatch(/exited with 2/);
    }
  });
});

/**
 * What the load benchmarks run against, all on this machine and on free ports: a Temporal dev server (in-memory
 * SQLite), the fake CDF with one project per environment (each holding one asset, so the smoke check makes a real
 * HTTP round trip), a one-commit configuration repository, and the worker as its own OS process (so its RSS can
 * be read) with the instant Toolkit (instant-toolkit.sh) as a custom command profile.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { startFakeCdf, type RunningFakeCdf } from '../../fakes/cdf/server';
import { emptyProject, type SandboxState } from '../../fakes/cdf/state-store';
import { startTemporal } from '../../test/helpers/temporal-server';
import { startWorkerProcess, type WorkerProcess } from '../../test/helpers/worker-process';
import { gitAs } from '../../scripts/demo-repo';
import { withWorkerProcessEnv } from '../../config/defaults';
import { freshWorkflowBundle, keyAndValue } from '../harness';

export const TASK_QUEUE = 'cdf-promotions-bench';
export const INSTANT_TOOLKIT = path.join(__dirname, 'instant-toolkit.sh');
export const APPROVER = 'bob';
export const REQUESTER = 'alice';

export interface LoadStackOptions {
  environments: number;
  /** worker.maxCachedWorkflows; absent: the configuration's default. */
  maxCachedWorkflows?: number;
  /** More environment variables for the worker process (`--worker-env`, `KEY=value,...`). */
  workerEnv?: Record<string, string>;
  /** Node and V8 flags for the worker process (`--worker-node-args`, `--flag=value,...`). */
  workerNodeArgs?: string[];
  /** Dynamic config of the dev server (`key=value`), to try its settings (`--server-config`). */
  serverConfig?: string[];
  /** worker.spawnHelper (`--spawn-helper off`); absent: the configuration's default. */
  spawnHelper?: boolean;
  /** worker.workflowThreads (`--threads N`); absent: the configuration's default. */
  workflowThreads?: number;
  /** A webhook every environment's notices and alerts go to (as an approver's chat would get them). */
  noticeUrl?: string;
}

export interface LoadStack {
  dir: string;
  env: TestWorkflowEnvironment;
  fakeCdf: RunningFakeCdf;
  worker: WorkerProcess;
  repo: string;
  commit: string;
  environments: string[];
  /** The worker process's resident set, from /proc (MB). */
  workerRssMb(): number;
  /**
   * CPU time (ms) of the worker, the commands it waited for, and its helper processes with the commands they
   * started (the spawn helper's commands are its children, not the worker's).
   */
  workerCpuMs(): number;
  /** The worker's last memory report (MB): JavaScript heap used and total, external, array buffers. */
  workerMemory(): { heapUsed: number; heapTotal: number; external: number; arrayBuffers: number } | undefined;
  stop(): Promise<void>;
}

export const environmentName = (i: number): string => `env-${String(i).padStart(4, '0')}`;

const git = (dir: string, args: string[]): string =>
  gitAs({ name: 'Bench', email: 'bench@example.com' }, dir, args);

/** A configuration repository with one commit and no cdf.toml: the profile's executable runs, no version pin. */
export function makeConfigRepo(dir: string): string {
  mkdirSync(path.join(dir, 'org'), { recursive: true });
  writeFileSync(path.join(dir, 'org', 'README.md'), 'bench configuration\n');
  git(dir, ['init', '-q', '-b', 'main']);
  git(dir, ['add', '.']);
  git(dir, ['commit', '-q', '-m', 'bench']);
  return git(dir, ['rev-parse', 'HEAD']);
}

/**
 * CPU time (ms) a process used, with the children it waited for (git, the Toolkit): /proc/<pid>/stat utime, stime,
 * cutime, cstime. Unlike wall times this hardly depends on what else runs on the machine.
 */
export function cpuMs(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14-17 of stat(5), counted from the state field (3) here.
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return (ticks * 1000) / 100;
}

/** The long-lived helper processes a worker started (spawn_helper.py, warm_cdf.py). */
function helpersOf(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return children.filter((c) => {
    try {
      return /spawn_helper\.py|warm_cdf\.py/.test(readFileSync(`/proc/${c}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
}

export function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

export async function startLoadStack(options: LoadStackOptions): Promise<LoadStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-promo-bench-'));
  const environments = Array.from({ length: options.environments }, (_, i) => environmentName(i));
  const projectOf = (e: string): string => `bench-${e}`;
  // The worker processes load the prebuilt bundle, as the tests do.
  await freshWorkflowBundle();

  // One asset per project: the smoke check "at least 1 asset" lists it through @cognite/sdk.
  const stateFile = path.join(dir, 'fake-cdf-state.json');
  const state: SandboxState = { version: 1, nextId: 2, projects: {} };
  for (const e of environments) {
    const now = Date.now();
    state.projects[projectOf(e)] = {
      ...emptyProject(),
      assets: {
        '1': { id: 1, externalId: 'pump_1', name: 'Pump 1', createdTime: now, lastUpdatedTime: now },
      },
    };
  }
  writeFileSync(stateFile, JSON.stringify(state));
  const fakeCdf = await startFakeCdf({
    port: 0,
    stateFile,
    projects: environments.map(projectOf),
    logger: pino({ level: 'silent' }),
  });
  const repo = path.join(dir, 'config-repo');
  mkdirSync(repo);
  const commit = makeConfigRepo(repo);

  const env = await startTemporal({ dynamicConfig: options.serverConfig });
  const config = {
    temporal: { address: env.address, namespace: 'default', taskQueue: TASK_QUEUE },
    repository: { url: repo, organizationDir: 'org' },
    dataDir: path.join(dir, 'data'),
    toolkit: {
      profile: 'custom',
      executable: INSTANT_TOOLKIT,
      custom: {
        build: ['{cdf}', 'build', '{buildDir}'],
        diff: ['{cdf}', 'diff', '{buildDir}'],
        apply: ['{cdf}', 'apply', '{buildDir}'],
      },
    },
    worker: {
      ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
      ...(options.spawnHelper !== undefined ? { spawnHelper: options.spawnHelper } : {}),
      ...(options.workflowThreads !== undefined ? { workflowThreads: options.workflowThreads } : {}),
    },
    environments: Object.fromEntries(
      environments.map((e) => [
        e,
        {
          cdfProject: projectOf(e),
          baseUrl: fakeCdf.url,
          credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN' },
          approval: { approvers: [APPROVER, 'carol'], requiredApprovals: 1 },
          smoke: { minAssets: 1 },
          ...(options.noticeUrl ? { alerts: [{ type: 'webhook', urlEnv: 'BENCH_NOTICE_URL' }] } : {}),
        },
      ]),
    ),
  };
  const configFile = path.join(dir, 'promotion.yaml');
  writeFileSync(configFile, stringifyYaml(config));
  let worker: WorkerProcess;
  try {
    worker = await startWorkerProcess(
      'bench-worker',
      configFile,
      {
        ...withWorkerProcessEnv({}),
        ...options.workerEnv,
        CDF_TOKEN: 'bench-token-0123456789',
        ...(options.noticeUrl ? { BENCH_NOTICE_URL: options.noticeUrl } : {}),
      },
      path.join(__dirname, 'worker-main.ts'),
      options.workerNodeArgs,
    );
  } catch (err) {
    await env.teardown();
    await fakeCdf.close();
    throw err;
  }
  return {
    dir,
    env,
    fakeCdf,
    worker,
    repo,
    commit,
    environments,
    workerRssMb: () => readRssMb(worker.pid),
    workerCpuMs: () => cpuMs(worker.pid) + helpersOf(worker.pid).reduce((sum, pid) => sum + cpuMs(pid), 0),
    workerMemory() {
      for (let i = worker.logs.length - 1; i >= 0; i--) {
        const l = worker.logs[i]!;
        if (l.msg === 'memory')
          return l as unknown as {
            heapUsed: number;
            heapTotal: number;
            external: number;
            arrayBuffers: number;
          };
      }
      return undefined;
    },
    async stop() {
      worker.killHard();
      await worker.exited;
      await env.teardown();
      await fakeCdf.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The stack options every load benchmark takes from the command line. */
export function commonStackOptions(options: Record<string, string | undefined>): Partial<LoadStackOptions> {
  const pairs = (v: string | undefined): string[] => (v ?? '').split(',').filter(Boolean);
  return {
    ...(options.cache !== undefined ? { maxCachedWorkflows: Number(options.cache) } : {}),
    ...(options['spawn-helper'] !== undefined ? { spawnHelper: options['spawn-helper'] !== 'off' } : {}),
    ...(options.threads !== undefined ? { workflowThreads: Number(options.threads) } : {}),
    workerEnv: Object.fromEntries(pairs(options['worker-env']).map(keyAndValue)),
    workerNodeArgs: pairs(options['worker-node-args']),
    serverConfig: pairs(options['server-config']),
  };
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(
  items: T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

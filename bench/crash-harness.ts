/**
 * The crash harness (issue 11): promotions and rollbacks in several environments at once, while a worker is
 * killed with a plain SIGKILL in every phase in turn and the Temporal dev server is restarted on the same SQLite
 * file. Every run must reach the outcome it would have reached without crashes, none may be lost, none may apply
 * without its approval, and no two `cdf deploy` may run at once against one CDF project.
 *
 * `npm run crash-harness -- --runs 200` runs it at full size; test/integration/crash-harness.test.ts at CI size.
 *
 * What it sets up: the fake CDF with one project per environment, a config repository with tags v1 and v2 (and a
 * Toolkit config file per environment), an alert receiver that answers slowly (the alerting window), two worker
 * processes sharing one data dir, and the real Toolkit. The profile is `custom`: build and dry-run call the
 * pinned `cdf` as the cdf profile does; the apply goes through bench/deploy-journal.sh, which records each
 * deploy per project and any deploy whose process group was still alive when another began.
 *
 * Kills are plain SIGKILLs of the worker's pid: its Toolkit processes are ended by the orphan guard
 * (activities/process/orphan-guard.ts), which is what is measured, not by the harness.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { stringify as stringifyYaml } from 'yaml';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { isWatchdogCommandLine } from '../activities/process/orphan-guard';
import { environmentWorkflowId } from '../contracts/environment-entity';
import { approveUpdate, rejectUpdate, statusQuery } from '../contracts/messages';
import { outcomeSearchAttribute, phaseSearchAttribute } from '../contracts/search-attributes';
import { PHASES, type Outcome, type Phase, type PromotionResult } from '../contracts/types';
import { FakeCdfAdmin } from '../fakes/cdf/admin-client';
import { startFakeCdf, type RunningFakeCdf } from '../fakes/cdf/server';
import { gitAs, pinToolkitVersion, DEMO_TOOLKIT_VERSIONS } from '../scripts/demo-repo';
import { startTemporal } from '../test/helpers/temporal-server';
import { freshWorkflowBundle } from './harness';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process';

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');
const TOOLKIT_CACHE = path.join(ROOT, 'data', 'toolkits');
const DEPLOY_JOURNAL = path.join(__dirname, 'deploy-journal.sh');
const TASK_QUEUE = 'cdf-promotions-crash';

/** The phases the issue names, in the order a run passes them. */
export const KILL_PHASES = [
  'preparing',
  'diffing',
  'awaiting_approval',
  'applying',
  'smoke_testing',
  'alerting',
] as const satisfies readonly Phase[];
export type KillPhase = (typeof KILL_PHASES)[number];
/**
 * The Toolkit steps: they heartbeat every 2 s with an 8 s heartbeat timeout (workflows/activity-options.ts), so
 * a dead worker's attempt moves to a live one within 10 s. The issue's target applies to these.
 */
const HEARTBEATING: ReadonlySet<string> = new Set(['buildAndDiff', 'applyPlan']);

type Scenario = 'approve' | 'approve-again' | 'reject' | 'rollback' | 'smoke-fail';

export interface CrashHarnessOptions {
  /** How many promotions and rollbacks in all. */
  runs: number;
  /** Environments that run at once (one of them has smoke checks that fail), at least 2. */
  lanes?: number;
  /** Dev server restarts, spread over the runs. */
  serverRestarts?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** How long one run may take before it counts as lost. */
  runTimeoutMs?: number;
  /** When aborted, no new run starts; the runs in flight finish and the report covers what ran. */
  signal?: AbortSignal;
  /** Kill only in these phases (default: all of KILL_PHASES in turn). */
  phases?: readonly KillPhase[];
}

export interface RunRecord {
  workflowId: string;
  environment: string;
  scenario: Scenario;
  expected: Outcome;
  outcome?: Outcome;
  /** The phase the harness meant to kill in, and the one the run was in when it did. */
  killTarget?: KillPhase;
  killedIn?: Phase;
  /** Approvals of a changed plan: the run's apply, cut short by a kill, found CDF other than the plan said. */
  reapprovals?: number;
  problems: string[];
}

export interface Resume {
  workflowId: string;
  phase: Phase;
  activityType: string;
  /** From the SIGKILL to the next attempt's start on a live worker. */
  ms: number;
  /** A Toolkit step (heartbeats every 2 s, 8 s heartbeat timeout): the 10 s target applies. */
  heartbeating: boolean;
}

export interface CrashReport {
  runs: RunRecord[];
  /** Runs planned in an environment that a lost run left stuck. */
  notRun: number;
  passed: number;
  failed: number;
  kills: Partial<Record<Phase, number>>;
  workerRestarts: number;
  serverRestarts: number;
  resumes: Resume[];
  /** Per kill: from the SIGKILL until no process the killed worker started was left (the orphan guard). */
  orphansEndedMs: number[];
  /** Processes of a killed worker still alive 10 s after the kill. */
  orphansSurvived: string[];
  deploys: number;
  overlaps: string[];
  /** Workflows (runs and environment entities) whose history shows a nondeterminism error. */
  nondeterminism: string[];
  /** Where the histories of those workflows were saved. */
  savedHistories?: string;
  durationMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const freePort = () =>
  new Promise<number>((resolve) => {
    const srv = createNetServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });

const git = (dir: string, args: string[]): string =>
  gitAs({ name: 'Crash Harness', email: 'crash@example.com' }, dir, args);

/** The demo repository (v1, v2), with a Toolkit config file per harness environment in both commits. */
function makeRepo(dir: string, environments: string[]): { v1: string; v2: string } {
  mkdirSync(dir, { recursive: true });
  git(dir, ['init', '--quiet', '--initial-branch=main']);
  cpSync(path.join(EXAMPLES, 'toolkit-project'), dir, { recursive: true });
  const template = readFileSync(path.join(dir, 'org', 'config.prod.yaml'), 'utf8');
  for (const env of environments)
    writeFileSync(
      path.join(dir, 'org', `config.${env}.yaml`),
      template.replace(/name: prod/, `name: ${env}`).replace(/project: demo-prod/, `project: ${env}`),
    );
  pinToolkitVersion(dir, DEMO_TOOLKIT_VERSIONS.first);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', 'v1']);
  git(dir, ['tag', 'v1']);
  cpSync(path.join(EXAMPLES, 'demo-changes'), dir, { recursive: true });
  pinToolkitVersion(dir, DEMO_TOOLKIT_VERSIONS.second);
  git(dir, ['add', '-A']);
  git(dir, ['commit', '--quiet', '-m', 'v2']);
  git(dir, ['tag', 'v2']);
  return { v1: git(dir, ['rev-parse', 'v1']), v2: git(dir, ['rev-parse', 'v2']) };
}

interface SlowReceiver {
  url: string;
  bodies: unknown[];
  close(): Promise<void>;
}

/** An alert webhook that takes its time to answer, so a kill can land while an alert is being delivered. */
async function startSlowReceiver(delayMs: number): Promise<SlowReceiver> {
  const bodies: unknown[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        try {
          bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          bodies.push(null);
        }
        res.writeHead(200).end('ok');
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface ProcRow {
  pid: number;
  ppid: number;
  stat: string;
  args: string;
}

function processes(): ProcRow[] {
  return execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => {
      const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(l);
      return m ? { pid: Number(m[1]), ppid: Number(m[2]), stat: m[3]!, args: m[4]! } : undefined;
    })
    .filter((r): r is ProcRow => r !== undefined);
}

function descendantsOf(pid: number, rows: ProcRow[]): ProcRow[] {
  const below: ProcRow[] = [];
  const walk = (parent: number): void => {
    for (const r of rows)
      if (r.ppid === parent && r.stat[0] !== 'Z') {
        below.push(r);
        walk(r.pid);
      }
  };
  walk(pid);
  return below;
}

/**
 * Those of `seen` still alive: same pid and same command line (pids are reused within seconds on a busy machine
 * with a small pid_max), and not a zombie (a container's pid 1 may never reap the processes it inherits).
 */
function living(seen: ProcRow[]): ProcRow[] {
  const args = new Map(seen.map((r) => [r.pid, r.args]));
  return processes().filter((r) => args.get(r.pid) === r.args && r.stat[0] !== 'Z');
}

/** Calls `fn` until it works: the dev server may be restarting. */
async function retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(300);
    }
  }
}

/** A lock for the harness's chaos: one kill or server restart at a time, so one worker is always alive. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const before = this.tail;
    let release!: () => void;
    this.tail = new Promise((r) => (release = r));
    await before;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

const p50 = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

export async function runCrashHarness(options: CrashHarnessOptions): Promise<CrashReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const laneCount = Math.max(2, options.lanes ?? 3);
  const restartsWanted = options.serverRestarts ?? 2;
  const runTimeoutMs = options.runTimeoutMs ?? 6 * 60_000;
  // One environment whose smoke checks cannot pass (it asks for more assets than the demo has): every run there
  // ends smoke_failed and alerts, so the alerting phase is crossed.
  const envs = [...Array.from({ length: laneCount - 1 }, (_, i) => `crash-${i + 1}`), 'crash-smoke'];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-crash-'));
  const journalDir = path.join(dir, 'deploys');
  mkdirSync(journalDir);
  const quiet = pino({ level: 'silent' });

  const fakeCdf: RunningFakeCdf = await startFakeCdf({
    port: 0,
    stateFile: path.join(dir, 'fake-cdf-state.json'),
    projects: envs,
    logger: quiet,
  });
  const admin = new FakeCdfAdmin(fakeCdf.url);
  // The smoke checks' transformation-job read is slow, so a kill can land while they run.
  await admin.addFault({
    method: 'GET',
    pathPattern: '^/transformations/jobs$',
    latencyMs: 2_000,
    count: -1,
  });
  const receiver = await startSlowReceiver(2_000);
  const repo = makeRepo(path.join(dir, 'config-repo'), envs);

  const cdfArgs = (verb: string[]): string[] => ['{toolkit}', '--no-override-env', ...verb];
  const raw = {
    temporal: { address: '', namespace: 'default', taskQueue: TASK_QUEUE },
    repository: { url: path.join(dir, 'config-repo'), organizationDir: 'org' },
    dataDir: path.join(dir, 'data'),
    toolkit: {
      profile: 'custom',
      custom: {
        build: cdfArgs([
          'build',
          '-o',
          '{orgDir}',
          '-c',
          '{configFile}',
          '-b',
          '{buildDir}',
          '--insight-format',
          'json',
        ]),
        diff: cdfArgs([
          'deploy',
          '{buildDir}',
          '--dry-run',
          '--cdf-project',
          '{cdfProject}',
          '--verbose',
          '--log-dir',
          '{logDir}',
        ]),
        apply: [
          DEPLOY_JOURNAL,
          journalDir,
          '{cdfProject}',
          ...cdfArgs(['deploy', '{buildDir}', '--cdf-project', '{cdfProject}', '--log-dir', '{logDir}']),
        ],
        clean: cdfArgs(['clean', '{buildDir}', '--cdf-project', '{cdfProject}', '--log-dir', '{logDir}']),
      },
      versions: { install: { cacheDir: TOOLKIT_CACHE } },
    },
    environments: Object.fromEntries(
      envs.map((env) => [
        env,
        {
          cdfProject: env,
          baseUrl: fakeCdf.url,
          credentials: { flow: 'token', tokenEnv: 'CDF_TOKEN_CRASH' },
          approval: {
            timeout: '1h',
            approvers: ['bob', 'carol'],
            requiredApprovals: 1,
            rollbackRequiresApproval: true,
          },
          smoke: {
            dataModels: [{ space: 'demo_space', externalId: 'PumpModel', version: 'v1' }],
            minAssets: env === 'crash-smoke' ? 1000 : 2,
            transformations: [{ externalId: 'pump_tr', window: '1h' }],
          },
          alerts: [{ type: 'webhook', name: 'ops-webhook', urlEnv: 'ALERT_WEBHOOK_URL' }],
          // v1 was never deployed in a lane that began with v2: rollbacks may take any commit on main.
          rollback: { allowBranch: 'main' },
        },
      ]),
    ),
  };

  const dbFilename = path.join(dir, 'temporal.db');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  raw.temporal.address = address;
  const configFile = path.join(dir, 'worker.yaml');
  writeFileSync(configFile, stringifyYaml(raw));

  let server: TestWorkflowEnvironment | undefined = await startTemporal({ dbFilename, port });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });

  const workerEnv = {
    CDF_TOKEN_CRASH: 'crash-harness-token-0123456789',
    ALERT_WEBHOOK_URL: `${receiver.url}/webhook`,
  };
  const workers: Array<WorkerProcess | undefined> = [undefined, undefined];
  const allWorkers: WorkerProcess[] = [];
  let generation = 0;
  const startWorker = async (slot: number): Promise<WorkerProcess> => {
    const w = await startWorkerProcess(`w${slot}-${generation++}`, configFile, workerEnv);
    workers[slot] = w;
    allWorkers.push(w);
    return w;
  };
  await Promise.all([startWorker(0), startWorker(1)]);

  const chaos = new Mutex();
  const report: CrashReport = {
    runs: [],
    notRun: 0,
    passed: 0,
    failed: 0,
    kills: {},
    workerRestarts: 0,
    serverRestarts: 0,
    resumes: [],
    orphansEndedMs: [],
    orphansSurvived: [],
    deploys: 0,
    overlaps: [],
    nondeterminism: [],
    durationMs: 0,
  };
  const background: Promise<unknown>[] = [];

  /** The phase a run is in, from its search attribute (no worker needed), and whether it has closed. */
  const phaseOf = async (h: WorkflowHandle): Promise<{ phase?: Phase; closed: boolean }> => {
    const d = await h.describe();
    const phase = d.typedSearchAttributes.get(phaseSearchAttribute) as Phase | undefined;
    return { phase, closed: d.status.name !== 'RUNNING' };
  };

  /**
   * SIGKILL for one worker process, its pid alone. Then: how long until the attempt it was running starts on a
   * live worker, how long until the processes it started are gone, and a new worker in its place.
   */
  const kill = async (h: WorkflowHandle, rec: RunRecord): Promise<void> => {
    const d = await retrying('describe', () => h.describe());
    const phase = d.typedSearchAttributes.get(phaseSearchAttribute) as Phase | undefined;
    if (d.status.name !== 'RUNNING' || !phase || phase === 'done') return;
    // The step's own activity (diff, apply, smoke checks) before a notice that may be in flight beside it.
    const started = (d.raw.pendingActivities ?? []).filter((a) => a.lastWorkerIdentity);
    const pending =
      started.find((a) => HEARTBEATING.has(a.activityType?.name ?? '')) ??
      started.find((a) => a.activityType?.name !== 'sendNotice') ??
      started[0];
    const live = workers.filter((w): w is WorkerProcess => w !== undefined);
    // The worker running the run's activity, if any; else the one that last worked on the run.
    let victim = live.find((w) => pending?.lastWorkerIdentity?.startsWith(`${w.pid}@`));
    victim ??= [...live].sort(
      (a, b) =>
        b.logs.filter((l) => l.workflowId === h.workflowId).length -
        a.logs.filter((l) => l.workflowId === h.workflowId).length,
    )[0]!;
    const slot = workers.indexOf(victim);
    if (process.env.CRASH_DEBUG)
      log(
        `  pending: ${JSON.stringify(d.raw.pendingActivities ?? [])}; workers ${live.map((w) => w.pid).join(',')}`,
      );
    const below = descendantsOf(victim.pid, processes());
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    await victim.exited;
    rec.killedIn = phase;
    report.kills[phase] = (report.kills[phase] ?? 0) + 1;
    workers[slot] = undefined;
    log(
      `kill ${victim.name} (pid ${victim.pid}) in ${phase} of ${h.workflowId}; ${below.length} processes below it`,
    );

    // The orphan guard must end the commands the dead worker started (the Toolkit and its wrappers); its
    // watchdogs exit on their own a little later, and must not linger either.
    // A command's own watchdog and the registry's: the registry's stays 3 s after its SIGTERM to send the SIGKILL,
    // which is not a command outliving the worker (it was once counted as one).
    const isWatchdog = (r: ProcRow): boolean => isWatchdogCommandLine(r.args);
    const commands = below.filter((r) => !isWatchdog(r));
    const watchdogs = below.filter(isWatchdog);
    background.push(
      (async () => {
        let commandsGone = commands.length === 0;
        for (;;) {
          if (!commandsGone && living(commands).length === 0) {
            commandsGone = true;
            report.orphansEndedMs.push(Date.now() - killedAt);
          }
          if (commandsGone && living(watchdogs).length === 0) return;
          if (Date.now() - killedAt > 10_000) {
            const left = living([...commands, ...watchdogs]);
            report.orphansSurvived.push(
              ...left.map((l) => `kill in ${phase} of ${h.workflowId}: ${l.pid} ${l.args.slice(0, 200)}`),
            );
            return;
          }
          await sleep(100);
        }
      })(),
    );

    const activityId =
      pending && victim && pending.lastWorkerIdentity?.startsWith(`${victim.pid}@`)
        ? pending.activityId
        : undefined;
    const attempt = pending?.attempt ?? 0;
    const activityType = pending?.activityType?.name ?? '';
    if (activityId) {
      background.push(
        (async () => {
          const deadline = killedAt + 120_000;
          while (Date.now() < deadline) {
            let desc;
            try {
              desc = await h.describe();
            } catch {
              await sleep(200);
              continue;
            }
            const now = (desc.raw.pendingActivities ?? []).find((a) => a.activityId === activityId);
            if (process.env.CRASH_DEBUG)
              log(
                `  ${h.workflowId} ${activityType}: attempt ${now?.attempt} state ${now?.state} started ${now?.lastStartedTime?.seconds} hb ${now?.lastHeartbeatTime?.seconds} by ${now?.lastWorkerIdentity} failure ${now?.lastFailure?.message}`,
              );
            const startedAt = now?.lastStartedTime?.seconds
              ? Number(now.lastStartedTime.seconds) * 1000 +
                Math.floor((now.lastStartedTime.nanos ?? 0) / 1e6)
              : undefined;
            if (now && (now.attempt ?? 0) > attempt && startedAt && startedAt >= killedAt) {
              report.resumes.push({
                workflowId: h.workflowId,
                phase,
                activityType,
                ms: startedAt - killedAt,
                heartbeating: HEARTBEATING.has(activityType),
              });
              return;
            }
            if (!now || desc.status.name !== 'RUNNING') {
              // Done before a poll saw the new attempt: its start is in the history.
              const history = await retrying('history', () => h.fetchHistory());
              const scheduled = history.events?.find(
                (e) => e.activityTaskScheduledEventAttributes?.activityId === activityId,
              )?.eventId;
              const ev = history.events?.find(
                (e) =>
                  scheduled !== undefined &&
                  scheduled !== null &&
                  String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled) &&
                  (e.activityTaskStartedEventAttributes?.attempt ?? 0) > attempt,
              );
              if (ev?.eventTime?.seconds) {
                const at = Number(ev.eventTime.seconds) * 1000 + Math.floor((ev.eventTime.nanos ?? 0) / 1e6);
                report.resumes.push({
                  workflowId: h.workflowId,
                  phase,
                  activityType,
                  ms: at - killedAt,
                  heartbeating: HEARTBEATING.has(activityType),
                });
              }
              return;
            }
            await sleep(100);
          }
          rec.problems.push(`the ${activityType} attempt of the killed worker never started again`);
        })(),
      );
    }

    await startWorker(slot);
    report.workerRestarts += 1;
  };

  /**
   * Holds the chaos lock from the phase before the target (so another lane's kill cannot make this one miss a
   * short window), waits for the target phase, and kills there. Gives up when the run went past it.
   */
  const reserveKill = (
    handle: () => WorkflowHandle | undefined,
    rec: RunRecord,
    onHeld: () => void,
  ): Promise<void> =>
    chaos.run(async () => {
      onHeld();
      const target = rec.killTarget!;
      const order = (p: Phase | undefined): number => (p ? PHASES.indexOf(p) : -1);
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const h = handle();
        if (h) {
          let state;
          try {
            state = await phaseOf(h);
          } catch {
            await sleep(200);
            continue;
          }
          if (state.closed || order(state.phase) > order(target)) return;
          if (state.phase === target) {
            await kill(h, rec);
            return;
          }
        }
        await sleep(50);
      }
    });

  /** Drives one run to its end: a kill at its phase, the decision a person would take, the result. */
  const drive = async (
    rec: RunRecord,
    start: () => Promise<WorkflowHandle>,
    decision: 'approve' | 'reject',
  ): Promise<void> => {
    // Where the kill takes the chaos lock: at a point the run waits for the harness (before it starts, or while it
    // waits for approval), so waiting for the lock never makes it miss its phase.
    const reserveAt: Record<KillPhase, Phase | 'start'> = {
      preparing: 'start',
      diffing: 'start',
      awaiting_approval: 'awaiting_approval',
      applying: 'awaiting_approval',
      smoke_testing: 'awaiting_approval',
      alerting: 'awaiting_approval',
    };
    const started: { h?: WorkflowHandle } = {};
    let held = false;
    let reservation: Promise<void> | undefined;
    const reserve = (): void => {
      reservation = reserveKill(
        () => started.h,
        rec,
        () => (held = true),
      );
    };
    if (rec.killTarget && reserveAt[rec.killTarget] === 'start') {
      reserve();
      while (!held) await sleep(50);
    }
    const h = await retrying('start', start);
    started.h = h;
    const deadline = Date.now() + runTimeoutMs;
    /** The plan approved last: a run whose plan changed after a crash asks again, and is approved again. */
    let decidedFor: string | undefined;
    for (;;) {
      if (Date.now() > deadline) {
        rec.problems.push(`lost: still open after ${runTimeoutMs / 1000} s`);
        return;
      }
      let state;
      try {
        state = await phaseOf(h);
      } catch {
        await sleep(300);
        continue;
      }
      if (state.closed) break;
      if (rec.killTarget && !reservation && state.phase === reserveAt[rec.killTarget]) reserve();
      // Approve only once the kill planned at or after the approval holds the lock (or is done).
      const waitForKill =
        (rec.killTarget === 'awaiting_approval' && !rec.killedIn) ||
        (reserveAt[rec.killTarget!] === 'awaiting_approval' && !held);
      if (state.phase === 'awaiting_approval' && !waitForKill) {
        try {
          const status = await h.query(statusQuery);
          if (status.phase === 'awaiting_approval' && status.planHash !== decidedFor) {
            if (decidedFor !== undefined) rec.reapprovals = (rec.reapprovals ?? 0) + 1;
            if (decision === 'approve')
              await h.executeUpdate(approveUpdate, {
                args: [{ approver: 'bob', planHash: status.planHash! }],
              });
            else
              await h.executeUpdate(rejectUpdate, {
                args: [{ approver: 'carol', reason: 'crash harness says no' }],
              });
            decidedFor = status.planHash;
          }
        } catch {
          // A worker or the server is restarting: ask again.
        }
      }
      await sleep(150);
    }
    await reservation;
    let result: PromotionResult | undefined;
    try {
      result = await retrying('result', () => h.result() as Promise<PromotionResult>);
    } catch (err) {
      rec.problems.push(`failed: ${(err as Error).message.slice(0, 300)}`);
      return;
    }
    rec.outcome = result.outcome;
    if (result.outcome !== rec.expected)
      rec.problems.push(
        `outcome ${result.outcome}, expected ${rec.expected}${result.failure ? ` (${result.failure.slice(0, 200)})` : ''}; plan ${JSON.stringify(result.planSummary?.totals ?? null)}`,
      );
    const d = await retrying('describe', () => h.describe());
    if (d.typedSearchAttributes.get(outcomeSearchAttribute) !== result.outcome)
      rec.problems.push('the PromotionOutcome search attribute differs from the result');
    await checkApprovalOrder(h, rec);
    if (
      rec.expected === 'smoke_failed' &&
      !receiver.bodies.some((b) => JSON.stringify(b).includes(rec.workflowId))
    )
      rec.problems.push('smoke_failed without an alert');
  };

  /** The apply never starts before the approval was accepted; a rejected run never applies. */
  const checkApprovalOrder = async (h: WorkflowHandle, rec: RunRecord): Promise<void> => {
    const history = await retrying('history', () => h.fetchHistory());
    let approvedAt: number | undefined;
    let index = 0;
    for (const e of history.events ?? []) {
      index++;
      const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name;
      const signalled = e.workflowExecutionSignaledEventAttributes?.signalName;
      if (approvedAt === undefined && (accepted === 'approve' || signalled === 'approve')) approvedAt = index;
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'applyPlan') {
        if (approvedAt === undefined) rec.problems.push('applyPlan scheduled before any approval');
        if (rec.expected === 'rejected') rec.problems.push('a rejected run scheduled applyPlan');
      }
    }
  };

  // ---- the plan of runs ----------------------------------------------------------------------------------
  const killCounts: Record<KillPhase, number> = Object.fromEntries(KILL_PHASES.map((p) => [p, 0])) as Record<
    KillPhase,
    number
  >;
  const visits: Record<Scenario, KillPhase[]> = {
    approve: ['preparing', 'diffing', 'awaiting_approval', 'applying', 'smoke_testing'],
    'approve-again': ['preparing', 'diffing'],
    reject: ['preparing', 'diffing', 'awaiting_approval'],
    rollback: ['preparing', 'diffing', 'awaiting_approval', 'applying', 'smoke_testing'],
    'smoke-fail': [...KILL_PHASES],
  };
  /** The phase this run's visits have seen killed least; ties go to the later phase (the rarer windows). */
  const pickKill = (scenario: Scenario): KillPhase | undefined => {
    const allowed = options.phases ?? KILL_PHASES;
    const choices = [...visits[scenario]].reverse().filter((p) => allowed.includes(p));
    if (choices.length === 0) return undefined;
    const least = Math.min(...choices.map((p) => killCounts[p]));
    const pick = choices.find((p) => killCounts[p] === least)!;
    killCounts[pick] += 1;
    return pick;
  };

  let completed = 0;
  let seq = 0;
  const perLane = Array.from(
    { length: laneCount },
    (_, i) => Math.floor(options.runs / laneCount) + (i < options.runs % laneCount ? 1 : 0),
  );
  const restartAt = Array.from({ length: restartsWanted }, (_, k) =>
    Math.max(1, Math.floor(((k + 1) * options.runs) / (restartsWanted + 1))),
  );

  const restartServer = async (): Promise<void> => {
    await chaos.run(async () => {
      log(`restart the dev server (${completed} runs done)`);
      await server?.teardown();
      server = undefined;
      server = await startTemporal({ dbFilename, port });
      report.serverRestarts += 1;
    });
  };
  // Restarts happen while runs are in flight: when enough runs have ended, not between lanes.
  const restarts = (async () => {
    for (const at of restartAt) {
      while (completed < at) await sleep(250);
      await restartServer();
    }
  })();

  const lane = async (laneIndex: number): Promise<void> => {
    const environment = envs[laneIndex]!;
    const smokeLane = environment === 'crash-smoke';
    for (let i = 0; i < perLane[laneIndex]!; i++) {
      if (options.signal?.aborted) {
        report.notRun += perLane[laneIndex]! - i;
        completed += perLane[laneIndex]! - i;
        return;
      }
      // Ordinary lanes: v2, v2 again (nothing to change), then the cycle v1 rejected, rollback to v1, v2. Only a
      // first v2 has a redeploy with nothing to change: after v1 then v2, the Toolkit's dry-run against the fake
      // CDF reports one update on every redeploy of v2 (crashes or not).
      const scenario: Scenario = smokeLane
        ? 'smoke-fail'
        : i === 0
          ? 'approve'
          : i === 1
            ? 'approve-again'
            : (['reject', 'rollback', 'approve'] as const)[(i - 2) % 3]!;
      const ref = smokeLane ? (i % 2 ? 'v2' : 'v1') : scenario === 'reject' ? 'v1' : 'v2';
      const expected: Outcome =
        scenario === 'smoke-fail'
          ? 'smoke_failed'
          : scenario === 'approve-again'
            ? 'no_changes'
            : scenario === 'reject'
              ? 'rejected'
              : 'succeeded';
      const workflowId = `crash-${environment}-${i}-${(seq++).toString(36)}-${Date.now().toString(36)}`;
      const rec: RunRecord = {
        workflowId,
        environment,
        scenario,
        expected,
        killTarget: pickKill(scenario),
        problems: [],
      };
      report.runs.push(rec);
      const startRun = (): Promise<WorkflowHandle> =>
        scenario === 'rollback'
          ? client.workflow.start('rollbackWorkflow', {
              taskQueue: TASK_QUEUE,
              workflowId,
              workflowIdConflictPolicy: 'USE_EXISTING',
              args: [
                { environment, commit: repo.v1, requestedBy: 'alice', reason: 'crash harness rollback' },
              ],
            })
          : client.workflow.start('promotionWorkflow', {
              taskQueue: TASK_QUEUE,
              workflowId,
              workflowIdConflictPolicy: 'USE_EXISTING',
              args: [
                {
                  environment,
                  ref,
                  requestedBy: 'alice',
                  reason: `crash harness: ${scenario}`,
                  // A commit rolled away from is quarantined here; the harness promotes it again on purpose.
                  override: { reason: 'crash harness' },
                },
              ],
            });
      await drive(rec, startRun, scenario === 'reject' ? 'reject' : 'approve');
      completed += 1;
      const verdict = rec.problems.length ? `FAILED: ${rec.problems.join('; ')}` : 'ok';
      log(
        `${workflowId}: ${rec.outcome ?? '?'} (kill ${rec.killTarget} -> ${rec.killedIn ?? 'missed'}) ${verdict}`,
      );
      const ended = report.runs.filter((r) => r.outcome !== undefined || r.problems.length).length;
      if (ended % 10 === 0) {
        const ok = report.runs.filter((r) => r.outcome !== undefined && !r.problems.length).length;
        const toolkit = report.resumes.filter((x) => x.heartbeating).map((x) => x.ms);
        log(
          `-- ${ended} runs ended: ${ok} ok, ${ended - ok} with problems; kills ${JSON.stringify(report.kills)}; Toolkit step resumes p50 ${p50(toolkit)} ms max ${Math.max(...toolkit)} ms; server restarts ${report.serverRestarts}`,
        );
      }
      if (rec.problems.some((p) => p.startsWith('lost'))) {
        // The environment is stuck (its next runs would wait forever behind this one): stop this lane.
        report.notRun += perLane[laneIndex]! - i - 1;
        completed += perLane[laneIndex]! - i - 1;
        log(`${environment}: stopped after a lost run; ${perLane[laneIndex]! - i - 1} runs not started`);
        return;
      }
    }
  };

  try {
    await Promise.all(envs.map((_, i) => lane(i)));
    completed = Number.MAX_SAFE_INTEGER;
    await restarts;
    await Promise.all(background);

    // No promotion or rollback may be left open.
    const open: string[] = [];
    for await (const wf of client.workflow.list({
      query: `ExecutionStatus = "Running" AND (WorkflowType = "promotionWorkflow" OR WorkflowType = "rollbackWorkflow")`,
    }))
      open.push(wf.workflowId);
    for (const rec of report.runs)
      if (open.includes(rec.workflowId)) rec.problems.push('still running at the end');

    // Deploys per project: none may begin while another's process group lives.
    for (const env of envs) {
      const file = path.join(journalDir, `${env}.journal`);
      if (!existsSync(file)) continue;
      const lines = readFileSync(file, 'utf8').trim().split('\n');
      report.deploys += lines.filter((l) => / start /.test(l)).length;
      for (const l of lines.filter((l) => / overlap /.test(l))) report.overlaps.push(`${env}: ${l}`);
      for (const rec of report.runs.filter((r) => r.environment === env && r.expected === 'rejected'))
        if (lines.some((l) => / start /.test(l) && l.includes(rec.workflowId)))
          rec.problems.push('a rejected run ran cdf deploy');
    }
    // A replay that disagrees with history is a bug even when the run still ended well: it stalls the workflow.
    const checked = [
      ...report.runs.map((r) => r.workflowId),
      ...envs.map((env) => environmentWorkflowId(env, TASK_QUEUE)),
    ];
    for (const id of checked) {
      const history = await retrying('history', () => client.workflow.getHandle(id).fetchHistory()).catch(
        () => undefined,
      );
      // [TMPRL1100] is the SDK's nondeterminism error (the task failure's cause says the same).
      const failed = history?.events?.find((e) =>
        /TMPRL1100|[Nn]ondeterminism/.test(e.workflowTaskFailedEventAttributes?.failure?.message ?? ''),
      );
      if (!history || !failed) continue;
      report.nondeterminism.push(
        `${id}: ${failed.workflowTaskFailedEventAttributes?.failure?.message?.slice(0, 200) ?? ''}`,
      );
      report.savedHistories ??= mkdtempSync(path.join(os.tmpdir(), 'cdf-crash-histories-'));
      writeFileSync(path.join(report.savedHistories, `${id}.json`), historyToJSON(history));
    }
    for (const n of report.nondeterminism) {
      const owner = report.runs.find((r) => n.startsWith(`${r.workflowId}:`)) ?? report.runs[0];
      owner?.problems.push(`nondeterminism: ${n}`);
    }
    if (report.overlaps.length)
      report.runs[0]?.problems.push(`overlapping deploys: ${report.overlaps.join(' | ')}`);
    if (report.orphansSurvived.length)
      report.runs[0]?.problems.push(`processes outlived their worker: ${report.orphansSurvived.join(' | ')}`);
  } finally {
    for (const w of workers) if (w) w.killHard();
    await Promise.all(allWorkers.map((w) => w.exited));
    await connection.close().catch(() => undefined);
    await server?.teardown().catch(() => undefined);
    await fakeCdf.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
  report.passed = report.runs.filter((r) => r.problems.length === 0).length;
  report.failed = report.runs.length - report.passed;
  report.durationMs = Date.now() - started;
  return report;
}

/** The summary the issue asks for: "N passed, N failed", kills per phase, restarts, kill-to-resume times. */
export function formatReport(r: CrashReport): string {
  const ms = (x: number) => (Number.isFinite(x) ? `${(x / 1000).toFixed(1)} s` : '-');
  const resumes = r.resumes.filter((x) => x.heartbeating).map((x) => x.ms);
  const others = new Map<string, number[]>();
  for (const x of r.resumes.filter((x) => !x.heartbeating))
    others.set(x.activityType, [...(others.get(x.activityType) ?? []), x.ms]);
  const lines = [
    `${r.passed} passed, ${r.failed} failed (${r.runs.length} runs in ${ms(r.durationMs)}${r.notRun ? `; ${r.notRun} not started` : ''})`,
    `kills: ${Object.values(r.kills).reduce((a, b) => a + (b ?? 0), 0)} (${KILL_PHASES.map((p) => `${p} ${r.kills[p] ?? 0}`).join(', ')}); worker restarts: ${r.workerRestarts}; server restarts: ${r.serverRestarts}`,
    `kill -> next attempt on a live worker (Toolkit steps buildAndDiff/applyPlan, ${resumes.length} kills): p50 ${ms(p50(resumes))}, max ${ms(Math.max(...resumes))} (target <= 10 s)`,
    ...[...others].map(
      ([type, xs]) =>
        `  other steps: ${type} (${xs.length} kills): p50 ${ms(p50(xs))}, max ${ms(Math.max(...xs))}`,
    ),
    `Toolkit processes of a killed worker gone after (${r.orphansEndedMs.length} kills with some running): p50 ${ms(p50(r.orphansEndedMs))}, max ${ms(Math.max(...r.orphansEndedMs))}; outlived it: ${r.orphansSurvived.length}`,
    `cdf deploy runs: ${r.deploys}; overlapping on one project: ${r.overlaps.length}; runs whose plan changed after a kill and were approved again: ${r.runs.filter((x) => x.reapprovals).length}`,
    `nondeterminism errors: ${r.nondeterminism.length}${r.savedHistories ? ` (histories in ${r.savedHistories})` : ''}`,
  ];
  for (const run of r.runs.filter((x) => x.problems.length))
    lines.push(
      `  FAILED ${run.workflowId} (${run.scenario}, kill in ${run.killedIn ?? 'none'}): ${run.problems.join('; ')}`,
    );
  return lines.join('\n');
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  await freshWorkflowBundle();
  const i = process.argv.indexOf('--phases');
  const phasesArg = i >= 0 ? process.argv[i + 1] : undefined;
  // Ctrl-C (or SIGTERM): no new runs; those in flight finish, and the report covers what ran.
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      console.log(`${sig}: finishing the runs in flight, then the report`);
      stop.abort();
    });
  const report = await runCrashHarness({
    signal: stop.signal,
    runs: arg('runs', 200),
    lanes: arg('lanes', 4),
    serverRestarts: arg('server-restarts', 2),
    ...(phasesArg ? { phases: phasesArg.split(',') as KillPhase[] } : {}),
    log: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  });
  console.log(
    `\nload average at the end: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(formatReport(report));
  if (report.failed > 0 || report.notRun > 0 || report.resumes.some((x) => x.heartbeating && x.ms > 10_000))
    process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

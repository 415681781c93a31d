/**
 * Worker OS processes for tests: started from test/support/worker-main.ts with a configuration file and an
 * environment of their own, their JSON log lines kept for the test to read, and a hard kill that takes the
 * Toolkit processes they started along (they run in process groups of their own, so a SIGKILL of the worker
 * alone would leave them running, unlike a machine that dies).
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'test', 'support', 'worker-main.ts');

export interface LogLine {
  msg?: string;
  level?: number;
  workflowId?: string;
  activityType?: string;
  attempt?: number;
  [key: string]: unknown;
}

export interface WorkerProcess {
  name: string;
  pid: number;
  logs: LogLine[];
  /** Everything the process wrote that was not a JSON log line (start-up errors). */
  otherOutput(): string;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGKILL for the worker and every process under it, at once. */
  killHard(): void;
  /** SIGTERM and wait for the exit (a graceful shutdown). */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

/** The pids of every process below `pid`, from `ps` (Linux and macOS). */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const below: number[] = [];
  const walk = (parent: number): void => {
    for (const [child, ppid] of rows)
      if (ppid === parent) {
        below.push(child);
        walk(child);
      }
  };
  walk(pid);
  return below;
}

export async function startWorkerProcess(
  name: string,
  configFile: string,
  env: NodeJS.ProcessEnv,
  /** Another entry module (the benchmarks add memory reports to the same start-up). */
  entry = ENTRY,
  /** Node and V8 flags for the worker process (before its entry module). */
  nodeArgs: string[] = [],
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '-r', 'tsx/cjs', entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      LANG: process.env.LANG,
      LOG_LEVEL: 'info',
      ...env,
      CDF_PROMOTION_CONFIG: configFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  let other = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        other = (other + line + '\n').slice(-4000);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    other = (other + chunk).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));

  const waitForLog = async (predicate: (l: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = logs.find(predicate);
      if (hit) return hit;
      if (gone) throw new Error(`worker ${name} exited before the expected log line:\n${other}`);
      if (Date.now() > deadline)
        throw new Error(`worker ${name}: no matching log line after ${timeoutMs} ms:\n${other}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const worker: WorkerProcess = {
    name,
    pid: child.pid!,
    logs,
    otherOutput: () => other,
    waitForLog,
    killHard() {
      if (gone) return;
      // Listed first: once the worker is dead its children are re-parented and no longer found under it.
      const below = descendants(child.pid!);
      for (const pid of [child.pid!, ...below]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    },
    async stop() {
      if (gone) return;
      child.kill('SIGTERM');
      await exited;
    },
    exited,
  };
  await waitForLog((l) => l.msg === 'worker started', 90_000);
  return worker;
}

/**
 * External commands must never outlive the worker that started them: a `cdf deploy` left running by a dead worker
 * would deploy at the same time as the retry on another worker, against the same CDF project.
 *
 * Two guards. Each command's process group is registered in a folder, and a watchdog (a tiny detached Node
 * process) ends the registered groups of its worker as soon as the worker's pid is gone, whatever killed the
 * worker (SIGKILL included, which no handler in the worker sees). And at start a worker ends the registered groups
 * whose worker is dead (the watchdog may have been killed with it, or the machine's PID namespace was restarted).
 *
 * The watchdog is running before a command starts, and every command carries its worker's mark in its environment:
 * a worker killed between starting a command and registering its group leaves a command the watchdog still finds,
 * by that mark in /proc (the crash harness saw that gap once in 60 kills when the watchdog came after the command).
 *
 * One watchdog serves all the commands of a worker's registry: a Node process costs about 50 ms of CPU to start,
 * more than a quick Toolkit command itself, and a promotion runs four commands. Without a registry each command
 * gets a watchdog of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The process groups of the processes whose environment holds `mark` (Linux /proc; nothing elsewhere). */
const MARKED_GROUPS_SOURCE = `
const markedGroups = (mark) => {
  const groups = [];
  let pids = [];
  try { pids = fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)); } catch {}
  for (const pid of pids) {
    try {
      if (!fs.readFileSync('/proc/' + pid + '/environ', 'latin1').split('\\0').includes(mark)) continue;
      const stat = fs.readFileSync('/proc/' + pid + '/stat', 'latin1');
      const g = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (g > 1 && !groups.includes(g)) groups.push(g);
    } catch {}
  }
  return groups;
};
`;

/**
 * A command's own watchdog (no registry): polls the worker's pid; when it is gone, SIGTERM to the command's group
 * (told on stdin once the command runs, or found by the command's mark), SIGKILL 3 s later. The worker ends it when
 * the command is over.
 */
const WATCHDOG_SOURCE = `
const fs = require('fs');
const [ppid, mark] = [Number(process.argv[1]), process.argv[2]];
let pgid = 0;
process.stdin.setEncoding('utf8').on('data', (d) => { const n = parseInt(d, 10); if (n > 1) pgid = n; });
process.stdin.on('error', () => {});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
${MARKED_GROUPS_SOURCE}
const end = (sig) => { for (const g of new Set([...(pgid ? [pgid] : []), ...markedGroups(mark)])) { try { process.kill(-g, sig); } catch {} } };
const timer = setInterval(() => {
  if (!alive(ppid)) {
    clearInterval(timer);
    end('SIGTERM');
    setTimeout(() => { end('SIGKILL'); process.exit(0); }, 3000);
  }
}, 250);
`;

/**
 * The watchdog of a worker's registry: polls the worker's pid; when it is gone, SIGTERM to every group the
 * registry holds for that worker and every group carrying the worker's mark, SIGKILL 3 s later, and their records
 * are removed. Exits then, or when the registry folder is gone (a test's temporary data dir).
 */
const REGISTRY_WATCHDOG_SOURCE = `
const fs = require('fs'), path = require('path');
const ppid = Number(process.argv[1]), dir = process.argv[2], mark = process.argv[3];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
${MARKED_GROUPS_SOURCE}
const groups = () => {
  const out = markedGroups(mark).map((pgid) => ({ pgid }));
  let names = [];
  try { names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')); } catch { return out; }
  for (const name of names) {
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
      if (r.workerPid === ppid && Number.isInteger(r.pgid) && r.pgid > 1) out.push({ pgid: r.pgid, file: path.join(dir, name) });
    } catch {}
  }
  return out;
};
const end = (pgid, sig) => { try { process.kill(-pgid, sig); } catch {} };
const timer = setInterval(() => {
  if (!fs.existsSync(dir)) process.exit(0);
  if (alive(ppid)) return;
  clearInterval(timer);
  const left = groups().filter((g) => alive(-g.pgid));
  if (!left.length) process.exit(0);
  for (const g of left) end(g.pgid, 'SIGTERM');
  setTimeout(() => {
    for (const g of left) { end(g.pgid, 'SIGKILL'); if (g.file) { try { fs.rmSync(g.file, { force: true }); } catch {} } }
    process.exit(0);
  }, 3000);
}, 250);
`;

/** The environment variable that marks a guarded command for its watchdog. */
export const GUARD_MARK_VARIABLE = 'CDF_PROMOTE_GUARD';
/** This worker process's mark: every command it guards carries it while a registry is in use. */
const WORKER_MARK = randomUUID();

let registryDir: string | undefined;

/** Where this worker registers its commands' process groups (`<dataDir>/processes`); unset: no registry. */
export function useProcessRegistry(dir: string | undefined): void {
  registryDir = dir;
  if (dir) mkdirSync(dir, { recursive: true });
}

export interface GroupRecord {
  pgid: number;
  workerPid: number;
  command: string;
  startedAt: string;
}

export interface Guard {
  /** To add to the command's environment before it is started. */
  env: Record<string, string>;
  /** Once the command runs: tells the watchdog its process group and registers the group for the sweep. */
  started(pgid: number, command: string): void;
  /** Once the command is over (or could not start): forgets the group (and ends a command's own watchdog). */
  release(): void;
}

/** Opens every watchdog's script, so `ps` (and the crash harness) tell a watchdog from the commands it guards. */
const WATCHDOG_LABEL = '/* cdf-promote orphan watchdog */';

/** Whether a process's command line (as `ps -o args` shows it) is one of these watchdogs. */
export function isWatchdogCommandLine(commandLine: string): boolean {
  return commandLine.includes(WATCHDOG_LABEL);
}

/** The running watchdog of each registry folder this process uses. */
const registryWatchdogs = new Map<string, ChildProcess>();

function startWatchdog(source: string, args: string[], stdin: 'pipe' | 'ignore'): ChildProcess | undefined {
  try {
    const watchdog = spawn(process.execPath, ['-e', `${WATCHDOG_LABEL}${source}`, ...args], {
      detached: true,
      stdio: [stdin, 'ignore', 'ignore'],
    });
    watchdog.on('error', () => undefined);
    watchdog.stdin?.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  } catch {
    // Without a watchdog the registry still lets the next worker start end the group.
    return undefined;
  }
}

/** The registry's watchdog, started before the first command and again if it died. */
function ensureRegistryWatchdog(dir: string): void {
  const running = registryWatchdogs.get(dir);
  if (running && running.exitCode === null && running.signalCode === null) return;
  const mark = `${GUARD_MARK_VARIABLE}=${WORKER_MARK}`;
  const watchdog = startWatchdog(REGISTRY_WATCHDOG_SOURCE, [String(process.pid), dir, mark], 'ignore');
  if (watchdog) registryWatchdogs.set(dir, watchdog);
}

function register(pgid: number, command: string): string | undefined {
  if (!registryDir) return undefined;
  const file = path.join(registryDir, `${pgid}.json`);
  const record: GroupRecord = {
    pgid,
    workerPid: process.pid,
    command: path.basename(command),
    startedAt: new Date().toISOString(),
  };
  try {
    // Written whole, then renamed: the watchdog and the next worker's sweep never read half a record.
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
    return file;
  } catch {
    // The registry is a second line of defence; a full disk must not fail the command.
    return undefined;
  }
}

/** Makes sure a watchdog covers a command about to be started: call it before the command, not after. */
export function guardCommand(): Guard {
  let file: string | undefined;
  if (registryDir) {
    const dir = registryDir;
    ensureRegistryWatchdog(dir);
    return {
      env: { [GUARD_MARK_VARIABLE]: WORKER_MARK },
      started(pgid, command) {
        file = register(pgid, command);
      },
      release() {
        if (file) rmSync(file, { force: true });
      },
    };
  }
  const mark = randomUUID();
  const watchdog = startWatchdog(
    WATCHDOG_SOURCE,
    [String(process.pid), `${GUARD_MARK_VARIABLE}=${mark}`],
    'pipe',
  );
  return {
    env: { [GUARD_MARK_VARIABLE]: mark },
    started(pgid) {
      watchdog?.stdin?.end(`${pgid}\n`);
    },
    release() {
      if (watchdog?.pid !== undefined && watchdog.exitCode === null) {
        try {
          process.kill(watchdog.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Ends the registered process groups whose worker is gone (and forgets them). Groups of a live worker (another
 * worker process sharing the data dir, or this one) are left alone. Returns what it ended.
 */
export function sweepOrphanedGroups(dir: string | undefined = registryDir): GroupRecord[] {
  if (!dir) return [];
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const ended: GroupRecord[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    let record: GroupRecord;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as GroupRecord;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    if (!Number.isInteger(record.pgid) || record.pgid <= 1) {
      rmSync(file, { force: true });
      continue;
    }
    if (record.workerPid !== process.pid && alive(record.workerPid)) continue;
    if (record.workerPid === process.pid) continue;
    if (alive(-record.pgid)) {
      try {
        process.kill(-record.pgid, 'SIGKILL');
        ended.push(record);
      } catch {
        // Already gone.
      }
    }
    rmSync(file, { force: true });
  }
  return ended;
}

/**
 * External commands must never outlive the worker that started them: a `cdf deploy` left running by a dead worker
 * would deploy at the same time as the retry on another worker, against the same CDF project.
 *
 * Two guards. Each command's process group is registered in a folder, and a watchdog (a tiny detached Node
 * process) ends the registered groups of its worker as soon as the worker's pid is gone, whatever killed the
 * worker (SIGKILL included, which no handler in the worker sees). And at start a worker ends the registered groups
 * whose worker is dead (the watchdog may have been killed with it, or the machine's PID namespace was restarted).
 *
 * One watchdog serves all the commands of a worker's registry: a Node process costs about 50 ms of CPU to start,
 * more than a quick Toolkit command itself, and a promotion runs four commands. Without a registry each command
 * gets a watchdog of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Polls the worker's pid; when it is gone, SIGTERM to the group, SIGKILL 3 s later. Exits when the group is gone. */
const WATCHDOG_SOURCE = `
const [ppid, pgid] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const end = (sig) => { try { process.kill(-pgid, sig); } catch {} };
const timer = setInterval(() => {
  if (!alive(-pgid)) process.exit(0);
  if (!alive(ppid)) {
    clearInterval(timer);
    end('SIGTERM');
    setTimeout(() => { end('SIGKILL'); process.exit(0); }, 3000);
  }
}, 250);
`;

/**
 * The watchdog of a worker's registry: polls the worker's pid; when it is gone, SIGTERM to every group the
 * registry holds for that worker, SIGKILL 3 s later, and their records are removed. Exits then, or when the
 * registry folder is gone (a test's temporary data dir).
 */
const REGISTRY_WATCHDOG_SOURCE = `
const fs = require('fs'), path = require('path');
const ppid = Number(process.argv[1]), dir = process.argv[2];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const groups = () => {
  const out = [];
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
    for (const g of left) { end(g.pgid, 'SIGKILL'); try { fs.rmSync(g.file, { force: true }); } catch {} }
    process.exit(0);
  }, 3000);
}, 250);
`;

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

/** The running watchdog of each registry folder this process uses. */
const registryWatchdogs = new Map<string, ChildProcess>();

function startWatchdog(args: string[]): ChildProcess | undefined {
  try {
    const watchdog = spawn(process.execPath, ['-e', ...args], { detached: true, stdio: 'ignore' });
    watchdog.on('error', () => undefined);
    watchdog.unref();
    return watchdog;
  } catch {
    // Without a watchdog the registry still lets the next worker start end the group.
    return undefined;
  }
}

/** The registry's watchdog, started with the first command and again if it died. */
function ensureRegistryWatchdog(dir: string): void {
  const running = registryWatchdogs.get(dir);
  if (running && running.exitCode === null && running.signalCode === null) return;
  const watchdog = startWatchdog([REGISTRY_WATCHDOG_SOURCE, String(process.pid), dir]);
  if (watchdog) registryWatchdogs.set(dir, watchdog);
}

/** Makes sure a watchdog covers a command's process group and registers the group. Returns the release function. */
export function guardProcessGroup(pgid: number, command: string): () => void {
  const file = registryDir ? path.join(registryDir, `${pgid}.json`) : undefined;
  let registered = false;
  if (file) {
    const record: GroupRecord = {
      pgid,
      workerPid: process.pid,
      command: path.basename(command),
      startedAt: new Date().toISOString(),
    };
    try {
      writeFileSync(file, JSON.stringify(record));
      registered = true;
    } catch {
      // A full disk must not fail the command: it gets a watchdog of its own instead.
    }
  }
  if (registered) ensureRegistryWatchdog(registryDir!);
  else startWatchdog([WATCHDOG_SOURCE, String(process.pid), String(pgid)]);
  return () => {
    if (file) rmSync(file, { force: true });
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

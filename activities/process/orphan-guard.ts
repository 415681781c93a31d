/**
 * External commands must never outlive the worker that started them: a `cdf deploy` left running by a dead worker
 * would deploy at the same time as the retry on another worker, against the same CDF project.
 *
 * Two guards. A watchdog per command (a tiny detached Node process) ends the command's process group as soon as
 * the worker's pid is gone, whatever killed the worker (SIGKILL included, which no handler in the worker sees).
 * And each command's process group is registered in a folder; at start a worker ends the groups whose worker is
 * dead (the watchdog may have been killed with it, or the machine's PID namespace was restarted).
 */
import { spawn } from 'node:child_process';
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

/** Starts the watchdog of a command's process group and registers the group. Returns the release function. */
export function guardProcessGroup(pgid: number, command: string): () => void {
  try {
    const watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(process.pid), String(pgid)], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.on('error', () => undefined);
    watchdog.unref();
  } catch {
    // Without a watchdog the registry still lets the next worker start end the group.
  }
  const file = registryDir ? path.join(registryDir, `${pgid}.json`) : undefined;
  if (file) {
    const record: GroupRecord = {
      pgid,
      workerPid: process.pid,
      command: path.basename(command),
      startedAt: new Date().toISOString(),
    };
    try {
      writeFileSync(file, JSON.stringify(record));
    } catch {
      // The registry is a second line of defence; a full disk must not fail the command.
    }
  }
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

/**
 * External commands must never outlive the worker that started them: a `cdf deploy` left running by a dead worker
 * would deploy at the same time as the retry on another worker, against the same CDF project.
 *
 * Two guards. A watchdog per command (a tiny detached Node process, started before the command) ends the
 * command's process group as soon as the worker's pid is gone, whatever killed the worker (SIGKILL included, which
 * no handler in the worker sees); a worker killed before it could tell the watchdog the group leaves the command
 * marked in its environment, and the watchdog finds it by that mark (the crash harness saw that gap once in 60
 * kills when the watchdog was started after the command).
 * And each command's process group is registered in a folder; at start a worker ends the groups whose worker is
 * dead (the watchdog may have been killed with it, or the machine's PID namespace was restarted).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Polls the worker's pid; when it is gone, SIGTERM to the command's group, SIGKILL 3 s later. It is started before
 * the command, so a worker killed between the two leaves no command unwatched: the command carries the watchdog's
 * mark in its environment, and the watchdog finds it by that mark (in /proc) when it has not been told the group
 * yet. The group id comes on stdin once the command runs. The worker ends the watchdog when the command is over.
 */
const WATCHDOG_SOURCE = `
const fs = require('fs');
const [ppid, mark] = [Number(process.argv[1]), process.argv[2]];
let pgid = 0;
process.stdin.setEncoding('utf8').on('data', (d) => { const n = parseInt(d, 10); if (n > 1) pgid = n; });
process.stdin.on('error', () => {});
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const marked = () => {
  const groups = new Set(pgid ? [pgid] : []);
  let pids = [];
  try { pids = fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)); } catch {}
  for (const pid of pids) {
    try {
      if (!fs.readFileSync('/proc/' + pid + '/environ', 'latin1').split('\\0').includes(mark)) continue;
      const stat = fs.readFileSync('/proc/' + pid + '/stat', 'latin1');
      const g = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (g > 1) groups.add(g);
    } catch {}
  }
  return [...groups];
};
const end = (sig) => { for (const g of marked()) { try { process.kill(-g, sig); } catch {} } };
const timer = setInterval(() => {
  if (!alive(ppid)) {
    clearInterval(timer);
    end('SIGTERM');
    setTimeout(() => { end('SIGKILL'); process.exit(0); }, 3000);
  }
}, 250);
`;

/** The environment variable that marks a guarded command for its watchdog. */
export const GUARD_MARK_VARIABLE = 'CDF_PROMOTE_GUARD';

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
  /** Once the command is over (or could not start): ends the watchdog and forgets the group. */
  release(): void;
}

/** Starts a watchdog for a command about to be started (before it, so that no moment leaves it unwatched). */
export function guardCommand(): Guard {
  const mark = `${GUARD_MARK_VARIABLE}=${randomUUID()}`;
  let watchdog: ChildProcess | undefined;
  try {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(process.pid), mark], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    watchdog.on('error', () => undefined);
    watchdog.stdin?.on('error', () => undefined);
    watchdog.unref();
  } catch {
    // Without a watchdog the registry still lets the next worker start end the group.
  }
  let file: string | undefined;
  return {
    env: { [GUARD_MARK_VARIABLE]: mark.slice(GUARD_MARK_VARIABLE.length + 1) },
    started(pgid, command) {
      watchdog?.stdin?.end(`${pgid}\n`);
      file = registryDir ? path.join(registryDir, `${pgid}.json`) : undefined;
      if (!file) return;
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
    },
    release() {
      if (watchdog?.pid !== undefined && watchdog.exitCode === null) {
        try {
          process.kill(watchdog.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (file) rmSync(file, { force: true });
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

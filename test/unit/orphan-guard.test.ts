/**
 * A Toolkit command never outlives its worker: killed with SIGKILL, the worker leaves `cdf` process groups that its
 * watchdog ends within seconds (one watchdog for all of a worker's commands); a group whose watchdog died too is
 * ended by the next worker's sweep.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sweepOrphanedGroups, type GroupRecord } from '../../activities/process/orphan-guard';
import { tempDir } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const tmp = tempDir('orphan-guard');

const groupAlive = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (predicate()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return predicate();
}

test('a worker killed with SIGKILL does not leave its commands running', async () => {
  const registry = path.join(tmp.dir, 'processes-kill');
  // A stand-in worker: runs a long command through runCommand with the guard, as the Toolkit runner does.
  const script = `
    const { useProcessRegistry } = require('./activities/process/orphan-guard');
    const { runCommand } = require('./activities/process/run-command');
    useProcessRegistry(${JSON.stringify(registry)});
    void runCommand(['sleep', '300'], { cwd: '/', env: {}, timeoutMs: 600000, guardOrphans: true });
    void runCommand(['sleep', '301'], { cwd: '/', env: {}, timeoutMs: 600000, guardOrphans: true });
    setInterval(() => {}, 1000);
  `;
  const worker = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  expect(await until(() => existsSync(registry) && readdirSync(registry).length === 2, 15_000)).toBe(true);
  const records = readdirSync(registry).map(
    (name) => JSON.parse(readFileSync(path.join(registry, name), 'utf8')) as GroupRecord,
  );
  for (const record of records) {
    expect(record).toEqual(expect.objectContaining({ workerPid: worker.pid, command: 'sleep' }));
    expect(groupAlive(record.pgid)).toBe(true);
  }

  worker.kill('SIGKILL');
  // The watchdog polls every 250 ms and sends SIGTERM: both `sleep`s end at once, and their records go.
  expect(await until(() => records.every((r) => !groupAlive(r.pgid)), 5_000)).toBe(true);
  expect(await until(() => readdirSync(registry).length === 0, 5_000)).toBe(true);
});

test("a worker killed before it could tell the watchdog the command's group still does not leave it running", async () => {
  // The moment between starting a command and telling its watchdog: the watchdog finds it by the mark in its
  // environment (Linux /proc).
  const pidFile = path.join(tmp.dir, 'unannounced.pid');
  const script = `
    const { spawn } = require('node:child_process');
    const { writeFileSync } = require('node:fs');
    const { guardCommand } = require('./activities/process/orphan-guard');
    const guard = guardCommand();
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: { ...process.env, ...guard.env } });
    writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
    setInterval(() => {}, 1000);
  `;
  const worker = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  expect(await until(() => existsSync(pidFile), 15_000)).toBe(true);
  const pgid = Number(readFileSync(pidFile, 'utf8'));
  expect(groupAlive(pgid)).toBe(true);
  // Its watchdog is up (a node process started before the command).
  await new Promise((r) => setTimeout(r, 1_000));
  worker.kill('SIGKILL');
  expect(await until(() => !groupAlive(pgid), 5_000)).toBe(true);
});

test("the next worker's sweep ends groups of dead workers, and leaves live workers' groups alone", async () => {
  const dir = path.join(tmp.dir, 'processes-sweep');
  spawnSync('mkdir', ['-p', dir]);
  const deadPid = spawnSync('true').pid!;
  const orphan = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  const owned = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  try {
    const write = (pgid: number, workerPid: number) =>
      writeFileSync(
        path.join(dir, `${pgid}.json`),
        JSON.stringify({ pgid, workerPid, command: 'cdf', startedAt: new Date().toISOString() }),
      );
    write(orphan.pid!, deadPid);
    write(owned.pid!, process.pid);
    writeFileSync(path.join(dir, 'garbage.json'), '{not json');
    const ended = sweepOrphanedGroups(dir);
    expect(ended.map((r) => r.pgid)).toEqual([orphan.pid]);
    expect(await until(() => !groupAlive(orphan.pid!), 3_000)).toBe(true);
    expect(groupAlive(owned.pid!)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([`${owned.pid}.json`]);
  } finally {
    owned.kill('SIGKILL');
    orphan.kill('SIGKILL');
  }
});

/**
 * The spawn helper (activities/process/spawn-helper.ts) is invisible to a command: started by the helper or by the
 * worker itself, a command sees the same argv, env, cwd, stdin, process group and signal dispositions, and the
 * worker gets the same output, exit code and signal. When the helper cannot start a command, or is gone, the
 * worker starts it itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand, type CommandResult } from '../../activities/process/run-command';
import { SpawnHelper, useSpawnHelper } from '../../activities/process/spawn-helper';
import { WarmHelper } from '../../activities/process/warm-python';

let helper: SpawnHelper;
let dir: string;

beforeAll(async () => {
  helper = new SpawnHelper();
  expect(await helper.start()).toBe(true);
  dir = mkdtempSync(path.join(os.tmpdir(), 'spawn-helper-'));
});

afterAll(() => {
  useSpawnHelper(undefined);
  helper.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', SOME_SETTING: 'a value with spaces', EMPTY: '' };

/** The command run by the helper and by the worker itself; the helper must have started the first. */
async function both(argv: string[], options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  const run = (): Promise<CommandResult> =>
    runCommand(argv, { cwd: dir, env, timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal });
  const before = helper.stats.helped;
  useSpawnHelper(helper);
  const helped = await run();
  expect(helper.stats.helped).toBe(before + 1);
  useSpawnHelper(undefined);
  const spawned = await run();
  const same = (r: CommandResult) => ({
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
  });
  return { helped: same(helped), spawned: same(spawned) };
}

test('output, exit code, env, cwd and argv are what a spawned command gets', async () => {
  const { helped, spawned } = await both([
    'sh',
    '-c',
    'echo "out $1"; echo err >&2; pwd; env | LC_ALL=C sort; exit 3',
    'script-name',
    'first arg',
  ]);
  expect(helped).toEqual(spawned);
  expect(helped.exitCode).toBe(3);
  expect(helped.stdout).toContain('out first arg\n');
  expect(helped.stdout).toContain('SOME_SETTING=a value with spaces\n');
  expect(helped.stdout).toContain(`${dir}\n`);
  expect(helped.stderr).toBe('err\n');
});

test('own session and process group, stdin closed, no signal ignored or blocked', async () => {
  const { helped, spawned } = await both([
    'sh',
    '-c',
    // pid, process group and session (fields 1, 5 and 6 of stat), then stdin.
    'cut -d" " -f1,5,6 /proc/$$/stat; cat',
  ]);
  for (const r of [helped, spawned]) {
    const [pid, pgrp, session] = r.stdout.split('\n')[0]!.split(' ');
    expect([pgrp, session]).toEqual([pid, pid]);
    expect(r.stdout.split('\n').slice(1)).toEqual(['']);
  }
  // The masks the command starts with, read by the command itself: not through a shell, which changes its own
  // mask as it forks (dash blocks every signal around a fork and clears the mask afterwards).
  const masks = await both(['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
  expect(masks.helped).toEqual(masks.spawned);
  // Python's SIGPIPE and SIGXFSZ (ignored) and the helper's blocked SIGTERM do not leak into the command.
  expect(masks.helped.stdout).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
});

test('a command killed by a signal reports the signal; a cancelled one is ended with its group', async () => {
  const killed = await both(['sh', '-c', 'kill -PIPE $$; echo survived']);
  expect(killed.helped).toEqual(killed.spawned);
  expect(killed.helped.signal).toBe('SIGPIPE');

  const abort = new AbortController();
  useSpawnHelper(helper);
  const running = runCommand(['sh', '-c', 'sleep 30 & wait'], {
    cwd: dir,
    env,
    timeoutMs: 60_000,
    signal: abort.signal,
  });
  setTimeout(() => abort.abort(), 200);
  const result = await running;
  useSpawnHelper(undefined);
  expect(result.signal).toBe('SIGTERM');
});

test('a command that cannot start fails as a spawned one does, started by the worker', async () => {
  useSpawnHelper(helper);
  const before = { ...helper.stats };
  const viaHelper = await runCommand(['no-such-command-anywhere'], { cwd: dir, env, timeoutMs: 5_000 }).catch(
    (e: NodeJS.ErrnoException) => e.code,
  );
  const missingDir = await runCommand(['true'], { cwd: path.join(dir, 'gone'), env, timeoutMs: 5_000 }).catch(
    (e: NodeJS.ErrnoException) => e.code,
  );
  useSpawnHelper(undefined);
  expect(viaHelper).toBe('ENOENT');
  expect(missingDir).toBe('ENOENT');
  expect(helper.stats.spawned).toBe(before.spawned + 2);
});

test('when the helper dies its running command ends, and the next one is started by the worker', async () => {
  const own = new SpawnHelper();
  expect(await own.start()).toBe(true);
  useSpawnHelper(own);
  const running = runCommand(['sh', '-c', 'echo started; sleep 30'], {
    cwd: dir,
    env,
    timeoutMs: 60_000,
    onLine: () => own.stop(),
  });
  const ended = await running;
  expect(ended.exitCode === 0).toBe(false);
  const after = await runCommand(['sh', '-c', 'echo fine'], { cwd: dir, env, timeoutMs: 5_000 });
  useSpawnHelper(undefined);
  expect(after.stdout).toBe('fine\n');
  expect(own.stats.helped).toBe(1);
});

test('quick commands, many at once, all end with their output (exits can arrive before their streams)', async () => {
  useSpawnHelper(helper);
  const before = helper.stats.helped;
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) =>
      runCommand(['sh', '-c', `echo ${i}; exit ${i % 3}`], { cwd: dir, env, timeoutMs: 20_000 }),
    ),
  );
  useSpawnHelper(undefined);
  expect(helper.stats.helped).toBe(before + 300);
  expect(results.map((r) => [r.stdout, r.exitCode])).toEqual(
    Array.from({ length: 300 }, (_, i) => [`${i}\n`, i % 3]),
  );
}, 30_000);

/** A helper that reports each command's exit before connecting its streams, as a busy worker may see them. */
const EXIT_FIRST_HELPER = `
import json, os, socket, sys, time
control = socket.socket(fileno=3)
control.sendall(b'{"ev": "ready"}\\n')
buf = b""
while True:
    data = control.recv(65536)
    if not data:
        break
    buf += data
    while b"\\n" in buf:
        line, buf = buf.split(b"\\n", 1)
        req = json.loads(line)
        for ev in ({"ev": "started", "id": req["id"], "pid": os.getpid()},
                   {"ev": "exit", "id": req["id"], "code": 7, "signal": None}):
            control.sendall((json.dumps(ev) + "\\n").encode())
        time.sleep(0.2)
        for which in ("stdout", "stderr"):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            s.sendall(("%s %s\\nhello %s\\n" % (req["token"], which, which)).encode())
            s.close()
`;

test('a command whose exit is reported before its streams are taken in still ends, with its output', async () => {
  const exitFirst = new WarmHelper(
    {
      label: 'test helper',
      fallback: 'spawned',
      command: 'python3',
      args: (sockPath) => ['-c', EXIT_FIRST_HELPER, sockPath],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    },
    undefined,
    () => undefined,
  );
  expect(await exitFirst.ready).toBe(true);
  try {
    const result = await runCommand(['anything'], {
      cwd: dir,
      env,
      timeoutMs: 10_000,
      launcher: (command, args, opts) => exitFirst.run([command, ...args], opts.cwd, opts.env),
    });
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([7, 'hello stdout\n', 'hello stderr\n']);
  } finally {
    exitFirst.stop();
  }
});

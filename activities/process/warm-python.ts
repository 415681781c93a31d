/**
 * A warm runner for the Toolkit's `cdf`: Python's start-up (about 2 s of imports per command) is paid once per
 * worker by a long-lived helper (warm_cdf.py) that preloads the third-party modules a `cdf` run imports and forks
 * a child per command. The child is what a fresh spawn would have started: same argv, env, cwd, stdin closed,
 * stdout and stderr as unix sockets (what Node's stdio pipes are), its own session, Python's exit rules.
 *
 * It is only a way of launching (runCommand's `launcher`): output, timeouts, cancellation and the orphan guard are
 * runCommand's, and every kill goes to the child's process group as with a spawned command. Whenever the helper
 * is not ready, cannot start or dies, commands are spawned fresh: the optimisation never fails a command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { LaunchedCommand, Launcher } from './run-command';

export interface WarmLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

const HELPER_SCRIPT = path.join(__dirname, 'warm_cdf.py');
/** Importing the Toolkit's dependencies twice (probe and preload) takes a few seconds; more means a broken venv. */
const START_TIMEOUT_MS = 60_000;
/** Forking a started helper takes milliseconds; this only bounds a helper that hangs. */
const LAUNCH_TIMEOUT_MS = 30_000;

/**
 * The interpreter of a Toolkit console script (`#!/abs/python` then `from cognite_toolkit._cdf import app`), or
 * undefined for anything else (wrappers, shell scripts, other programs): those are spawned as before.
 */
export function toolkitInterpreter(executable: string): string | undefined {
  if (!path.isAbsolute(executable)) return undefined;
  let head: string;
  try {
    const fd = openSync(executable, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const shebang = /^#!(\/\S+)[ \t]*\n/.exec(head);
  if (!shebang || !/python[\d.]*$/.test(shebang[1]!)) return undefined;
  if (!/^from cognite_toolkit\._cdf import app$/m.test(head) || !/sys\.exit\(app\(\)\)/.test(head))
    return undefined;
  return existsSync(shebang[1]!) ? shebang[1] : undefined;
}

interface Pending {
  id: number;
  token: string;
  pid?: number;
  stdout?: PassThrough;
  stderr?: PassThrough;
  resolve: (child: WarmChild) => void;
  reject: (err: Error) => void;
  child?: WarmChild;
  /** The command ended before its streams were taken in (a quick command: events and connections race). */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** A forked command as runCommand sees a spawned one: pid (= its process group), two streams, 'close'. */
class WarmChild extends EventEmitter implements LaunchedCommand {
  readonly warm = true;
  private exit?: { code: number | null; signal: NodeJS.Signals | null };
  private open = 2;

  constructor(
    readonly pid: number,
    readonly stdout: PassThrough,
    readonly stderr: PassThrough,
  ) {
    super();
    for (const s of [stdout, stderr]) s.once('end', () => this.streamEnded());
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exit) return;
    this.exit = { code, signal };
    this.emit('exit', code, signal);
    this.maybeClose();
  }

  private streamEnded(): void {
    this.open -= 1;
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.exit && this.open === 0) this.emit('close', this.exit.code, this.exit.signal);
  }
}

/** How a helper is started: its program and arguments (given the socket its commands' streams connect to). */
export interface HelperSpec {
  /** What the logs call it ("warm Toolkit runner"). */
  label: string;
  /** What commands fall back to when it is not there ("Toolkit commands are spawned fresh"). */
  fallback: string;
  command: string;
  args: (sockPath: string) => string[];
  env: NodeJS.ProcessEnv;
}

/** A long-lived helper process that starts commands for the worker over fd 3 (warm_cdf.py, spawn_helper.py). */
export class WarmHelper {
  state: 'starting' | 'ready' | 'dead' = 'starting';
  readonly ready: Promise<boolean>;
  private readonly proc: ChildProcess;
  private readonly server: net.Server;
  private readonly dir: string;
  private readonly control: net.Socket;
  private nextId = 1;
  private stopping = false;
  private readonly pending = new Map<number, Pending>();
  private readonly byToken = new Map<string, Pending>();
  private readonly running = new Map<number, WarmChild>();

  constructor(
    spec: HelperSpec,
    private readonly log: WarmLogger | undefined,
    onDead: (neverReady: boolean) => void,
  ) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'cdf-warm-'));
    const sockPath = path.join(this.dir, 's');
    this.server = net.createServer((conn) => this.onConnection(conn));
    this.server.listen(sockPath);
    this.server.unref();
    // The helper gets only what every command shares (no credentials): secrets travel per command over fd 3.
    this.proc = spawn(spec.command, spec.args(sockPath), {
      env: spec.env,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    const { label, fallback } = spec;
    this.control = this.proc.stdio[3] as net.Socket;
    let diag = '';
    for (const s of [this.proc.stdout!, this.proc.stderr!])
      s.setEncoding('utf8').on('data', (c: string) => {
        diag = (diag + c).slice(-2000);
      });
    let started: (ok: boolean) => void = () => undefined;
    this.ready = new Promise<boolean>((resolve) => (started = resolve));
    const timer = setTimeout(() => {
      if (this.state === 'starting') this.proc.kill('SIGKILL');
    }, START_TIMEOUT_MS);
    timer.unref();
    let buf = '';
    this.control.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let ev: Record<string, unknown>;
        try {
          ev = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // not ours to crash the worker over; a command it concerns falls back or times out
        }
        if (ev.ev === 'ready') {
          clearTimeout(timer);
          this.state = 'ready';
          this.idle();
          this.log?.info({ helper: label, preloaded: ev.preloaded }, `${label} ready`);
          started(true);
        } else this.onEvent(ev);
      }
    });
    this.control.on('error', () => undefined);
    this.proc.on('error', () => undefined);
    this.proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      const neverReady = this.state === 'starting';
      this.state = 'dead';
      started(false);
      if (!this.stopping)
        this.log?.warn(
          { helper: label, code, signal, output: diag.trim().slice(-1000) || undefined },
          neverReady
            ? `the ${label} could not start: ${fallback}`
            : `the ${label} stopped: ${fallback} until it is restarted`,
        );
      for (const p of this.pending.values()) p.reject(new Error('the warm helper stopped'));
      this.pending.clear();
      // Their exit codes died with the helper: end them as killed (a spawned command killed by us looks the same).
      for (const child of this.running.values()) {
        child.kill('SIGKILL');
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
        child.exited(null, 'SIGKILL');
      }
      this.running.clear();
      this.server.close();
      rmSync(this.dir, { recursive: true, force: true });
      onDead(neverReady);
    });
    // The worker must be able to exit with an idle helper running (it exits when fd 3 closes); while it starts
    // or runs commands, fd 3 keeps the event loop alive.
    this.proc.unref();
    for (const s of [this.proc.stdout, this.proc.stderr]) (s as net.Socket | null)?.unref();
  }

  run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<WarmChild> {
    if (this.state !== 'ready') return Promise.reject(new Error('the warm helper is not ready'));
    const id = this.nextId++;
    const token = randomBytes(16).toString('hex');
    return new Promise<WarmChild>((resolve, reject) => {
      const p: Pending = { id, token, resolve, reject };
      this.pending.set(id, p);
      this.byToken.set(token, p);
      const settle = (): void => {
        this.byToken.delete(token);
      };
      // A helper that does not start a command within this is stopped, and the command is spawned fresh only
      // once the helper is gone (with whatever it forked, see its SIGTERM handler): never two of one command.
      const timer = setTimeout(() => {
        this.proc.kill('SIGTERM');
        setTimeout(() => this.proc.kill('SIGKILL'), 5_000).unref();
      }, LAUNCH_TIMEOUT_MS);
      p.resolve = (child) => {
        clearTimeout(timer);
        settle();
        resolve(child);
      };
      p.reject = (err) => {
        clearTimeout(timer);
        settle();
        reject(err);
      };
      this.control.ref();
      this.control.write(`${JSON.stringify({ op: 'run', id, token, argv, cwd, env })}\n`);
    });
  }

  stop(): void {
    this.stopping = true;
    if (this.state !== 'dead') this.proc.kill('SIGTERM');
  }

  private onConnection(conn: net.Socket): void {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl < 0) {
        if (head.length > 200) conn.destroy();
        return;
      }
      conn.removeListener('data', onData);
      const [token, which] = head.subarray(0, nl).toString('utf8').split(' ');
      const p = token ? this.byToken.get(token) : undefined;
      if (!p || (which !== 'stdout' && which !== 'stderr') || p[which]) {
        conn.destroy();
        return;
      }
      const stream = new PassThrough();
      const rest = head.subarray(nl + 1);
      if (rest.length) stream.write(rest);
      conn.pipe(stream);
      conn.on('error', () => stream.end());
      p[which] = stream;
      this.maybeLaunched(p);
    };
    conn.on('data', onData);
  }

  private onEvent(ev: Record<string, unknown>): void {
    const id = ev.id as number;
    if (ev.ev === 'started') {
      const p = this.pending.get(id);
      if (!p) return;
      p.pid = ev.pid as number;
      this.maybeLaunched(p);
    } else if (ev.ev === 'failed') {
      const p = this.pending.get(id);
      this.pending.delete(id);
      this.idle();
      p?.reject(new Error(`the warm helper could not start the command: ${String(ev.error)}`));
    } else if (ev.ev === 'exit') {
      const exit = {
        code: (ev.code as number | null) ?? null,
        signal: (ev.signal as NodeJS.Signals | null) ?? null,
      };
      const child = this.running.get(id);
      this.running.delete(id);
      if (child) child.exited(exit.code, exit.signal);
      else {
        const p = this.pending.get(id);
        if (p) p.exit = exit;
      }
    }
    this.idle();
  }

  private idle(): void {
    if (this.state === 'ready' && this.pending.size === 0 && this.running.size === 0) this.control.unref();
  }

  private maybeLaunched(p: Pending): void {
    if (p.pid === undefined || !p.stdout || !p.stderr || p.child) return;
    p.child = new WarmChild(p.pid, p.stdout, p.stderr);
    this.pending.delete(p.id);
    // 'close' still waits for both streams to be read to their end, so its listener is not too late.
    if (p.exit) p.child.exited(p.exit.code, p.exit.signal);
    else this.running.set(p.id, p.child);
    p.resolve(p.child);
  }
}

export interface WarmStats {
  warm: number;
  fresh: number;
}

/** One helper per Toolkit executable and shared environment, started on first use, shared by all activities. */
export class WarmPythonPool {
  private readonly helpers = new Map<string, WarmHelper>();
  /** Keys whose helper could not start: not tried again in this process. */
  private readonly broken = new Set<string>();
  readonly stats: WarmStats = { warm: 0, fresh: 0 };
  logger: WarmLogger | undefined;

  /**
   * A launcher for runCommand: the warm helper for a Toolkit console script once it is ready (starting it on
   * first use); otherwise undefined, and runCommand spawns the command fresh. `sharedEnv` is the environment
   * every command of this executable shares (the helper's own); a command's env may differ from it only in the
   * `perCommand` variables (names; `X_*` a prefix), which reach the forked child only (credentials).
   */
  launcher(sharedEnv: NodeJS.ProcessEnv, perCommand: readonly string[]): Launcher {
    return async (command, args, opts) => {
      const helper = this.helper(command, sharedEnv, perCommand);
      if (helper?.state === 'ready') {
        try {
          const child = await helper.run([command, ...args], opts.cwd, opts.env);
          this.stats.warm += 1;
          return child;
        } catch (err) {
          this.logger?.warn(
            { executable: command, err: (err as Error).message },
            'the warm Toolkit runner failed to start a command: spawning it fresh',
          );
        }
      }
      this.stats.fresh += 1;
      return undefined;
    };
  }

  /** Starts (or finds) the helper and waits until it is ready; false when the executable is not eligible. */
  async prewarm(
    executable: string,
    sharedEnv: NodeJS.ProcessEnv,
    perCommand: readonly string[],
  ): Promise<boolean> {
    const helper = this.helper(executable, sharedEnv, perCommand);
    return helper ? helper.ready : false;
  }

  /** Waits until every helper started so far is ready (or has failed). */
  async settled(): Promise<void> {
    await Promise.all([...this.helpers.values()].map((h) => h.ready));
  }

  /** Stops every helper (their running commands are ended by the helper). */
  close(): void {
    for (const h of this.helpers.values()) h.stop();
    this.helpers.clear();
  }

  private helper(
    executable: string,
    sharedEnv: NodeJS.ProcessEnv,
    perCommand: readonly string[],
  ): WarmHelper | undefined {
    const key = JSON.stringify([executable, Object.entries(sharedEnv).sort(), perCommand]);
    const existing = this.helpers.get(key);
    if (existing && existing.state !== 'dead') return existing;
    if (this.broken.has(key)) return undefined;
    const interpreter = toolkitInterpreter(executable);
    if (!interpreter || !existsSync(HELPER_SCRIPT)) {
      this.broken.add(key);
      return undefined;
    }
    const helper = new WarmHelper(
      {
        label: 'warm Toolkit runner',
        fallback: 'Toolkit commands are spawned fresh',
        command: interpreter,
        args: (sockPath) => [HELPER_SCRIPT, executable, sockPath, perCommand.join(',')],
        env: sharedEnv,
      },
      this.logger,
      (neverReady) => {
        if (this.helpers.get(key) === helper) this.helpers.delete(key);
        if (neverReady) this.broken.add(key);
      },
    );
    this.helpers.set(key, helper);
    return helper;
  }
}

/** The worker's pool: a checkout pins one Toolkit, so in practice one helper per pinned version. */
export const warmPython = new WarmPythonPool();

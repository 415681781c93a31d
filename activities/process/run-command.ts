/**
 * Runs one external command from an argv array (never through a shell), streaming its output line by line.
 * The child is killed when the abort signal fires (activity cancellation) or the timeout passes.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { guardCommand } from './orphan-guard';
import { activeSpawnHelper } from './spawn-helper';

/** A started command as runCommand consumes it: a spawned ChildProcess, or a warm one (warm-python.ts). */
export interface LaunchedCommand {
  readonly pid?: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  kill(signal?: NodeJS.Signals): boolean;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
}

/**
 * Another way to start the command, with exactly what spawn would give it (own process group, stdin closed,
 * stdout and stderr piped). Undefined: spawn it.
 */
export type Launcher = (
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
) => Promise<LaunchedCommand | undefined>;

export interface RunCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with each complete output line (stdout and stderr interleaved). */
  onLine?: (line: string) => void;
  /**
   * Called with each line of stdout or of stderr as it arrives, `\n` included when the line had one (the last
   * line may have none), so the exact text can be rebuilt. A returned promise pauses that stream until it settles:
   * a slow consumer (a file on a busy disk) holds the command back instead of output piling up in memory.
   */
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void | Promise<void>;
  /**
   * Collect stdout and stderr into the result (the default). False for output that `onOutput` consumes (a large
   * plan): the result's stdout and stderr are then empty, and memory does not grow with the output.
   */
  collectOutput?: boolean;
  /**
   * End the command's process group if this worker dies (a watchdog process and the registry, orphan-guard.ts):
   * for commands that change something outside (the Toolkit), not for quick reads such as git's.
   */
  guardOrphans?: boolean;
  launcher?: Launcher;
}

export interface CommandResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

const KILL_GRACE_MS = 5_000;

export async function runCommand(argv: string[], options: RunCommandOptions): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (!command) throw new Error('runCommand: empty argv');
  const started = Date.now();
  // The watchdog first: a worker killed right after the command started must not leave it unwatched.
  const guard = options.guardOrphans ? guardCommand() : undefined;
  const env = guard ? { ...options.env, ...guard.env } : options.env;
  let launched: LaunchedCommand | undefined;
  try {
    // A warm command is not marked: the warm helper ends its children when its worker dies (warm-python.ts).
    launched = options.launcher
      ? await options.launcher(command, args, { cwd: options.cwd, env: options.env })
      : undefined;
    // Otherwise the worker's spawn helper starts it, exactly as spawn below would (spawn-helper.ts).
    launched ??= await activeSpawnHelper()?.launcher(command, args, { cwd: options.cwd, env });
  } catch (err) {
    guard?.release();
    throw err;
  }
  return new Promise((resolve, reject) => {
    // stdin is closed so a command that unexpectedly prompts fails fast instead of hanging the activity.
    const child: LaunchedCommand =
      launched ??
      spawn(command, args, {
        cwd: options.cwd,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so a kill reaches grandchildren (python wrappers, shims)
      });
    // The group must end with this worker, even if the worker is killed with SIGKILL (orphan-guard.ts).
    if (guard && child.pid !== undefined) guard.started(child.pid, command);
    const unguard = (): void => guard?.release();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    // 'close' (all pipes shut), not exitCode: a wrapper may exit while its background children hold the pipes.
    let closed = false;
    const collect = options.collectOutput !== false;
    const partial = { stdout: '', stderr: '' };

    // Lines are cut at `\n` only, so `onOutput` gets every byte back (a `\r\n` ends with `\r\n`); onLine gets
    // them without the line break, as it always has.
    const deliver = (which: 'stdout' | 'stderr', line: string): Promise<void> | undefined => {
      if (options.onLine) {
        const bare = line.endsWith('\n') ? line.slice(0, line.endsWith('\r\n') ? -2 : -1) : line;
        options.onLine(bare);
      }
      const pending = options.onOutput?.(which, line);
      return pending instanceof Promise ? pending : undefined;
    };
    const consume = (which: 'stdout' | 'stderr', stream: NodeJS.ReadableStream, chunk: string): void => {
      if (collect) {
        if (which === 'stdout') stdout += chunk;
        else stderr += chunk;
      }
      if (!options.onLine && !options.onOutput) return;
      const text = partial[which] + chunk;
      let start = 0;
      const waits: Promise<void>[] = [];
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const wait = deliver(which, text.slice(start, nl + 1));
        if (wait) waits.push(wait);
        start = nl + 1;
      }
      partial[which] = text.slice(start);
      if (waits.length) {
        stream.pause();
        void Promise.allSettled(waits).then(() => stream.resume());
      }
    };
    child.stdout.setEncoding('utf8').on('data', (c: string) => consume('stdout', child.stdout, c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => consume('stderr', child.stderr, c));

    const killTree = (sig: NodeJS.Signals): void => {
      if (child.pid === undefined || closed) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        child.kill(sig);
      }
    };
    const terminate = (): void => {
      killTree('SIGTERM');
      setTimeout(() => killTree('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.timeoutMs);
    const onAbort = (): void => terminate();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) terminate();

    child.on('error', (err) => {
      unguard();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (exitCode, signal) => {
      closed = true;
      unguard();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      const last = (['stdout', 'stderr'] as const)
        .filter((which) => partial[which])
        .map((which) => deliver(which, partial[which]));
      const done = { argv, exitCode, signal, stdout, stderr, timedOut, durationMs: Date.now() - started };
      // The last lines' consumer finishes before the result is given, so it has everything when it is read.
      void Promise.allSettled(last.filter(Boolean)).then(() => resolve(done));
    });
  });
}

/**
 * Runs one external command from an argv array (never through a shell), streaming its output line by line.
 * The child is killed when the abort signal fires (activity cancellation) or the timeout passes.
 */
import { spawn } from 'node:child_process';
import { guardCommand } from './orphan-guard';

export interface RunCommandOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called with each complete output line (stdout and stderr interleaved). */
  onLine?: (line: string) => void;
  /**
   * End the command's process group if this worker dies (a watchdog process and the registry, orphan-guard.ts):
   * for commands that change something outside (the Toolkit), not for quick reads such as git's.
   */
  guardOrphans?: boolean;
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

export function runCommand(argv: string[], options: RunCommandOptions): Promise<CommandResult> {
  const [command, ...args] = argv;
  if (!command) return Promise.reject(new Error('runCommand: empty argv'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // stdin is closed so a command that unexpectedly prompts fails fast instead of hanging the activity.
    // The watchdog first: a worker killed right after the command started must not leave it unwatched.
    const guard = options.guardOrphans ? guardCommand() : undefined;
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: guard ? { ...options.env, ...guard.env } : options.env,
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
    const partial = { out: '', err: '' };

    const emit = (chunk: string, which: 'out' | 'err'): void => {
      const text = partial[which] + chunk;
      const lines = text.split(/\r?\n/);
      partial[which] = lines.pop() ?? '';
      for (const line of lines) options.onLine?.(line);
    };
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      emit(c, 'out');
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
      emit(c, 'err');
    });

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
      for (const which of ['out', 'err'] as const) if (partial[which]) options.onLine?.(partial[which]);
      resolve({ argv, exitCode, signal, stdout, stderr, timedOut, durationMs: Date.now() - started });
    });
  });
}

/**
 * Commands started from a small helper process (spawn_helper.py) instead of the worker itself.
 *
 * Starting a process blocks the worker's main thread while the kernel copies its page tables, in proportion to
 * its memory: about 5 ms per command at the worker's 200 MB, 8 ms at 260 MB, 30 ms at 680 MB (2-core VM), and a
 * promotion starts seven. The helper (one Python process of about 10 MB per worker) starts them in well under a
 * millisecond and hands back a command exactly as spawn would have: own process group, stdin closed, stdout and
 * stderr piped to the worker, the command's env and cwd, its exit code or signal.
 *
 * Only a way of launching (runCommand's `launcher`): output, timeouts, cancellation and the orphan guard stay
 * runCommand's. Whenever the helper is not ready, cannot start or dies, or cannot start a command, the command is
 * spawned by the worker as before: the optimisation never fails a command.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import type { Launcher, LaunchedCommand } from './run-command';
import { WarmHelper, type WarmLogger } from './warm-python';

const HELPER_SCRIPT = path.join(__dirname, 'spawn_helper.py');

/** The first `python3` on PATH, or undefined (then every command is spawned by the worker). */
function findPython(pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'python3');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

export class SpawnHelper {
  private helper: WarmHelper | undefined;
  private broken = false;
  readonly stats = { helped: 0, spawned: 0 };

  constructor(private readonly logger?: WarmLogger) {}

  /** Starts the helper (if this machine can run it) and waits until it is ready; false when it cannot. */
  async start(): Promise<boolean> {
    const helper = this.current();
    return helper ? helper.ready : false;
  }

  /** The launcher for runCommand: the helper once it is ready; undefined (spawn it) otherwise. */
  readonly launcher: Launcher = async (command, args, opts): Promise<LaunchedCommand | undefined> => {
    const helper = this.current();
    if (helper?.state === 'ready') {
      try {
        const child = await helper.run([command, ...args], opts.cwd, opts.env);
        this.stats.helped += 1;
        return child;
      } catch {
        // Not started (the exec failed, or the helper went away): nothing ran, the worker spawns it and reports
        // whatever error that gives.
      }
    }
    this.stats.spawned += 1;
    return undefined;
  };

  stop(): void {
    this.helper?.stop();
    this.helper = undefined;
  }

  private current(): WarmHelper | undefined {
    if (this.helper && this.helper.state !== 'dead') return this.helper;
    if (this.broken) return undefined;
    const python = findPython(process.env.PATH);
    if (!python || !existsSync(HELPER_SCRIPT)) {
      this.broken = true;
      this.logger?.warn(
        { helper: 'spawn helper' },
        'no python3 on PATH: the worker starts its commands itself (each blocks it a few ms)',
      );
      return undefined;
    }
    const helper = new WarmHelper(
      {
        label: 'spawn helper',
        fallback: 'the worker starts its commands itself',
        command: python,
        // -I: no user site-packages, no PYTHON* variables, no current directory on sys.path.
        args: (sockPath) => ['-I', HELPER_SCRIPT, sockPath],
        // Commands get their own env per request; the helper needs none of the worker's (no credentials).
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
      },
      this.logger,
      (neverReady) => {
        if (this.helper === helper) this.helper = undefined;
        if (neverReady) this.broken = true;
      },
    );
    this.helper = helper;
    return helper;
  }
}

/**
 * The worker's helper, used by runCommand for every command that no other launcher takes, once the worker has
 * switched it on (`worker.spawnHelper`, worker/create-worker.ts).
 */
let active: SpawnHelper | undefined;

export function useSpawnHelper(helper: SpawnHelper | undefined): void {
  active = helper;
}

export function activeSpawnHelper(): SpawnHelper | undefined {
  return active;
}

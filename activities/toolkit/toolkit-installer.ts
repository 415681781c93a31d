/**
 * Installs Toolkit versions on demand: one virtualenv per version under the cache directory
 * (`<cacheDir>/<version>/bin/cdf`), with `cognite-toolkit==<version>` and the extra requirements configured for
 * it. One install at a time per version, across the activities of this worker (a shared promise) and across
 * worker processes sharing the cache (a lock directory). The cache is bounded: after an install the least
 * recently used versions beyond `maxVersions` are removed.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TOOLKIT_VERSION_PATTERN, type ToolkitVersionsConfig } from '../../config/schema';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { runCommand } from '../process/run-command';
import { lastLine } from './output-lines';

/** Written last: a version folder without it is a broken install and is redone. */
const COMPLETE_MARKER = 'toolkit-install.json';
const LOCK_POLL_MS = 500;
/** Tells this process's locks from those of an earlier process that had the same pid. */
const PROCESS_NONCE = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
/**
 * Versions used within this window are never evicted: a run resolves its Toolkit once per activity, and an apply
 * can then run it for hours.
 */
const EVICTION_GRACE_MS = 24 * 60 * 60_000;

export interface InstallProgress {
  (line: string): void;
}

export function matchesVersionPattern(version: string, pattern: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(version);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

export class ToolkitInstaller {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly settings: ToolkitVersionsConfig['install'],
    /** Child environment for python and pip (PATH, HOME, proxies); never the worker's secrets. */
    private readonly childEnv: NodeJS.ProcessEnv = minimalEnv(),
  ) {}

  get cacheDir(): string {
    return this.settings.cacheDir;
  }

  executableFor(version: string): string {
    return path.join(this.settings.cacheDir, version, 'bin', 'cdf');
  }

  /** The cached executable of `version`, if a complete install is there; marks it as recently used. */
  async cached(version: string): Promise<string | undefined> {
    const dir = path.join(this.settings.cacheDir, version);
    if (!existsSync(path.join(dir, COMPLETE_MARKER)) || !existsSync(this.executableFor(version)))
      return undefined;
    const now = new Date();
    await utimes(path.join(dir, COMPLETE_MARKER), now, now).catch(() => undefined);
    return this.executableFor(version);
  }

  isAllowed(version: string): boolean {
    return this.settings.allow.some((p) => matchesVersionPattern(version, p));
  }

  /** Extra pip requirements for a version, from every matching pattern. */
  packagesFor(version: string): string[] {
    return Object.entries(this.settings.packages)
      .filter(([pattern]) => matchesVersionPattern(version, pattern))
      .flatMap(([, pkgs]) => pkgs);
  }

  /** Returns the executable of `version`, installing it first when the cache lacks it. */
  install(version: string, onProgress?: InstallProgress, signal?: AbortSignal): Promise<string> {
    const running = this.inFlight.get(version);
    if (running) return running;
    const job = this.installOnce(version, onProgress, signal).finally(() => this.inFlight.delete(version));
    this.inFlight.set(version, job);
    return job;
  }

  private async installOnce(
    version: string,
    onProgress?: InstallProgress,
    signal?: AbortSignal,
  ): Promise<string> {
    await mkdir(path.join(this.settings.cacheDir, '.locks'), { recursive: true });
    const release = await this.lock(version, onProgress, signal);
    try {
      // Another process may have installed it while we waited for the lock.
      const done = await this.cached(version);
      if (done) return done;
      const dir = path.join(this.settings.cacheDir, version);
      await rm(dir, { recursive: true, force: true });
      const requirements = [`cognite-toolkit==${version}`, ...this.packagesFor(version)];
      onProgress?.(`installing ${requirements.join(' ')} into ${dir}`);
      await this.run([this.settings.python, '-m', 'venv', dir], 'create the virtualenv', onProgress, signal);
      await this.run(
        [
          path.join(dir, 'bin', 'python'),
          '-m',
          'pip',
          'install',
          '--disable-pip-version-check',
          '--no-input',
          '--quiet',
          ...requirements,
        ],
        `pip install ${requirements.join(' ')}`,
        onProgress,
        signal,
        version,
      );
      const check = await runCommand([this.executableFor(version), '--version'], {
        cwd: this.settings.cacheDir,
        env: this.childEnv,
        timeoutMs: 120_000,
        signal,
      });
      if (!check.stdout.includes(`version: ${version}`)) {
        throw new PromotionError(
          ErrorType.ToolkitTransient,
          `the installed Toolkit does not report version ${version}: ${lastLine(check.stdout + check.stderr)}`,
        );
      }
      await writeFile(
        path.join(dir, COMPLETE_MARKER),
        `${JSON.stringify({ version, requirements, installedAt: new Date().toISOString() })}\n`,
      );
      onProgress?.(`installed Cognite Toolkit ${version}`);
      await this.evict(version).catch(() => undefined);
      return this.executableFor(version);
    } finally {
      await release();
    }
  }

  private async run(
    argv: string[],
    what: string,
    onProgress: InstallProgress | undefined,
    signal: AbortSignal | undefined,
    version?: string,
  ): Promise<void> {
    let result;
    try {
      result = await runCommand(argv, {
        cwd: this.settings.cacheDir,
        env: this.childEnv,
        timeoutMs: this.settings.timeout,
        signal,
        onLine: (line) => line.trim() && onProgress?.(line),
      });
    } catch (err) {
      // The program itself cannot be started (no such Python): waiting will not bring it.
      throw new PromotionError(
        ErrorType.ToolkitUnavailable,
        `cannot run ${argv[0]} to ${what} (${(err as Error).message}): set toolkit.versions.install.python to a ` +
          'Python 3 with the venv module, or provide the version with toolkit.versions.installed',
      );
    }
    if (result.exitCode === 0 && !result.timedOut) return;
    const output = `${result.stdout}\n${result.stderr}`;
    // pip's verdict for a version that does not exist: retrying cannot help.
    // "(from versions: none)" is also what pip says when it cannot reach the index: only a list of versions
    // without this one proves the version does not exist.
    const listed = /from versions:\s*([^)]*)\)/i.exec(output)?.[1]?.trim();
    if (
      version &&
      /No matching distribution found|Could not find a version that satisfies/i.test(output) &&
      listed &&
      listed !== 'none'
    ) {
      throw new PromotionError(
        ErrorType.ToolkitUnavailable,
        `Cognite Toolkit ${version} cannot be installed: the package index has no cognite-toolkit==${version}`,
      );
    }
    throw new PromotionError(
      ErrorType.ToolkitTransient,
      `could not ${what}: ${result.timedOut ? `timed out after ${this.settings.timeout} ms` : lastLine(output, { prefer: /error/i, maxLength: 400 })}`,
    );
  }

  /**
   * A lock directory per version, so worker processes sharing the cache install one at a time. A lock left by
   * a process that died (same host, pid gone) or older than the install timeout is taken over.
   */
  private async lock(
    version: string,
    onProgress?: InstallProgress,
    signal?: AbortSignal,
  ): Promise<() => Promise<void>> {
    const lockDir = path.join(this.settings.cacheDir, '.locks', `${version}.lock`);
    const owner = {
      pid: process.pid,
      host: os.hostname(),
      nonce: PROCESS_NONCE,
      at: new Date().toISOString(),
    };
    let told = false;
    for (;;) {
      try {
        await mkdir(lockDir);
        await writeFile(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
        return () => rm(lockDir, { recursive: true, force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      if (await this.isStale(lockDir)) {
        await rm(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!told) {
        onProgress?.(`waiting for another install of Cognite Toolkit ${version} to finish`);
        told = true;
      }
      if (signal?.aborted) throw new PromotionError(ErrorType.ToolkitTransient, 'install cancelled');
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  }

  private async isStale(lockDir: string): Promise<boolean> {
    try {
      const info = await stat(lockDir);
      // An install runs the venv step and pip, each up to the timeout, then a version check.
      if (Date.now() - info.mtimeMs > 2 * this.settings.timeout + 180_000) return true;
      const owner = JSON.parse(await readFile(path.join(lockDir, 'owner.json'), 'utf8')) as {
        pid: number;
        host: string;
        nonce?: string;
      };
      if (owner.host !== os.hostname()) return false;
      // Our own pid from an earlier life of this process (a restarted container reuses pid and hostname).
      if (owner.pid === process.pid) return owner.nonce !== PROCESS_NONCE;
      try {
        process.kill(owner.pid, 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    } catch {
      // The owner file is not written yet (or the lock just went away): not stale.
      return false;
    }
  }

  /** Removes the least recently used versions beyond maxVersions, never `keep` or one used within the hour. */
  private async evict(keep: string): Promise<void> {
    const entries = await readdir(this.settings.cacheDir, { withFileTypes: true });
    const versions: Array<{ version: string; usedAt: number; locked: boolean }> = [];
    for (const e of entries) {
      // Only what this installer made: a version-named folder (a misplaced cacheDir must not cost other data).
      if (!e.isDirectory() || !TOOLKIT_VERSION_PATTERN.test(e.name)) continue;
      // Another process may be installing it right now: it counts, but is never removed.
      const locked = existsSync(path.join(this.settings.cacheDir, '.locks', `${e.name}.lock`));
      const dir = path.join(this.settings.cacheDir, e.name);
      // Without a marker (an install in progress or broken), the folder's own time gives it the same grace.
      const usedAt = await stat(path.join(dir, COMPLETE_MARKER))
        .catch(() => stat(dir))
        .then(
          (s) => s.mtimeMs,
          () => 0,
        );
      versions.push({ version: e.name, usedAt, locked });
    }
    const excess = versions.length - this.settings.maxVersions;
    if (excess <= 0) return;
    const candidates = versions
      .filter((v) => v.version !== keep && !v.locked && Date.now() - v.usedAt > EVICTION_GRACE_MS)
      .sort((a, b) => a.usedAt - b.usedAt)
      .slice(0, excess);
    for (const v of candidates)
      await rm(path.join(this.settings.cacheDir, v.version), { recursive: true, force: true });
  }
}

function minimalEnv(): NodeJS.ProcessEnv {
  const keep = [
    'PATH',
    'HOME',
    'TMPDIR',
    'LANG',
    'PIP_INDEX_URL',
    'PIP_EXTRA_INDEX_URL',
    'PIP_CONFIG_FILE',
    'HTTPS_PROXY',
    'HTTP_PROXY',
    'NO_PROXY',
    'https_proxy',
    'http_proxy',
    'no_proxy',
    'SSL_CERT_FILE',
    'REQUESTS_CA_BUNDLE',
  ];
  const env: NodeJS.ProcessEnv = {};
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/**
 * Running the Toolkit version a configuration pins: reading the pin from cdf.toml, installing versions on
 * demand into a shared cache (with a fake python, so no network and no real packages), and choosing which
 * `cdf` runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TOOLKIT_INSTALL_DEFAULTS } from '../../config/defaults';
import { type ToolkitVersionsConfig } from '../../config/schema';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { readPinnedVersion } from '../../activities/toolkit/pinned-version';
import { matchesVersionPattern, ToolkitInstaller } from '../../activities/toolkit/toolkit-installer';
import { createToolkitResolver, ToolkitResolver } from '../../activities/toolkit/toolkit-resolver';
import { tempDir } from './helpers';

const FAKE_PYTHON = path.resolve(__dirname, '..', 'support', 'fake-python.sh');
const MARKER = 'toolkit-install.json';
const HOUR_MS = 3_600_000;

type InstallSettings = ToolkitVersionsConfig['install'];
interface Fake {
  /** Seconds pip "downloads" for. */
  sleep?: number;
  /** Versions the package index does not have. */
  missing?: string[];
  offline?: boolean | 'unreachable-index';
}

/** Runs `fn`, expecting a PromotionError, and returns it. */
async function failure(fn: () => Promise<unknown>): Promise<PromotionError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof PromotionError) return err;
    throw err;
  }
  throw new Error('expected a PromotionError, but it succeeded');
}

function run(executable: string, ...args: string[]): string {
  const result = spawnSync(executable, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${executable} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

describe('toolkit versions', () => {
  const tmp = tempDir('cdf-toolkit-versions-');
  let n = 0;
  /** A fresh folder per test, so caches and logs never leak between tests. */
  let work: string;
  let cacheDir: string;
  let pipLog: string;

  beforeEach(async () => {
    work = path.join(tmp.dir, `t${++n}`);
    cacheDir = path.join(work, 'cache');
    pipLog = path.join(work, 'pip.log');
    await mkdir(work, { recursive: true });
  });
  afterAll(() => tmp.cleanup());

  function settings(overrides: Partial<InstallSettings> = {}): InstallSettings {
    return {
      enabled: true,
      allow: ['*'],
      cacheDir,
      maxVersions: 4,
      python: FAKE_PYTHON,
      packages: { ...TOOLKIT_INSTALL_DEFAULTS.packages },
      timeout: 30_000,
      ...overrides,
    };
  }

  /** The installer with the fake python; FAKE_* reach it through childEnv (it drops the worker's env). */
  function installer(overrides: Partial<InstallSettings> = {}, fake: Fake = {}): ToolkitInstaller {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: os.homedir(), FAKE_PIP_LOG: pipLog };
    if (fake.sleep !== undefined) env.FAKE_PIP_SLEEP = String(fake.sleep);
    if (fake.missing) env.FAKE_PIP_MISSING = fake.missing.join(' ');
    if (fake.offline) env.FAKE_PIP_OFFLINE = fake.offline === true ? '1' : fake.offline;
    return new ToolkitInstaller(settings(overrides), env);
  }

  /** One line per pip install the fake ran. */
  function pipInstalls(): string[] {
    return existsSync(pipLog) ? readFileSync(pipLog, 'utf8').split('\n').filter(Boolean) : [];
  }

  async function setUsedAt(version: string, msAgo: number): Promise<void> {
    const t = new Date(Date.now() - msAgo);
    await utimes(path.join(cacheDir, version, MARKER), t, t);
  }

  describe('readPinnedVersion', () => {
    async function project(toml?: string): Promise<string> {
      const dir = path.join(work, 'project');
      await mkdir(dir, { recursive: true });
      if (toml !== undefined) await writeFile(path.join(dir, 'cdf.toml'), toml);
      return dir;
    }

    it('reads [modules] version among comments and other sections', async () => {
      const dir = await project(
        [
          '# Toolkit settings for this repository',
          '[cdf]',
          'default_env = "dev"  # the environment used when none is given',
          '',
          '[modules]',
          '# must match the installed cognite-toolkit',
          'version = "0.9.28" # pinned',
          '',
          '[alpha_flags]',
          'graphql = true',
          '',
        ].join('\n'),
      );
      await expect(readPinnedVersion(dir)).resolves.toEqual({ version: '0.9.28' });
    });

    it('pins nothing when there is no cdf.toml', async () => {
      const pin = await readPinnedVersion(await project());
      expect(pin.version).toBeNull();
    });

    it('treats the Toolkit\'s "any version" 0.0.0 as no pin', async () => {
      const pin = await readPinnedVersion(await project('[modules]\nversion = "0.0.0"\n'));
      expect(pin.version).toBeNull();
    });

    it('refuses a cdf.toml without [modules] version and says to pin one', async () => {
      for (const toml of ['[cdf]\ndefault_env = "dev"\n', '[modules]\nother = 1\n']) {
        const err = await failure(async () => readPinnedVersion(await project(toml)));
        expect(err.type).toBe(ErrorType.ToolkitUnavailable);
        expect(err.message).toMatch(/no \[modules\] version/);
        expect(err.message).toMatch(/pin the Cognite Toolkit version/);
        expect(err.retryable).toBe(false);
      }
    });

    it.each([
      ['a shell injection', '"0.9.28; rm -rf /"'],
      ['"latest"', '"latest"'],
      ['a number', '0.9'],
      ['a requirement specifier', '">=0.9"'],
    ])('refuses %s as the version', async (_what, value) => {
      const err = await failure(async () =>
        readPinnedVersion(await project(`[modules]\nversion = ${value}\n`)),
      );
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.message).toMatch(/is not a Toolkit version such as "0\.9\.28"/);
    });

    it('refuses a cdf.toml that is not TOML', async () => {
      const err = await failure(async () =>
        readPinnedVersion(await project('[modules\nversion = "0.9.28"\n')),
      );
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.message).toMatch(/cdf\.toml is not valid TOML/);
    });
  });

  describe('version patterns, allow list and extra packages', () => {
    it('matches "*" patterns as a whole version', () => {
      expect(matchesVersionPattern('0.9.28', '0.9.*')).toBe(true);
      expect(matchesVersionPattern('0.10.1', '0.9.*')).toBe(false);
      expect(matchesVersionPattern('10.9.1', '0.9.*')).toBe(false);
      expect(matchesVersionPattern('0.9.28', '0.9.28')).toBe(true);
      expect(matchesVersionPattern('0.9.280', '0.9.28')).toBe(false);
      // "." is literal, not "any character".
      expect(matchesVersionPattern('0x9x28', '0.9.*')).toBe(false);
      expect(matchesVersionPattern('0.9.28', '*')).toBe(true);
      expect(matchesVersionPattern('1.0.0rc1', '*')).toBe(true);
    });

    it('allows only versions matching a pattern of the allow list', () => {
      const only09 = installer({ allow: ['0.9.*', '1.0.0'] });
      expect(only09.isAllowed('0.9.28')).toBe(true);
      expect(only09.isAllowed('1.0.0')).toBe(true);
      expect(only09.isAllowed('0.10.1')).toBe(false);
      expect(only09.isAllowed('0.8.271')).toBe(false);
      expect(installer({ allow: ['*'] }).isAllowed('0.10.1')).toBe(true);
      expect(installer({ allow: [] }).isAllowed('0.9.28')).toBe(false);
    });

    it('adds authlib for 0.8.x and nothing for 0.9.x with the default packages', () => {
      const inst = installer();
      expect(inst.packagesFor('0.8.271')).toEqual(['authlib==1.9.10']);
      expect(inst.packagesFor('0.9.28')).toEqual([]);
    });
  });

  describe('ToolkitInstaller', () => {
    it('installs a version into the cache, verifies it and reuses it afterwards', async () => {
      const inst = installer();
      await expect(inst.cached('0.9.28')).resolves.toBeUndefined();
      const progress: string[] = [];

      const exe = await inst.install('0.9.28', (line) => progress.push(line));

      expect(exe).toBe(path.join(cacheDir, '0.9.28', 'bin', 'cdf'));
      expect(run(exe, '--version')).toContain('version: 0.9.28');
      const marker = JSON.parse(await readFile(path.join(cacheDir, '0.9.28', MARKER), 'utf8'));
      expect(marker).toMatchObject({ version: '0.9.28', requirements: ['cognite-toolkit==0.9.28'] });
      expect(progress).toContain('installed Cognite Toolkit 0.9.28');
      expect(existsSync(path.join(cacheDir, '.locks', '0.9.28.lock'))).toBe(false);
      await expect(inst.cached('0.9.28')).resolves.toBe(exe);
      // A second request is served from the cache.
      await expect(inst.install('0.9.28')).resolves.toBe(exe);
      expect(pipInstalls()).toHaveLength(1);
      expect(pipInstalls()[0]).toContain('--no-input');
    });

    it('installs the extra packages configured for the version', async () => {
      await installer().install('0.8.271');
      expect(pipInstalls()).toHaveLength(1);
      expect(pipInstalls()[0]).toMatch(/cognite-toolkit==0\.8\.271 authlib==1\.9\.10$/);
    });

    it('runs pip once for concurrent installs of one version in one worker', async () => {
      const inst = installer({}, { sleep: 0.3 });
      const [a, b] = await Promise.all([inst.install('0.9.28'), inst.install('0.9.28')]);
      expect(a).toBe(b);
      expect(pipInstalls()).toHaveLength(1);
    });

    it('runs pip once when two worker processes sharing the cache install one version', async () => {
      const first = installer({}, { sleep: 0.3 });
      const second = installer({}, { sleep: 0.3 });
      const waiting: string[] = [];
      const [a, b] = await Promise.all([
        first.install('0.9.28', (l) => waiting.push(l), AbortSignal.timeout(8_000)),
        second.install('0.9.28', (l) => waiting.push(l), AbortSignal.timeout(8_000)),
      ]);
      expect(a).toBe(b);
      expect(run(a, '--version')).toContain('version: 0.9.28');
      expect(pipInstalls()).toHaveLength(1);
      expect(waiting).toContain('waiting for another install of Cognite Toolkit 0.9.28 to finish');
    });

    it('takes over a lock left by a process on this host that died', async () => {
      const dead = spawnSync('true');
      expect(dead.pid).toBeGreaterThan(0);
      const lockDir = path.join(cacheDir, '.locks', '0.9.28.lock');
      await mkdir(lockDir, { recursive: true });
      await writeFile(
        path.join(lockDir, 'owner.json'),
        JSON.stringify({ pid: dead.pid, host: os.hostname(), at: new Date().toISOString() }),
      );

      const started = Date.now();
      // A lock that is not taken over makes install() wait; the signal turns that into a failure.
      const exe = await installer().install('0.9.28', undefined, AbortSignal.timeout(5_000));

      expect(Date.now() - started).toBeLessThan(5_000);
      expect(run(exe, '--version')).toContain('version: 0.9.28');
      expect(pipInstalls()).toHaveLength(1);
      expect(existsSync(lockDir)).toBe(false);
    });

    it('fails for good when the package index has no such version', async () => {
      const err = await failure(() => installer({}, { missing: ['9.9.9'] }).install('9.9.9'));
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/Cognite Toolkit 9\.9\.9 cannot be installed/);
      expect(err.message).toContain('cognite-toolkit==9.9.9');
      expect(existsSync(path.join(cacheDir, '.locks', '9.9.9.lock'))).toBe(false);
    });

    it('an index it cannot reach ("from versions: none") is retried, not reported as a missing version', async () => {
      const err = await failure(() => installer({}, { offline: 'unreachable-index' }).install('0.9.28'));
      expect(err.type).toBe(ErrorType.ToolkitTransient);
      expect(err.retryable).toBe(true);
    });

    it('fails retryably when the network is down, and a later attempt installs it', async () => {
      const err = await failure(() => installer({}, { offline: true }).install('0.9.28'));
      expect(err.type).toBe(ErrorType.ToolkitTransient);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/could not pip install cognite-toolkit==0\.9\.28/);
      expect(err.message).toContain('Network is unreachable');
      await expect(installer().cached('0.9.28')).resolves.toBeUndefined();

      const exe = await installer().install('0.9.28');
      expect(run(exe, '--version')).toContain('version: 0.9.28');
      expect(pipInstalls()).toHaveLength(2);
    });

    it('redoes an install that stopped halfway (no completion marker)', async () => {
      const bin = path.join(cacheDir, '0.9.28', 'bin');
      await mkdir(bin, { recursive: true });
      await writeFile(path.join(bin, 'cdf'), '#!/bin/sh\necho "half-installed" >&2\nexit 1\n');
      await chmod(path.join(bin, 'cdf'), 0o755);
      await writeFile(path.join(cacheDir, '0.9.28', 'partial-download'), 'x');
      const inst = installer();
      await expect(inst.cached('0.9.28')).resolves.toBeUndefined();

      const exe = await inst.install('0.9.28');

      expect(run(exe, '--version')).toContain('version: 0.9.28');
      expect(existsSync(path.join(cacheDir, '0.9.28', MARKER))).toBe(true);
      expect(existsSync(path.join(cacheDir, '0.9.28', 'partial-download'))).toBe(false);
      expect(pipInstalls()).toHaveLength(1);
    });

    it('never evicts a version another process is installing right now', async () => {
      const inst = installer({ maxVersions: 2 });
      await inst.install('0.9.1');
      await setUsedAt('0.9.1', 30 * HOUR_MS);
      // 0.9.2 is half installed by a live process (this one): its folder has no marker, and it holds the lock.
      await mkdir(path.join(cacheDir, '0.9.2', 'bin'), { recursive: true });
      await mkdir(path.join(cacheDir, '.locks', '0.9.2.lock'), { recursive: true });
      await writeFile(
        path.join(cacheDir, '.locks', '0.9.2.lock', 'owner.json'),
        JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() }),
      );
      const old = new Date(Date.now() - 50 * HOUR_MS);
      await utimes(path.join(cacheDir, '0.9.2'), old, old);

      await inst.install('0.9.3');
      expect(existsSync(path.join(cacheDir, '0.9.2', 'bin'))).toBe(true);
      // The old, unused, unlocked version is the one that goes.
      expect(existsSync(path.join(cacheDir, '0.9.1'))).toBe(false);
      await rm(path.join(cacheDir, '.locks', '0.9.2.lock'), { recursive: true, force: true });
    });

    it('a Python that cannot be run is a configuration problem named as such, not retried', async () => {
      const err = await failure(() =>
        installer({ python: path.join(work, 'no-such-python3') }).install('0.9.28'),
      );
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('no-such-python3');
      expect(err.message).toContain('toolkit.versions.install.python');
    });

    it('evicts the least recently used version beyond maxVersions, never one used within a day', async () => {
      const inst = installer({ maxVersions: 2 });
      await inst.install('0.9.1');
      await inst.install('0.9.2');
      await setUsedAt('0.9.1', 30 * HOUR_MS);
      await setUsedAt('0.9.2', 26 * HOUR_MS);

      await inst.install('0.9.3');
      // Three versions, two allowed: the least recently used goes.
      expect(existsSync(path.join(cacheDir, '0.9.1'))).toBe(false);
      expect(existsSync(path.join(cacheDir, '0.9.2', 'bin', 'cdf'))).toBe(true);
      expect(existsSync(path.join(cacheDir, '0.9.3', 'bin', 'cdf'))).toBe(true);

      // Using 0.9.2 marks it recently used: installing another version then evicts nothing.
      await expect(inst.cached('0.9.2')).resolves.toBeDefined();
      expect(Date.now() - (await stat(path.join(cacheDir, '0.9.2', MARKER))).mtimeMs).toBeLessThan(HOUR_MS);
      await inst.install('0.9.4');
      for (const v of ['0.9.2', '0.9.3', '0.9.4'])
        expect(existsSync(path.join(cacheDir, v, 'bin', 'cdf'))).toBe(true);
      // The reinstall of an evicted version works.
      expect(run(await inst.install('0.9.1'), '--version')).toContain('version: 0.9.1');
    });
  });

  describe('ToolkitResolver', () => {
    function resolver(
      opts: { installed?: Record<string, string>; install?: Partial<InstallSettings>; fake?: Fake } = {},
    ): ToolkitResolver {
      const inst = installer(opts.install, opts.fake);
      return new ToolkitResolver(
        { installed: opts.installed ?? {}, install: settings(opts.install) },
        '/usr/local/bin/cdf-default',
        inst,
      );
    }

    async function prebuilt(version: string): Promise<string> {
      const exe = path.join(work, 'prebuilt', version, 'cdf');
      await mkdir(path.dirname(exe), { recursive: true });
      await writeFile(exe, `#!/bin/sh\necho "CDF-Toolkit version: ${version}."\n`);
      await chmod(exe, 0o755);
      return exe;
    }

    it('runs a version listed in toolkit.versions.installed without installing anything', async () => {
      const exe = await prebuilt('0.8.271');
      const resolved = await resolver({ installed: { '0.8.271': exe } }).forVersion('0.8.271');
      expect(resolved).toEqual({ version: '0.8.271', executable: exe, source: 'installed' });
      expect(run(resolved.executable, '--version')).toContain('version: 0.8.271');
      expect(pipInstalls()).toHaveLength(0);
      expect(existsSync(path.join(cacheDir, '0.8.271'))).toBe(false);
    });

    it('names the configured path when a listed executable does not exist', async () => {
      const missing = path.join(work, 'nowhere', 'cdf');
      const err = await failure(() => resolver({ installed: { '0.8.271': missing } }).forVersion('0.8.271'));
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.message).toContain(missing);
      expect(err.message).toContain('Cognite Toolkit 0.8.271');
      expect(pipInstalls()).toHaveLength(0);
    });

    it('uses a cached install', async () => {
      const exe = await installer().install('0.9.28');
      const resolved = await resolver().forVersion('0.9.28');
      expect(resolved).toEqual({ version: '0.9.28', executable: exe, source: 'cache' });
      expect(pipInstalls()).toHaveLength(1);
    });

    it('explains how to provide a version when installs are off and it is not cached', async () => {
      const err = await failure(() => resolver({ install: { enabled: false } }).forVersion('0.9.28'));
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.retryable).toBe(false);
      expect(err.message).toContain('Cognite Toolkit 0.9.28');
      expect(err.message).toMatch(/on-demand installs are off/);
      expect(err.message).toContain('toolkit.versions.installed."0.9.28"');
      expect(pipInstalls()).toHaveLength(0);
    });

    it('still uses a cached version when installs are off', async () => {
      const exe = await installer().install('0.9.28');
      const resolved = await resolver({ install: { enabled: false } }).forVersion('0.9.28');
      expect(resolved).toEqual({ version: '0.9.28', executable: exe, source: 'cache' });
    });

    it('refuses to install a version outside the allow list and names the list', async () => {
      const err = await failure(() =>
        resolver({ install: { allow: ['0.9.*', '1.*'] } }).forVersion('0.8.271'),
      );
      expect(err.type).toBe(ErrorType.ToolkitUnavailable);
      expect(err.message).toContain('Cognite Toolkit 0.8.271');
      expect(err.message).toContain('toolkit.versions.install.allow (0.9.*, 1.*)');
      expect(pipInstalls()).toHaveLength(0);
    });

    it('runs the default executable for a project that pins no version', async () => {
      const project = path.join(work, 'project');
      await mkdir(project, { recursive: true });
      await expect(resolver().forProject(project)).resolves.toEqual({
        version: null,
        executable: '/usr/local/bin/cdf-default',
        source: 'default',
      });
      await writeFile(path.join(project, 'cdf.toml'), '[modules]\nversion = "0.0.0"\n');
      await expect(resolver().forProject(project)).resolves.toMatchObject({ source: 'default' });
      expect(pipInstalls()).toHaveLength(0);
    });

    it('installs an allowed version the project pins on demand', async () => {
      const project = path.join(work, 'project');
      await mkdir(project, { recursive: true });
      await writeFile(
        path.join(project, 'cdf.toml'),
        '[cdf]\ndefault_env = "dev"\n[modules]\nversion = "0.9.28"\n',
      );
      const res = resolver({ install: { allow: ['0.9.*'] } });

      const resolved = await res.forProject(project);
      expect(resolved).toEqual({
        version: '0.9.28',
        executable: path.join(cacheDir, '0.9.28', 'bin', 'cdf'),
        source: 'installed-on-demand',
      });
      expect(run(resolved.executable, '--version')).toContain('version: 0.9.28');
      // The next run finds it in the cache.
      await expect(res.forProject(project)).resolves.toMatchObject({ source: 'cache' });
      expect(pipInstalls()).toHaveLength(1);
    });

    it('createToolkitResolver builds a working resolver from the worker configuration', async () => {
      const exe = await prebuilt('0.8.271');
      const res = createToolkitResolver({
        executable: 'cdf',
        versions: { installed: { '0.8.271': exe }, install: settings() },
      });
      await expect(res.forVersion('0.8.271')).resolves.toMatchObject({
        source: 'installed',
        executable: exe,
      });
      // With the worker's own minimal child environment (no FAKE_* variables): the fake installs normally.
      const resolved = await res.forVersion('0.9.28');
      expect(resolved.source).toBe('installed-on-demand');
      expect(realpathSync(resolved.executable)).toBe(
        realpathSync(path.join(cacheDir, '0.9.28', 'bin', 'cdf')),
      );
    });
  });
});

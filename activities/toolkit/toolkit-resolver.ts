/**
 * Chooses the `cdf` that matches what a checkout pins: a prebuilt executable from the configuration, a cached
 * on-demand install, or a new install. A version that cannot be had fails with a message naming the version and
 * how to provide it.
 */
import { existsSync } from 'node:fs';
import type { ToolkitVersionsConfig, WorkerConfig } from '../../config/schema';
import { ErrorType, PromotionError } from '../../contracts/errors';
import { readPinnedVersion } from './pinned-version';
import { ToolkitInstaller, type InstallProgress } from './toolkit-installer';

export interface ResolvedToolkit {
  /** The version the checkout pins; null when it pins none (then `toolkit.executable` runs). */
  version: string | null;
  executable: string;
  source: 'installed' | 'cache' | 'installed-on-demand' | 'default';
}

export class ToolkitResolver {
  constructor(
    private readonly versions: ToolkitVersionsConfig,
    private readonly defaultExecutable: string,
    private readonly installer: ToolkitInstaller,
  ) {}

  /** The Toolkit for the project in `projectDir` (the folder holding cdf.toml). */
  async forProject(
    projectDir: string,
    onProgress?: InstallProgress,
    signal?: AbortSignal,
  ): Promise<ResolvedToolkit> {
    const pin = await readPinnedVersion(projectDir);
    if (pin.version === null) return { version: null, executable: this.defaultExecutable, source: 'default' };
    return this.forVersion(pin.version, onProgress, signal);
  }

  async forVersion(
    version: string,
    onProgress?: InstallProgress,
    signal?: AbortSignal,
  ): Promise<ResolvedToolkit> {
    if (Object.prototype.hasOwnProperty.call(this.versions.installed, version)) {
      const executable = this.versions.installed[version]!;
      if (executable.includes('/') && !existsSync(executable)) {
        throw unavailable(
          version,
          `toolkit.versions.installed."${version}" names ${executable}, which does not exist`,
        );
      }
      return { version, executable, source: 'installed' };
    }
    const cached = await this.installer.cached(version);
    if (cached) return { version, executable: cached, source: 'cache' };
    const { install } = this.versions;
    if (!install.enabled) {
      throw unavailable(
        version,
        'it is not installed and on-demand installs are off (toolkit.versions.install.enabled: false)',
      );
    }
    if (!this.installer.isAllowed(version)) {
      throw unavailable(
        version,
        `it is not installed and toolkit.versions.install.allow (${install.allow.join(', ')}) does not allow installing it`,
      );
    }
    const executable = await this.installer.install(version, onProgress, signal);
    return { version, executable, source: 'installed-on-demand' };
  }
}

/** The resolver a worker uses: prebuilt versions and the on-demand cache from its configuration. */
export function createToolkitResolver(
  toolkit: Pick<WorkerConfig['toolkit'], 'versions' | 'executable'>,
): ToolkitResolver {
  return new ToolkitResolver(
    toolkit.versions,
    toolkit.executable,
    new ToolkitInstaller(toolkit.versions.install),
  );
}

function unavailable(version: string, why: string): PromotionError {
  return new PromotionError(
    ErrorType.ToolkitUnavailable,
    `Cognite Toolkit ${version}, pinned by cdf.toml [modules] version, is not available on this worker: ${why}. ` +
      `Provide it with toolkit.versions.installed."${version}": <path to its cdf> in the worker configuration ` +
      `(pip install cognite-toolkit==${version} into a virtualenv), or let the worker install it ` +
      `(toolkit.versions.install.enabled and .allow).`,
  );
}

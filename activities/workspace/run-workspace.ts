/**
 * A run's folders on this worker: the checkout of the pinned commit, the build, the plan-hash marker and the
 * leftover-detection folders. They are caches derived from the run's ids (config/data-layout.ts): a worker that
 * lacks them rebuilds them from the pinned commit.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { DataLayout, RunIds, RunLayout } from '../../config/data-layout';
import { removeDotEnvFiles, type ConfigRepository } from '../git/config-repository';

export class RunWorkspace {
  constructor(
    private readonly layout: DataLayout,
    private readonly repository: Pick<ConfigRepository, 'resolve' | 'checkout' | 'remove'>,
  ) {}

  folders(run: RunIds): RunLayout {
    return this.layout.run(run);
  }

  resolve(ref: string): Promise<string> {
    return this.repository.resolve(ref);
  }

  /**
   * Makes `dir` hold `commit` (a new worker may run on another machine) without .env files, which would override
   * the credentials the worker passes. Returns the .env files it removed.
   */
  async checkout(commit: string, dir: string): Promise<string[]> {
    await this.repository.checkout(commit, dir);
    return removeDotEnvFiles(dir);
  }

  /** The hash of the plan the run's build was last diffed into, if this worker has that build. */
  async builtPlanHash(run: RunIds): Promise<string | undefined> {
    const marker = this.folders(run).planHashMarker;
    return existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : undefined;
  }

  async recordBuiltPlanHash(run: RunIds, hash: string): Promise<void> {
    const f = this.folders(run);
    await mkdir(f.dir, { recursive: true });
    await writeFile(f.planHashMarker, hash);
  }

  /** Removes checkouts and builds; keeps the run folder itself (and its marker) for a reset run. */
  async clean(run: RunIds): Promise<void> {
    const f = this.folders(run);
    if (existsSync(f.checkout)) await this.repository.remove(f.checkout);
    if (existsSync(f.leftovers.checkout)) await this.repository.remove(f.leftovers.checkout);
    await rm(f.build, { recursive: true, force: true });
    await rm(f.leftovers.dir, { recursive: true, force: true });
    await mkdir(f.dir, { recursive: true });
  }
}

/**
 * A run's folders on this worker: the checkout of the pinned commit, the build, the plan-hash marker and the
 * leftover-detection folders. They are caches derived from the run's ids (config/data-layout.ts): a worker that
 * lacks them rebuilds them from the pinned commit.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { DataLayout, RunIds, RunLayout } from '../../config/data-layout';
import { removeDotEnvFiles, type ConfigRepository } from '../git/config-repository';

export interface BuiltPlan {
  planHash: string;
  /** Absent in markers written before versions were recorded; null when the checkout pins none. */
  toolkitVersion?: string | null;
}

export class RunWorkspace {
  constructor(
    private readonly layout: DataLayout,
    private readonly repository: Pick<ConfigRepository, 'resolve' | 'checkout' | 'remove' | 'isOnBranch'>,
  ) {}

  folders(run: RunIds): RunLayout {
    return this.layout.run(run);
  }

  /** Where the Toolkit works on the run's pinned commit: its checkout, and the run's log folder. */
  commitTarget(
    run: RunIds,
    environment: string,
    commit: string,
  ): { environment: string; commit: string; worktreeDir: string; logDir: string } {
    const f = this.folders(run);
    return { environment, commit, worktreeDir: f.checkout, logDir: f.toolkitLogs };
  }

  resolve(ref: string): Promise<string> {
    return this.repository.resolve(ref);
  }

  isOnBranch(commit: string, branch: string): Promise<boolean> {
    return this.repository.isOnBranch(commit, branch);
  }

  /**
   * Makes `dir` hold `commit` (a new worker may run on another machine) without .env files, which would override
   * the credentials the worker passes. Returns the .env files it removed.
   */
  async checkout(commit: string, dir: string): Promise<string[]> {
    await this.repository.checkout(commit, dir);
    return removeDotEnvFiles(dir);
  }

  /**
   * The plan the run's build was last diffed into, and the Toolkit version that built it, if this worker has
   * that build. Markers written before versions were recorded hold only the hash.
   */
  async builtPlan(run: RunIds): Promise<BuiltPlan | undefined> {
    const marker = this.folders(run).planHashMarker;
    if (!existsSync(marker)) return undefined;
    const text = (await readFile(marker, 'utf8')).trim();
    if (!text.startsWith('{')) return { planHash: text };
    try {
      return JSON.parse(text) as BuiltPlan;
    } catch {
      return undefined;
    }
  }

  async recordBuiltPlan(run: RunIds, plan: BuiltPlan): Promise<void> {
    const f = this.folders(run);
    await mkdir(f.dir, { recursive: true });
    await writeFile(f.planHashMarker, JSON.stringify(plan));
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

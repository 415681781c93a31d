/**
 * A run workspace and a Toolkit resolver that need no git and no Toolkit install: every ref resolves to one
 * commit, a checkout is an empty folder, and every checkout pins 0.9.28 (for activity tests and benchmarks that run
 * a profile of their own).
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ToolkitResolver } from '../../activities/toolkit/toolkit-resolver';
import { CliToolkitRunner } from '../../activities/toolkit/toolkit-runner';
import { createToolkitSteps, type ToolkitSteps } from '../../activities/toolkit/toolkit-steps';
import { RunWorkspace } from '../../activities/workspace/run-workspace';
import { dataLayout, type DataLayout } from '../../config/data-layout';
import type { WorkerConfig } from '../../config/schema';

export const PINNED_TOOLKIT = { version: '0.9.28', executable: 'cdf', source: 'cache' as const };

export const pinnedResolver = { forProject: async () => PINNED_TOOLKIT } as unknown as ToolkitResolver;

export function emptyCheckouts(layout: DataLayout, commit: string): RunWorkspace {
  return new RunWorkspace(layout, {
    resolve: async () => commit,
    checkout: async (_commit: string, dir: string) => void mkdirSync(dir, { recursive: true }),
    remove: async () => undefined,
    isOnBranch: async () => false,
  });
}

/** The configuration's own commands, run for real with `secrets` as the worker's, over emptyCheckouts. */
export function stepsOverEmptyCheckouts(
  config: WorkerConfig,
  commit: string,
  secrets: Record<string, string>,
  logger: Logger,
): { workspace: RunWorkspace; steps: ToolkitSteps } {
  const workspace = emptyCheckouts(dataLayout(config.dataDir), commit);
  const steps = createToolkitSteps({
    toolkit: new CliToolkitRunner({ config, secrets }),
    resolver: pinnedResolver,
    workspace,
    projectDir: config.repository.projectDir,
    logger,
  });
  return { workspace, steps };
}

/**
 * Where things live under the worker's data directory. Worker wiring, activities and the CLI all derive their
 * paths from here, so a change of layout is made once. Run folders are derived from the run's ids only (never
 * from anything recorded in history), so a retry on another worker finds, or rebuilds, the same folders.
 */
import path from 'node:path';

/** The ids of one workflow run; every folder of a run is derived from these. */
export interface RunIds {
  workflowId: string;
  runId: string;
}

export interface RunLayout {
  /** The run's own folder; survives cleanup so a reset run finds its marker files. */
  dir: string;
  /** Git worktree of the pinned commit. */
  checkout: string;
  /** `cdf build` output that the dry-run and the apply use. */
  build: string;
  /** The dry-run's output (secrets masked) while the plan document is made of it; removed once it is stored. */
  planOutput: string;
  /** Holds the hash of the plan the build was last diffed into, and the Toolkit version that built it. */
  planHashMarker: string;
  /** `--log-dir` of the Toolkit: request/response logs stay out of the checkout. */
  toolkitLogs: string;
  /** Rollbacks: checkout and pruned build of the currently deployed commit, for leftover detection. */
  leftovers: { dir: string; checkout: string; build: string };
}

export interface DataLayout {
  root: string;
  /** Bare clone of the configuration repository. */
  mirror: string;
  /** The default artifact store (artifacts/filesystem-artifact-store.ts): plans/, named/. */
  artifacts: string;
  /** Per-environment deployment ledger files. */
  ledger: string;
  /** Default on-demand cache of Toolkit versions (one virtualenv per version). */
  toolkits: string;
  /** The process groups of running Toolkit commands, by worker pid (activities/process/orphan-guard.ts). */
  processes: string;
  run(run: RunIds): RunLayout;
}

export function dataLayout(dataDir: string): DataLayout {
  const root = path.resolve(dataDir);
  return {
    root,
    mirror: path.join(root, 'mirror.git'),
    artifacts: path.join(root, 'artifacts'),
    ledger: path.join(root, 'ledger'),
    toolkits: path.join(root, 'toolkits'),
    processes: path.join(root, 'processes'),
    run(run) {
      // Any workflow id the server accepts must stay a single folder under runs/: no separators, and no
      // leading dots (".." would climb out of runs/).
      const dir = path.join(
        root,
        'runs',
        run.workflowId
          .replace(/[^A-Za-z0-9._-]/g, '_')
          .replace(/^\./, '_')
          .slice(0, 200),
        run.runId.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 100),
      );
      const leftovers = path.join(dir, 'leftovers');
      return {
        dir,
        checkout: path.join(dir, 'checkout'),
        build: path.join(dir, 'build'),
        planOutput: path.join(dir, 'plan-output'),
        planHashMarker: path.join(dir, 'plan-hash'),
        toolkitLogs: path.join(dir, 'toolkit-logs'),
        leftovers: {
          dir: leftovers,
          checkout: path.join(leftovers, 'checkout'),
          build: path.join(leftovers, 'build'),
        },
      };
    },
  };
}

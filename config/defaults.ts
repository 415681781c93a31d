/**
 * Defaults shared by the worker configuration, the CLI and the local stack. Each is written here once; the
 * schema, the CLI flags and docs/configuration.md (checked by a test) take them from this module.
 */
export const TEMPORAL_DEFAULTS = {
  address: '127.0.0.1:7233',
  namespace: 'default',
  taskQueue: 'cdf-promotions',
  uiUrl: 'http://127.0.0.1:8233',
} as const;

/** Relative to the configuration file's folder. */
export const DEFAULT_DATA_DIR = '../data';

/**
 * Where plan texts and build reports are kept: a folder (`<dataDir>/artifacts` unless `artifacts.dir`) or an
 * S3 bucket. The S3 settings apply only with `store: s3`.
 */
export const ARTIFACT_DEFAULTS = {
  store: 'filesystem',
  region: 'us-east-1',
  forcePathStyle: false,
} as const;

/**
 * The worker's Prometheus endpoint (`/metrics`: the Temporal SDK's metrics and the service's own). Off unless the
 * configuration turns it on: a worker should not open a port nobody asked for, and several workers on one host need
 * a port each. 9464 is the usual port of OpenTelemetry's Prometheus exporter and collides with nothing of ours
 * (7233, 8233, 4010, 4020).
 */
export const METRICS_DEFAULTS = {
  enabled: false,
  host: '0.0.0.0',
  port: 9464,
} as const;

/**
 * Workflows (runs and environment entities) kept in the worker's memory between their steps; past this many, the
 * least recent is evicted and replayed from its history when its approval (or timer) comes. Each cached one costs
 * 3 to 5 MB; at 100, 300 parked runs took the worker to 760 MB, at 10 under 400 MB (bench/README.md): a parked
 * run need not stay in memory, and a replay of a promotion's history is cheap.
 */
export const WORKER_DEFAULTS = {
  maxCachedWorkflows: 10,
  /**
   * Start commands (git, the Toolkit) from a small helper process (activities/process/spawn-helper.ts): starting
   * one from the worker itself blocks it for 5 to 30 ms, more the more memory it holds.
   */
  spawnHelper: true,
  /**
   * Threads that run workflow code, each a V8 isolate with its own copy of the workflow bundle and its own replay
   * garbage. A second thread completed a burst of approved runs 16 to 22% faster on a 2-core VM, but 2,000 parked
   * runs then held 442 MB instead of 292 MB (docs/operations.md, "Throughput"): one keeps them under 400 MB.
   */
  workflowThreads: 1,
} as const;

/**
 * The worker process's environment, set by its launchers (the Docker image, `npm start`, the benchmarks): glibc and
 * Node read these when the process starts.
 * - MALLOC_ARENA_MAX: glibc's malloc arenas for the worker's many threads (the SDK's core, the workflow threads)
 *   kept about 100 to 200 MB of freed memory; two arenas keep the worker's RSS close to what it uses.
 * - NODE_OPTIONS=--max-semi-space-size=2: V8's young generation, per isolate (the main thread and the workflow
 *   thread), at most 2 x 2 MB instead of 2 x 16 MB. Replays leave short-lived garbage that a large young generation
 *   keeps: with 300 parked runs the worker held 284 MB instead of 383 MB, for no measurable CPU (bench/README.md).
 */
export const WORKER_PROCESS_ENV = {
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: '--max-semi-space-size=2',
} as const;

/** `env` with WORKER_PROCESS_ENV added, keeping Node options `env` already has. */
export function withWorkerProcessEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const nodeOptions = [env.NODE_OPTIONS, WORKER_PROCESS_ENV.NODE_OPTIONS].filter(Boolean).join(' ');
  return { ...env, ...WORKER_PROCESS_ENV, NODE_OPTIONS: nodeOptions };
}

export const CONFIG_ENV_VAR = 'CDF_PROMOTION_CONFIG';
export const DEFAULT_CONFIG_PATH = 'config/promotion.yaml';

export const TOOLKIT_DEFAULTS = {
  profile: 'cdf',
  executable: 'cdf',
  timeoutsMs: { build: 10 * 60_000, diff: 15 * 60_000, apply: 60 * 60_000 },
} as const;

/** On-demand installs of the Toolkit version a repository pins (`cdf.toml` `[modules] version`). */
export const TOOLKIT_INSTALL_DEFAULTS = {
  enabled: true,
  /** Version patterns that may be installed; `*` matches any run of characters. */
  allow: ['*'] as string[],
  maxVersions: 4,
  python: 'python3',
  timeoutMs: 15 * 60_000,
  /**
   * Extra requirements per version pattern: 0.8.x imports authlib without declaring it (0.9.x declares it).
   */
  packages: { '0.8.*': ['authlib==1.9.10'] } as Record<string, string[]>,
} as const;

export const APPROVAL_DEFAULTS = {
  timeoutMs: 72 * 3_600_000,
  requiredApprovals: 1,
  identity: 'name',
  /** How long a signed statement can be used after the time it names. */
  signatureMaxAgeMs: 15 * 60_000,
  excludeCommitAuthors: false,
} as const;

/** How far back a smoke check looks for a completed transformation job. */
export const TRANSFORMATION_WINDOW_MS = 3_600_000;

/** CDF cluster name passed to the Toolkit as CDF_CLUSTER when an environment does not set one. */
export const DEFAULT_CDF_CLUSTER = 'sandbox';

/** PagerDuty's Events API v2 (US service region); a channel's `url` or `urlEnv` names another. */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** The severities PagerDuty's Events API v2 accepts, and the one a failed run is reported with by default. */
export const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export const PAGERDUTY_DEFAULT_SEVERITY = 'error';

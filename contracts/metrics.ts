/**
 * The service's own Prometheus metrics: names, labels, label values and histogram buckets, written once. The
 * workflows, the activities, the worker's runtime (bucket overrides), the Grafana dashboard, docs/operations.md and
 * their tests all read this module, so a metric cannot be renamed in one place and not the others.
 * No logic and no Node built-ins: workflows import it.
 */

/** `ok`: exit 0. `failed`: a non-zero exit the failure classifier calls permanent (validation, auth, bad config).
 * `transient`: a non-zero exit it calls transient (429, 5xx, connection errors; retried). `timeout`: killed at
 * `toolkit.timeouts.<step>`. `cancelled`: killed because the activity was cancelled (or the worker stopped).
 * `not_started`: the executable could not be run at all. */
export const TOOLKIT_RESULTS = ['ok', 'failed', 'transient', 'timeout', 'cancelled', 'not_started'] as const;
export type ToolkitResult = (typeof TOOLKIT_RESULTS)[number];

/** How one wait for approval ended. `other`: the run ended in the wait for a reason none of these names. */
export const APPROVAL_DECISIONS = ['approved', 'rejected', 'expired', 'cancelled', 'other'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** What an alert channel was asked to deliver: a failure alert, or an "approval needed" notice or reminder. */
export const ALERT_MESSAGES = ['alert', 'notice', 'resolve'] as const;
export type AlertMessageKind = (typeof ALERT_MESSAGES)[number];

/**
 * The `outcome` of a run that failed instead of ending with an outcome: `refused` (its request was refused: invalid
 * input such as an unknown environment, a missing signature or a closed gate, or a busy environment with
 * `whenBusy: refuse`) and `failed` (any other failure of the workflow).
 */
export const FAILED_RUN_OUTCOMES = ['refused', 'failed'] as const;
export type FailedRunOutcome = (typeof FAILED_RUN_OUTCOMES)[number];

/** The `environment` label of a run that ended before its environment was known to the configuration. */
export const UNKNOWN_ENVIRONMENT = 'unknown';

export interface MetricDefinition {
  name: string;
  type: 'counter' | 'histogram';
  help: string;
  /** Our labels. The SDK adds `namespace` and `taskQueue`, and `workflowType` or `activityType`. */
  labels: readonly string[];
  /** Histograms: the bucket upper bounds, in the metric's unit (seconds). */
  buckets?: readonly number[];
}

export const RUNS_METRIC = {
  name: 'cdf_promote_runs_total',
  type: 'counter',
  help: 'Promotions and rollbacks that ended, by environment, kind and outcome.',
  labels: ['environment', 'kind', 'outcome'],
} as const satisfies MetricDefinition;

export const APPROVAL_WAIT_METRIC = {
  name: 'cdf_promote_approval_wait_seconds',
  type: 'histogram',
  help: 'How long a plan waited for its decision, by environment, kind and decision.',
  labels: ['environment', 'kind', 'decision'],
  // Minutes to the default 72 h approval timeout.
  buckets: [10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200],
} as const satisfies MetricDefinition;

export const TOOLKIT_COMMAND_METRIC = {
  name: 'cdf_promote_toolkit_command_seconds',
  type: 'histogram',
  help: 'Duration of each Cognite Toolkit command, by command (build, diff, apply, clean) and result.',
  labels: ['command', 'result'],
  // A real `cdf build` or dry run takes seconds; a deploy can take up to the 1 h apply timeout.
  buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600],
} as const satisfies MetricDefinition;

export const ALERTS_SENT_METRIC = {
  name: 'cdf_promote_alerts_sent_total',
  type: 'counter',
  help: 'Alerts and approval notices an alert channel accepted, by channel type and message.',
  labels: ['channel_type', 'message'],
} as const satisfies MetricDefinition;

export const ALERTS_FAILED_METRIC = {
  name: 'cdf_promote_alerts_failed_total',
  type: 'counter',
  help: 'Delivery attempts of alerts and approval notices that failed (each retry counts), by channel type and message.',
  labels: ['channel_type', 'message'],
} as const satisfies MetricDefinition;

export const METRICS: readonly MetricDefinition[] = [
  RUNS_METRIC,
  APPROVAL_WAIT_METRIC,
  TOOLKIT_COMMAND_METRIC,
  ALERTS_SENT_METRIC,
  ALERTS_FAILED_METRIC,
];

/**
 * Metrics of the Temporal SDK (its Rust core) that the dashboard and docs/operations.md use. The SDK defines them,
 * not this service; the metrics integration test checks that a real worker exports each of them. Latencies are in
 * milliseconds (the SDK's default).
 */
export const SDK_METRICS = [
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_workflow_task_schedule_to_start_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_execution_latency',
  'temporal_activity_execution_failed',
  'temporal_sticky_cache_size',
  'temporal_num_pollers',
] as const;

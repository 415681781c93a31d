/**
 * The environment entity's contract: one long-lived workflow per environment (id `environment-<name>`) that
 * serializes changes to it and keeps its ledger. Message definitions and payload types only, no logic, so runs,
 * activities, the CLI and tests share them.
 *
 * A run asks for the environment with the `acquire` update (sent with update-with-start by an activity, so the
 * entity is started on demand); it is granted at once or queued, and a queued run hears `environmentGranted`
 * when its turn comes. Before `cdf deploy` the run's apply confirms with `beginApply` (after that it cannot be
 * superseded), deployments are recorded with `recordDeployment`, and the run sends `release` with its record when
 * its smoke tests are over (or it ends earlier). A holder that dies without releasing is noticed by the entity.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { LeftoverResource, LinkedRun, Outcome, OverrideRecord, WorkflowKind } from './types';

export const ENVIRONMENT_WORKFLOW_TYPE = 'environmentWorkflow';
/** Who requests an automatic rollback (rollback.automatic): the service itself, never a person. */
export const AUTOMATIC_REQUESTER = 'cdf-promote';
/** The task queue of a default deployment (config/defaults.ts TEMPORAL_DEFAULTS.taskQueue). */
const DEFAULT_TASK_QUEUE = 'cdf-promotions';
/**
 * `environment-<name>`, or `environment-<name>@<task queue>` for a service on another task queue: two services
 * sharing a namespace keep separate entities, each served by its own workers.
 */
export const environmentWorkflowId = (environment: string, taskQueue: string): string =>
  taskQueue === DEFAULT_TASK_QUEUE ? `environment-${environment}` : `environment-${environment}@${taskQueue}`;

/**
 * How the entity is started on demand (update-with-start): by a run's activity, or by `cdf-promote freeze` before
 * any run has asked. An entity that already runs is used as it is.
 */
export const entityStartOptions = (
  environment: string,
  taskQueue: string,
  input: Partial<EnvironmentWorkflowInput> = {},
) => ({
  workflowId: environmentWorkflowId(environment, taskQueue),
  taskQueue,
  args: [{ ...input, environment } satisfies EnvironmentWorkflowInput] as [EnvironmentWorkflowInput],
  workflowIdConflictPolicy: 'USE_EXISTING' as const,
});

/** What a run does when the environment is held: wait its turn, give up, or take over a holder that waits. */
export const WHEN_BUSY = ['queue', 'refuse', 'supersede'] as const;
export type WhenBusy = (typeof WHEN_BUSY)[number];

export interface RunClaim {
  workflowId: string;
  runId: string;
  kind: WorkflowKind;
  ref: string;
  /** Absent while the run has not pinned its ref (runs ask for the environment before checking out). */
  commit?: string;
  requestedBy: string;
}

export interface AcquireRequest extends RunClaim {
  whenBusy: WhenBusy;
  /**
   * The run was started with a signed request, whose statement names the workflow id: another run under an id
   * the ledger already has is a replay of that statement, and is refused.
   */
  signedRequest?: boolean;
  /** Jump the queue (automatic rollbacks). */
  front?: boolean;
}

export interface HolderInfo extends RunClaim {
  since: string;
  /** True once its apply has begun: it can no longer be superseded. */
  applying: boolean;
}

export interface QueuedRun extends RunClaim {
  since: string;
}

/** What CDF runs now, as this service deployed it. */
export interface Deployment {
  commit: string;
  workflowId: string;
  runId: string;
  kind: WorkflowKind | 'leftover-removal';
  at: string;
  toolkitVersion?: string | null;
  /** The resources the commit's build defined; null when the profile has no build step. */
  resources: LeftoverResource[] | null;
}

/** One run's line in the environment's ledger. */
export interface LedgerRecord {
  workflowId: string;
  runId: string;
  kind: WorkflowKind;
  ref: string;
  commit?: string;
  planHash?: string;
  toolkitVersion?: string | null;
  requestedBy: string;
  approvals: string[];
  /**
   * The run's outcome; `abandoned` when it ended without releasing (terminated, timed out), `refused` when it
   * failed as invalid input while holding (a gate, a rollback target never deployed here), `applied` for lines
   * imported from a JSONL ledger, which recorded applies but not smoke tests.
   */
  outcome: Outcome | 'abandoned' | 'applied' | 'refused';
  /** Whether anything was applied to CDF. */
  applied: boolean;
  startedAt?: string;
  endedAt: string;
  failure?: string;
  /** Promotions from another environment: that environment. */
  from?: string;
  /** Gates this run passed by override, with the reasons. */
  overrides?: OverrideRecord[];
  /** Automatic rollbacks: the run whose failed smoke tests started it; promotions: the rollback they started. */
  triggeredBy?: LinkedRun;
  rollback?: LinkedRun;
}

export interface LastKnownGood {
  commit: string;
  workflowId: string;
  at: string;
  toolkitVersion?: string | null;
}

export interface Grant {
  environment: string;
  deployed?: Deployment;
  lastKnownGood?: LastKnownGood;
}

export type AcquireResult =
  { granted: true; grant: Grant } | { granted: false; position: number; holder?: HolderInfo };

export interface ReleaseRequest {
  workflowId: string;
  runId: string;
  record?: LedgerRecord;
}

/** An ad-hoc change freeze: approved runs wait before applying until it ends or is lifted. */
export interface Freeze {
  by: string;
  reason: string;
  at: string;
  /** ISO time it ends by itself (at most MAX_FREEZE_MS ahead), unless lifted before. */
  until: string;
}

export interface FreezeRequest {
  by: string;
  reason: string;
  until: string;
}

export interface UnfreezeRequest {
  by: string;
  reason?: string;
}

/** A freeze as the environment's log keeps it: set, and how it ended. */
export interface FreezeLogEntry extends Freeze {
  liftedBy?: string;
  liftedAt?: string;
  liftReason?: string;
}

export interface BeginApplyRequest {
  workflowId: string;
  runId: string;
  /** The environment lets this run apply during a freeze (rollbacks, by setting). */
  throughFreeze?: boolean;
}

/** Absent (older entities) or `{ frozen: undefined }`: go ahead. */
export interface BeginApplyResult {
  frozen?: Freeze;
}

/** What the environment's ledger says of one commit. */
export interface CommitFacts {
  commit: string;
  /** This service applied it to the environment (within the kept ledger, or it is what runs now). */
  deployed: boolean;
  /** A run of it passed its smoke tests there. */
  passed: boolean;
  /** Its latest smoke-tested run there failed: promoting it again needs an override. */
  quarantined?: { workflowId: string; at: string };
  lastKnownGood?: LastKnownGood;
}

export interface EnvironmentState {
  environment: string;
  holder?: HolderInfo;
  queue: QueuedRun[];
  deployed?: Deployment;
  lastKnownGood?: LastKnownGood;
  /** The newest records, oldest first (at most MAX_LEDGER_RECORDS; older ones are counted). */
  ledger: LedgerRecord[];
  droppedRecords: number;
  /** Set once a worker-local JSONL ledger of this environment has been imported (or found absent). */
  legacyImported?: boolean;
  freeze?: Freeze;
  /** The newest freezes, oldest first (at most MAX_FREEZE_LOG). */
  freezeLog?: FreezeLogEntry[];
}

export const MAX_LEDGER_RECORDS = 500;
export const MAX_FREEZE_LOG = 50;
/** Longest ad-hoc freeze: a forgotten freeze must end some day. */
export const MAX_FREEZE_MS = 90 * 24 * 3600_000;
/** Runs that may wait for one environment: whoever can send updates must not grow the entity without bound. */
export const MAX_QUEUED_RUNS = 100;

export interface EnvironmentWorkflowInput {
  environment: string;
  /** Carried over by continue-as-new. */
  state?: EnvironmentState;
  /** How often to look for holders and queued runs that died without releasing (ms). */
  checkEveryMs?: number;
  /** Continue as new after this many events (tests lower it). */
  continueAfterEvents?: number;
}

/** What each of the entity's messages does, as the Temporal UI shows it. */
export const ENTITY_MESSAGE_DESCRIPTIONS = {
  acquire:
    'Internal (sent by a run): ask for the environment; granted, queued, refused naming the holder, or superseding a holder awaiting approval.',
  beginApply:
    'Internal (sent by a run): the holder is about to apply; refused if superseded, answered with the freeze if frozen.',
  recordDeployment: 'Internal (sent by the apply): what CDF runs now.',
  release:
    'Internal (sent by a run): done with the environment, with its ledger record; the next queued run goes ahead.',
  freeze:
    'Freeze the environment: {"by": "<handle>", "reason": "...", "until": "<ISO time, at most 90 days ahead>"}. Approved runs wait before applying.',
  unfreeze: 'Lift the freeze: {"by": "<handle>", "reason": "..."}. A run waiting to apply goes ahead.',
  state: 'Holder, queue (in order), freeze, what CDF runs, the last known good commit and the ledger.',
  commit:
    'What the ledger says of one commit (a full sha): deployed here, passed its smoke tests here, quarantined.',
} as const;

export const acquireUpdate = defineUpdate<AcquireResult, [AcquireRequest]>('acquire');
export const beginApplyUpdate = defineUpdate<BeginApplyResult | void, [BeginApplyRequest]>('beginApply');
export const freezeUpdate = defineUpdate<Freeze, [FreezeRequest]>('freeze');
export const unfreezeUpdate = defineUpdate<FreezeLogEntry, [UnfreezeRequest]>('unfreeze');
export const commitFactsQuery = defineQuery<CommitFacts, [string]>('commit');
export const recordDeploymentUpdate = defineUpdate<void, [Deployment]>('recordDeployment');
export const releaseSignal = defineSignal<[ReleaseRequest]>('release');
export const environmentStateQuery = defineQuery<EnvironmentState>('state');

/** Sent by the entity to a queued run whose turn has come. */
export const environmentGrantedSignal = defineSignal<[Grant]>('environmentGranted');
/** Sent by the entity to the holder when a freeze is lifted early (it may be waiting to apply). */
export const environmentUnfrozenSignal = defineSignal('environmentUnfrozen');
/** Sent by an automatic rollback to the run that started it once it waits at the front of the queue. */
export const rollbackQueuedSignal = defineSignal<[LinkedRun]>('rollbackQueued');
/** Sent by the entity to a holder that a newer run superseded while it waited for approval. */
export const supersededSignal = defineSignal<[{ by: string }]>('superseded');

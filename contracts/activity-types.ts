/**
 * Requests and results of the activities. Everything here is recorded in workflow history, so nothing here may
 * hold a secret or grow with the size of a plan (the plan text stays on disk, addressed by its hash).
 */
import type {
  AcquireRequest,
  AcquireResult,
  BeginApplyRequest,
  BeginApplyResult,
  CommitFacts,
  Deployment,
  LastKnownGood,
  LedgerRecord,
  WhenBusy,
} from './environment-entity';
import type {
  CommitAuthors,
  LeftoverReport,
  LeftoverResource,
  Outcome,
  PlanSummary,
  PromotionResult,
  SmokeCheckResult,
  WorkflowKind,
} from './types';

/** The parts of an environment's configuration the workflow needs to decide; no credentials. */
export interface EnvironmentPolicy {
  environment: string;
  cdfProject: string;
  approvalTimeoutMs: number;
  approvers: string[];
  requiredApprovals: number;
  allowSelfApproval: boolean;
  /** False when this is a rollback and the environment lets rollbacks skip approval. */
  approvalRequired: boolean;
  /** Rollbacks: delete leftovers with `cdf clean` after the apply. */
  removeLeftovers: boolean;
  /** Remind the environment's channels of a waiting run this often (absent: no reminders). */
  remindEveryMs?: number;
  /** Named groups of approvers, and how many approvals each group must give besides the total. */
  groups?: Record<string, string[]>;
  requiredFromGroups?: Record<string, number>;
  /** A plan that changed before the apply goes back to approval (default), or fails the run. */
  onPlanChange?: 'reapprove' | 'fail';
  /**
   * Set for `signed` environments: requests and decisions must carry a statement signed by one of the person's
   * keys (public keys, by person), at most signatureMaxAgeMs old.
   */
  identity?: 'signed';
  signers?: Record<string, string[]>;
  signatureMaxAgeMs?: number;
  /** People who authored commits in the promoted range may not approve it. */
  excludeCommitAuthors?: boolean;
  /** When another run holds the environment: wait in its queue (default), be refused, or supersede a waiting one. */
  whenBusy?: WhenBusy;
  /** Promotion paths (absent in histories from before them): the upstream environment and its lineage gate. */
  promotesFrom?: string;
  allowRef?: boolean;
  lineageRequired?: boolean;
  /** Rollbacks: commits on this branch are accepted besides those deployed here before. */
  rollbackBranch?: string;
  /** After a promotion's smoke tests fail: start a rollback to the last known good (with or without approval). */
  automaticRollback?: 'off' | 'with_approval' | 'without_approval';
  /** This run may apply during a freeze and outside the deployment windows (rollbacks, by setting). */
  throughFreeze?: boolean;
  /** The environment has deployment windows: ask before applying. */
  hasDeployWindows?: boolean;
  temporalUiUrl: string;
  namespace: string;
}

/** Activities derive every folder of a run (checkout, build, leftovers) from this, never from history. */
export interface RunRef {
  workflowId: string;
  runId: string;
}

export interface PrepareCheckoutRequest {
  run: RunRef;
  /** Branch, tag or sha; for a rollback the commit given by the user. */
  ref: string;
  kind: WorkflowKind;
  /** Also tell whether the commit is on this branch (rollback.allowBranch). */
  onBranch?: string;
}

export interface PreparedCheckout {
  commit: string;
  /** Set when onBranch was asked. */
  onBranch?: boolean;
}

/** Whether an environment takes applies now (its deployment windows). */
export type DeployWindowState = { open: true } | { open: false; opensAt: string; why: string };

export interface LegacyLedger {
  deployed?: Deployment;
  records: LedgerRecord[];
}

export interface CommitAuthorsRequest {
  run: RunRef;
  environment: string;
  commit: string;
}

export interface DiffRequest {
  run: RunRef;
  environment: string;
  commit: string;
  /** Absent in histories recorded before rollbacks reported leftovers; treated as 'promotion'. */
  kind?: WorkflowKind;
  removeLeftovers?: boolean;
}

export interface DiffResult {
  planHash: string;
  /** The Cognite Toolkit version the commit pins and the plan was made with; null when it pins none. */
  toolkitVersion?: string | null;
  planSummary: PlanSummary;
  /** Where the artifact store keeps the plan text: a path relative to the worker's data dir, or an s3:// URL. */
  planArtifact: string;
}

export interface ApplyRequest extends DiffRequest {
  planHash: string;
  /** The Toolkit version of the approved plan (absent in histories from before versions were resolved). */
  toolkitVersion?: string | null;
  /** Leftovers that stay in CDF after this apply: the ledger records them as still deployed. */
  leftovers?: LeftoverResource[];
}

export interface RemoveLeftoversRequest {
  run: RunRef;
  environment: string;
  commit: string;
  leftovers: LeftoverReport;
}

export interface ApplyResult {
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  attempts: number;
  toolkitVersion?: string | null;
}

export interface SmokeRequest {
  environment: string;
}

export interface AlertRequest {
  kind: WorkflowKind;
  environment: string;
  outcome: Outcome;
  workflowId: string;
  runId: string;
  ref: string;
  commit?: string;
  planHash?: string;
  requestedBy: string;
  failure: string;
  failedChecks?: SmokeCheckResult[];
  /** The automatic rollback this failure started. */
  rollbackWorkflowId?: string;
  /** Set when this run is an automatic rollback: the run whose smoke tests failed. */
  triggeredBy?: string;
}

/** "Approval needed" when a plan is ready, and reminders while it waits. */
export interface NoticeRequest {
  notice: 'needs_approval' | 'reminder';
  kind: WorkflowKind;
  environment: string;
  workflowId: string;
  runId: string;
  ref: string;
  commit?: string;
  planHash: string;
  planSummary: PlanSummary;
  requestedBy: string;
  reason?: string;
  approvalDeadline: string;
  approvals: number;
  requiredApprovals: number;
  /** Approvers who have not decided yet (the requester left out unless self-approval is allowed). */
  waitingFor: string[];
}

export interface AlertDelivery {
  delivered: string[];
}

export interface CleanupRequest {
  run: RunRef;
}

/** A finished run's audit record: what was asked, by whom, and how it ended (approvals with their proofs). */
export interface AuditRecordRequest {
  run: RunRef;
  record: {
    kind: WorkflowKind;
    environment: string;
    ref: string;
    requestedBy: string;
    reason?: string;
    startedAt: string;
    endedAt: string;
    result: PromotionResult;
  };
}

/**
 * The activities the workflows schedule, by name. Workflows proxy this interface (they never import activity
 * code); activities/index.ts implements it.
 */
export interface PromotionActivities {
  resolveEnvironment(req: { environment: string; kind: WorkflowKind }): Promise<EnvironmentPolicy>;
  prepareCheckout(req: PrepareCheckoutRequest): Promise<PreparedCheckout>;
  findCommitAuthors(req: CommitAuthorsRequest): Promise<CommitAuthors>;
  /** Asks the environment's entity for the environment (update-with-start): granted, or queued. */
  acquireEnvironment(req: { environment: string; claim: AcquireRequest }): Promise<AcquireResult>;
  /** Confirms with the entity, right before the apply, that the run still holds the environment. */
  beginApply(req: {
    environment: string;
    run: RunRef;
    throughFreeze?: BeginApplyRequest['throughFreeze'];
  }): Promise<BeginApplyResult | void>;
  /** What an environment's ledger says of a commit (deployed, passed, quarantined), and its last known good. */
  commitFacts(req: { environment: string; commit: string }): Promise<CommitFacts>;
  /** An environment's last known good commit (promotions `from` it). */
  lastKnownGood(req: { environment: string }): Promise<LastKnownGood | null>;
  /** Whether the environment's deployment windows let this run apply now, or when they open. */
  checkDeployWindow(req: { environment: string }): Promise<DeployWindowState>;
  /** For the entity: which of these runs have ended. */
  findClosedRuns(req: { runs: RunRef[] }): Promise<RunRef[]>;
  /** For the entity, once: a worker-local JSONL ledger of the environment, if this worker has one. */
  importLegacyLedger(req: { environment: string }): Promise<LegacyLedger>;
  buildAndDiff(req: DiffRequest): Promise<DiffResult>;
  applyPlan(req: ApplyRequest): Promise<ApplyResult>;
  removeLeftovers(req: RemoveLeftoversRequest): Promise<LeftoverReport>;
  runSmokeChecks(req: SmokeRequest): Promise<SmokeCheckResult[]>;
  sendAlert(req: AlertRequest): Promise<AlertDelivery>;
  sendNotice(req: NoticeRequest): Promise<AlertDelivery>;
  cleanupRun(req: CleanupRequest): Promise<void>;
  /** Writes the run's audit record to the artifact store (`audit/<workflowId>/<runId>.json`). */
  storeAuditRecord(req: AuditRecordRequest): Promise<{ key: string }>;
}

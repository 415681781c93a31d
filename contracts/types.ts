/**
 * Payload types of the public contract: workflow inputs and results, signal payloads and the status query.
 * Schemas live next to the types so the CLI, the workflows and the tests validate with the same rules.
 * No workflow logic and no Node built-ins here: this module is bundled into the workflow sandbox.
 */
import { z } from 'zod';
import { personNameSchema } from './person-name';
import { MAX_ARMORED_SIGNATURE_LENGTH } from './ssh-signature';

// Environment names become parts of paths, workflow ids and search attributes: keep them boring.
export const environmentNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'must be lower-case letters, digits, "-" or "_" (max 40 chars)');
// A person's handle, normalized (person-name.ts) before it is recorded in history or compared.
const person = personNameSchema;
// Git refs: branch, tag or sha. Anything that could be read as a git option is refused.
const gitRef = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[A-Za-z0-9._\/-]+$/, 'may only contain letters, digits, ".", "_", "/" and "-"')
  .refine((s) => !s.startsWith('-'), 'must not start with "-"')
  .refine((s) => !s.includes('..'), 'must not contain ".."');
const commitSha = z.string().regex(/^[0-9a-f]{7,40}$/, 'must be a hex commit sha (7 to 40 characters)');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-character sha256 hex digest');
// A signed statement (signed-statement.ts): the armored `ssh-keygen -Y sign` output and the time the statement
// names. Only `signed` environments read them; their size is capped like every other field.
const signature = z.string().max(MAX_ARMORED_SIGNATURE_LENGTH);
const signedAt = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 time such as 2026-11-29T17:00:00Z',
});
const signedFields = { signature: signature.optional(), signedAt: signedAt.optional() };
/**
 * Passes a gate that would stop the run (the lineage gate, a quarantined commit). The reason is recorded in the
 * run's status, result and the environment's ledger, and approvers see it.
 */
const override = z
  .object({ reason: z.string().trim().min(10, 'give a reason of at least 10 characters').max(2000) })
  .strict();

const promotionFields = z.object({
  environment: environmentNameSchema,
  // Either a git ref, or `from`: what that (upstream) environment last deployed with passing smoke tests.
  ref: gitRef.optional(),
  from: environmentNameSchema.optional(),
  requestedBy: person,
  reason: z.string().max(2000).optional(),
  override: override.optional(),
  ...signedFields,
});
const oneSource = (input: { ref?: string | undefined; from?: string | undefined }, ctx: z.RefinementCtx) => {
  if ((input.ref === undefined) === (input.from === undefined))
    ctx.addIssue({
      code: 'custom',
      path: [input.ref === undefined ? 'ref' : 'from'],
      message:
        input.ref === undefined
          ? 'give either ref (a branch, tag or sha) or from (the environment whose last known good to promote)'
          : 'give ref or from, not both',
    });
};
export const promotionInputSchema = promotionFields.strict().superRefine(oneSource);
export type PromotionInput = z.infer<typeof promotionInputSchema>;

/** The `ref` a promotion from another environment shows until its commit is known ("from:dev"). */
export const fromRef = (environment: string): string => `from:${environment}`;

/** The `ref` of a rollback without a commit: it targets the environment's last known good commit. */
export const LAST_KNOWN_GOOD_REF = 'last-known-good';

export const rollbackInputSchema = z
  .object({
    environment: environmentNameSchema,
    // Absent: the environment's last known good commit (the last run whose smoke tests passed there).
    commit: commitSha.optional(),
    requestedBy: person,
    reason: z.string().max(2000).optional(),
    ...signedFields,
    // Set only by a promotion that starts this rollback after its smoke tests failed (its child workflow; the
    // rollback checks that its parent is that run, so a caller cannot claim it).
    triggeredBy: z
      .object({ workflowId: z.string().min(1).max(1000), runId: z.string().min(1).max(100) })
      .strict()
      .optional(),
  })
  .strict();
export type RollbackInput = z.infer<typeof rollbackInputSchema>;

export const approveSignalPayloadSchema = z
  .object({
    approver: person,
    planHash: sha256Hex.optional(),
    comment: z.string().max(2000).optional(),
    ...signedFields,
  })
  .strict();
export type ApprovePayload = z.infer<typeof approveSignalPayloadSchema>;

export const rejectSignalPayloadSchema = z
  .object({
    approver: person,
    reason: z.string().max(2000).optional(),
    ...signedFields,
  })
  .strict();
export type RejectPayload = z.infer<typeof rejectSignalPayloadSchema>;

export const cancelPayloadSchema = z
  .object({
    by: person,
    reason: z.string().max(2000).optional(),
    ...signedFields,
  })
  .strict();
export type CancelPayload = z.infer<typeof cancelPayloadSchema>;

export const statementQueryArgsSchema = z
  .object({
    action: z.enum(['approve', 'reject', 'cancel']),
    person,
    signedAt,
  })
  .strict();
export type StatementQueryArgs = z.input<typeof statementQueryArgsSchema>;

/** What an accepted approve / reject / cancel update returns to its caller. */
export interface DecisionResult {
  decision: 'approve' | 'reject' | 'cancel';
  by: string;
  at: string;
  /** The run's phase right after the decision was recorded. */
  phase: Phase;
  approvals: number;
  requiredApprovals: number;
}

/** Why an approval, rejection or cancellation was refused, as counted in status.refusedByReason. */
export const REFUSAL_REASONS = [
  'invalid_payload',
  'not_awaiting_approval',
  'policy_not_loaded',
  'not_an_approver',
  'self_approval',
  'stale_plan',
  'duplicate',
  'may_not_decide',
  'already_finished',
  // Signed environments (approval.identity: signed) and the commit-author rule:
  'unsigned',
  'bad_signature',
  'stale_signature',
  'commit_author',
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** A gate the run passed by its requester's override (the promotion input's `override.reason`). */
export interface OverrideRecord {
  gate: 'lineage' | 'quarantine';
  /** What the gate would have said. */
  detail: string;
  reason: string;
  by: string;
  at: string;
}

/** Runs linked by an automatic rollback: the promotion whose smoke tests failed, and the rollback it started. */
export interface LinkedRun {
  workflowId: string;
  runId?: string;
}

/** Why an approved run waits before its apply, and until when (at the latest). */
export interface ApplyWait {
  why: string;
  /** ISO time the window opens or the freeze ends (it may be lifted earlier). */
  until: string;
}

/** Refused signals kept whole in status and result; older ones are only counted. */
export const MAX_REFUSED_KEPT = 20;

export const PHASES = [
  'preparing',
  // Waiting for another run to release the environment (environment entities).
  'queued',
  'diffing',
  'awaiting_approval',
  // Approved, waiting for the environment's deployment window or the end of a change freeze.
  'waiting_to_apply',
  'applying',
  'smoke_testing',
  'alerting',
  'done',
] as const;
export type Phase = (typeof PHASES)[number];

export const OUTCOMES = [
  'succeeded',
  'no_changes',
  'rejected',
  'expired',
  'smoke_failed',
  'apply_failed',
  'diff_failed',
  'cancelled',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type WorkflowKind = 'promotion' | 'rollback';

/** Counts for one resource type, as the Toolkit reports them in its dry-run summary. */
export interface ResourceChangeCounts {
  resource: string;
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  skipped: number;
  total: number;
  ableToDeploy: boolean;
}

export interface PlanSummary {
  resources: ResourceChangeCounts[];
  totals: Omit<ResourceChangeCounts, 'resource'>;
  /** True when nothing would be created, updated or deleted. */
  empty: boolean;
  /** Rollbacks only: what the target commit lacks but CDF still has. */
  leftovers?: LeftoverReport;
}

export interface DecisionRecord {
  approver: string;
  at: string; // ISO time, from the workflow clock
  comment?: string;
  reason?: string;
  /** In `signed` environments: the verified statement behind the decision. */
  signed?: SignedProof;
}

/** A verified signed statement, kept so an audit can re-check it with `ssh-keygen -Y verify`. */
export interface SignedProof {
  /** The fingerprint of the registered key that signed (SHA256:…). */
  key: string;
  signedAt: string;
  statement: string;
  signature: string;
}

export interface RefusedApproval {
  /** Who the payload claimed to be, cut to 100 characters. */
  approver: string;
  at: string;
  /** Cut to 300 characters. */
  why: string;
  /** Absent in histories from before refusals were classified. */
  reason?: RefusalReason;
}

/** The plan changed between approval and apply: the run went back to approval with a new plan. */
export interface PlanChange {
  at: string;
  /** The plan that had been approved and was not applied. */
  previousPlanHash: string;
  why: string;
}

/** Who wrote the commits a run would bring to an environment (what it runs now, up to the pinned commit). */
export interface CommitAuthors {
  /** The commit the environment last deployed, or null when it has none (then all history up to the commit). */
  since: string | null;
  commits: number;
  /** Registered people (by their emails in the configuration) who authored at least one of the commits. */
  people: string[];
  /** Authors' emails that belong to no registered person (at most 20). */
  unregistered: string[];
}

export interface StepTiming {
  step: Phase;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
}

export interface SmokeCheckResult {
  name: string;
  kind: 'dataModel' | 'assets' | 'transformation';
  passed: boolean;
  detail: string;
}

export interface LeftoverResource {
  kind: string;
  id: string;
}

/**
 * Resources that the currently deployed commit defines and a rollback target lacks. `cdf deploy` never deletes
 * them, so a rollback either leaves them or removes them with `cdf clean` (an environment setting).
 */
export interface LeftoverReport {
  fromCommit: string;
  resources: LeftoverResource[];
  /** How many of them `cdf clean --dry-run` found in CDF (null when it could not be asked). */
  existing: number | null;
  action: 'remove' | 'keep';
  /** Set once the run has dealt with them. */
  result?: 'removed' | 'left' | 'remove_failed';
  detail?: string;
}

export interface PromotionStatus {
  kind: WorkflowKind;
  phase: Phase;
  environment: string;
  ref: string;
  requestedBy: string;
  reason?: string;
  /** In `signed` environments: the requester's verified statement. */
  requestSigned?: SignedProof;
  /** With approval.excludeCommitAuthors: the people who authored commits in the promoted range. */
  commitAuthors?: CommitAuthors;
  commit?: string;
  /** The Cognite Toolkit version the commit pins (cdf.toml), used for its plan and apply. */
  toolkitVersion?: string | null;
  planHash?: string;
  planSummary?: PlanSummary;
  approvalDeadline?: string;
  requiredApprovals: number;
  approvals: DecisionRecord[];
  rejections: DecisionRecord[];
  /** The last MAX_REFUSED_KEPT refused signals (refused updates never reach the workflow's state). */
  refusedApprovals: RefusedApproval[];
  /** All refused signals, kept or not, counted by reason. */
  refusedCount?: number;
  refusedByReason?: Partial<Record<RefusalReason, number>>;
  /** Promotions from another environment: the environment whose last known good this run promotes. */
  from?: string;
  /** Gates passed by override. */
  overrides?: OverrideRecord[];
  /** An automatic rollback: the run whose failed smoke tests started it. */
  triggeredBy?: LinkedRun;
  /** The automatic rollback this run started after its smoke tests failed. */
  rollback?: LinkedRun;
  /** Approved and waiting for a deployment window or the end of a freeze. */
  waitingToApply?: ApplyWait;
  /** Set when the run was cancelled through the cancel update. */
  cancelledBy?: DecisionRecord;
  /** Approved plans that changed before the apply (the run asked for approval again). */
  planChanges?: PlanChange[];
  /** While queued: the place in the environment's queue when the run joined it, and who held it then. */
  queue?: { position: number; holder?: string };
  /** Set when a newer run superseded this one while it waited for approval (environment setting whenBusy). */
  supersededBy?: string;
  /** With group quorums: the groups still lacking approvals ("release-managers: 1 more"). */
  approvalsMissingFrom?: string[];
  timings: StepTiming[];
  smokeResults: SmokeCheckResult[];
  leftovers?: LeftoverReport;
  failure?: string;
  /** Set when no alert channel could be reached, even after retries. */
  alertFailure?: string;
  outcome?: Outcome;
}

export interface PromotionResult {
  outcome: Outcome;
  kind: WorkflowKind;
  environment: string;
  ref: string;
  commit?: string;
  toolkitVersion?: string | null;
  planHash?: string;
  planSummary?: PlanSummary;
  approvals: DecisionRecord[];
  rejections: DecisionRecord[];
  refusedApprovals: RefusedApproval[];
  refusedCount?: number;
  refusedByReason?: Partial<Record<RefusalReason, number>>;
  from?: string;
  overrides?: OverrideRecord[];
  triggeredBy?: LinkedRun;
  rollback?: LinkedRun;
  cancelledBy?: DecisionRecord;
  requestSigned?: SignedProof;
  commitAuthors?: CommitAuthors;
  planChanges?: PlanChange[];
  smokeResults: SmokeCheckResult[];
  leftovers?: LeftoverReport;
  failure?: string;
  alertsSent: number;
  alertFailure?: string;
  timings: StepTiming[];
}

/** Formats zod issues as "key: message; key: message" so errors name what is wrong. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

/**
 * The rules of runs started before names were normalized: any trimmed text up to 100 characters, compared as
 * written. Workflows recorded then keep them on replay (a `patched` marker tells which rules a run uses).
 */
export const legacyPersonSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(100)
  .regex(/^[^\s].*$/, 'must not start with whitespace');

export type NameRules = 'normalized' | 'legacy';

const legacy = {
  promotionInput: promotionFields.extend({ requestedBy: legacyPersonSchema }).strict().superRefine(oneSource),
  rollbackInput: rollbackInputSchema.extend({ requestedBy: legacyPersonSchema }),
  approve: approveSignalPayloadSchema.extend({ approver: legacyPersonSchema }),
  reject: rejectSignalPayloadSchema.extend({ approver: legacyPersonSchema }),
};

/** The schemas of a run, by the name rules it was started with. */
export function schemasFor(rules: NameRules) {
  return rules === 'normalized'
    ? {
        promotionInput: promotionInputSchema,
        rollbackInput: rollbackInputSchema,
        approve: approveSignalPayloadSchema,
        reject: rejectSignalPayloadSchema,
      }
    : legacy;
}

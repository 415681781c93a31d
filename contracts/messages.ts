/**
 * Message definitions: updates, signals and queries, shared by workflows, the CLI and tests. No workflow logic
 * here, so the CLI can import it without pulling workflow code.
 *
 * Decisions are Workflow Updates: a validator refuses a bad one before anything is written to history and the
 * caller hears why at once; the update id makes a retried decision harmless. The signals of the same names stay
 * for compatibility, under the same rules, and what they can add to the run is bounded.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ApprovePayload,
  CancelPayload,
  DecisionResult,
  PromotionStatus,
  RejectPayload,
  StatementQueryArgs,
} from './types';

export const approveUpdate = defineUpdate<DecisionResult, [ApprovePayload]>('approve');
export const rejectUpdate = defineUpdate<DecisionResult, [RejectPayload]>('reject');
export const cancelUpdate = defineUpdate<DecisionResult, [CancelPayload]>('cancel');

/** Compatibility: fire-and-forget; a refused signal is only recorded (bounded) in the status. */
export const approveSignal = defineSignal<[ApprovePayload]>('approve');
export const rejectSignal = defineSignal<[RejectPayload]>('reject');

export const statusQuery = defineQuery<PromotionStatus>('status');
/**
 * The exact statement a decision must sign in a `signed` environment, rendered by the run from its own facts:
 * pipe it to `ssh-keygen -Y sign -n cdf-promote`.
 */
export const statementQuery = defineQuery<string, [StatementQueryArgs]>('statement');

/**
 * What each message does, as the Temporal UI shows it next to the handler ("Send an Update", queries) and the
 * built-in `__temporal_workflow_metadata` query returns it.
 */
export const MESSAGE_DESCRIPTIONS = {
  approve:
    'Approve the plan: {"approver": "<your handle>", "planHash": "<planHash from status>", "comment": "..."}. Only configured approvers; refused with the reason otherwise. Signed environments also need signedAt and signature (cdf-promote approve --sign-with).',
  reject:
    'Reject the plan: {"approver": "<your handle>", "reason": "..."}. An approver, or the requester withdrawing. One rejection ends the run.',
  cancel:
    'Cancel the run: {"by": "<your handle>", "reason": "..."}. The requester or an approver, in any phase before the outcome; during the apply it waits for the Toolkit to stop, then alerts.',
  approveSignal:
    'Compatibility signal: same payload and rules as the approve update, but a refusal is only recorded.',
  rejectSignal:
    'Compatibility signal: same payload and rules as the reject update, but a refusal is only recorded.',
  status:
    'The run now: phase, commit, plan summary, approvals and refusals, queue place, timings, smoke results, outcome.',
  statement:
    'The exact text a decision must sign in a signed environment: {"action": "approve"|"reject"|"cancel", "person": "bob", "signedAt": "<ISO time>"}.',
  environmentGranted:
    "Internal: the environment's entity tells a queued run that the environment is now its.",
  superseded:
    "Internal: the environment's entity tells a run waiting for approval that a newer run took over.",
  environmentUnfrozen: "Internal: the environment's entity tells the holder that a freeze was lifted.",
  rollbackQueued:
    'Internal: an automatic rollback tells the failed promotion that it waits at the front of the queue.',
} as const;

export const PROMOTION_WORKFLOW_TYPE = 'promotionWorkflow';
export const ROLLBACK_WORKFLOW_TYPE = 'rollbackWorkflow';
/** The failure type of a refused update, as the caller sees it. */
export const DECISION_REFUSED_TYPE = 'DecisionRefused';

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

export const PROMOTION_WORKFLOW_TYPE = 'promotionWorkflow';
export const ROLLBACK_WORKFLOW_TYPE = 'rollbackWorkflow';
/** The failure type of a refused update, as the caller sees it. */
export const DECISION_REFUSED_TYPE = 'DecisionRefused';

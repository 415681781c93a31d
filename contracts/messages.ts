/**
 * Signal and query definitions. Shared by workflows, the CLI and tests; holds no workflow logic so the CLI can
 * import it without pulling workflow code.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ApprovePayload, PromotionStatus, RejectPayload } from './types';

export const approveSignal = defineSignal<[ApprovePayload]>('approve');
export const rejectSignal = defineSignal<[RejectPayload]>('reject');
export const statusQuery = defineQuery<PromotionStatus>('status');

export const PROMOTION_WORKFLOW_TYPE = 'promotionWorkflow';
export const ROLLBACK_WORKFLOW_TYPE = 'rollbackWorkflow';

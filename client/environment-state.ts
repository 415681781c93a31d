/**
 * Reading an environment's entity (the workflow `environment-<name>`): who holds it, who waits, and its ledger.
 * An environment that no run has asked for yet has no entity; that is an empty state, not an error.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  environmentStateQuery,
  environmentWorkflowId,
  type EnvironmentState,
} from '../contracts/environment-entity';
import { promotionInputSchema } from '../contracts/types';
import { parseFlags } from './validation';

export function environmentFlag(env: string | undefined): string {
  return parseFlags(
    promotionInputSchema.pick({ environment: true }),
    { environment: env },
    { environment: '--env' },
  ).environment;
}

export async function environmentState(
  client: Client,
  environment: string,
  taskQueue: string,
): Promise<EnvironmentState> {
  try {
    return await client.workflow
      .getHandle(environmentWorkflowId(environment, taskQueue))
      .query(environmentStateQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      return { environment, queue: [], ledger: [], droppedRecords: 0 };
    throw err;
  }
}

/** 1-based place of a run in the environment's queue; 0 when it holds the environment; undefined otherwise. */
export function placeOf(state: EnvironmentState, workflowId: string): number | undefined {
  if (state.holder?.workflowId === workflowId) return 0;
  const i = state.queue.findIndex((q) => q.workflowId === workflowId);
  return i >= 0 ? i + 1 : undefined;
}

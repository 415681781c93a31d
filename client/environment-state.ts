/**
 * Reading an environment's entity (the workflow `environment-<name>`): who holds it, who waits, and its ledger.
 * An environment that no run has asked for yet has no entity; that is an empty state, not an error.
 */
import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  ENVIRONMENT_WORKFLOW_TYPE,
  entityStartOptions,
  environmentStateQuery,
  environmentWorkflowId,
  freezeUpdate,
  unfreezeUpdate,
  type EnvironmentState,
  type Freeze,
  type FreezeLogEntry,
  type FreezeRequest,
  type UnfreezeRequest,
} from '../contracts/environment-entity';
import { ApprovalRefusedError } from './errors';
import { z } from 'zod';
import { environmentNameSchema } from '../contracts/types';
import { parseFlags } from './validation';

export function environmentFlag(env: string | undefined): string {
  return parseFlags(
    z.object({ environment: environmentNameSchema }),
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

/** The entity's refusal (its validator) as exit code 4 with its reason; anything else as it is. */
function refused(err: unknown): unknown {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure)
    return new ApprovalRefusedError(`refused: ${err.cause.message}`);
  return err;
}

/** Freezes an environment; its entity is started if no run has asked for it yet. */
export async function freezeEnvironment(
  client: Client,
  environment: string,
  taskQueue: string,
  req: FreezeRequest,
): Promise<Freeze> {
  const start = new WithStartWorkflowOperation(
    ENVIRONMENT_WORKFLOW_TYPE,
    entityStartOptions(environment, taskQueue),
  );
  try {
    return await client.workflow.executeUpdateWithStart(freezeUpdate, {
      args: [req],
      startWorkflowOperation: start,
    });
  } catch (err) {
    throw refused(err);
  }
}

export async function unfreezeEnvironment(
  client: Client,
  environment: string,
  taskQueue: string,
  req: UnfreezeRequest,
): Promise<FreezeLogEntry> {
  try {
    return await client.workflow
      .getHandle(environmentWorkflowId(environment, taskQueue))
      .executeUpdate(unfreezeUpdate, { args: [req] });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApprovalRefusedError(`refused: ${environment} is not frozen`);
    throw refused(err);
  }
}

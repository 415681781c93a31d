/**
 * The activities' side of the environment entities (workflows/environment-workflow.ts): asking for an
 * environment with update-with-start (the entity starts on demand), confirming an apply, recording what was
 * deployed, reading what an environment runs, and telling which runs have ended. Through the Temporal client the
 * worker injects; nothing here is kept on this worker's disk.
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
  acquireUpdate,
  beginApplyUpdate,
  commitFactsQuery,
  entityStartOptions,
  environmentStateQuery,
  environmentWorkflowId,
  recordDeploymentUpdate,
  type AcquireRequest,
  type AcquireResult,
  type BeginApplyRequest,
  type BeginApplyResult,
  type CommitFacts,
  type Deployment,
  type EnvironmentState,
  type EnvironmentWorkflowInput,
} from '../../contracts/environment-entity';
import { ErrorType, PromotionError } from '../../contracts/errors';
import type { LedgerEntry } from '../ledger/deployment-ledger';

export interface RunIds {
  workflowId: string;
  runId: string;
}

export class EnvironmentEntities {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly entityInput: Partial<EnvironmentWorkflowInput> = {},
  ) {}

  private handle(environment: string) {
    return this.client.workflow.getHandle(environmentWorkflowId(environment, this.taskQueue));
  }

  async acquire(environment: string, req: AcquireRequest): Promise<AcquireResult> {
    const start = new WithStartWorkflowOperation(
      ENVIRONMENT_WORKFLOW_TYPE,
      entityStartOptions(environment, this.taskQueue, this.entityInput),
    );
    try {
      return await this.client.workflow.executeUpdateWithStart(acquireUpdate, {
        args: [req],
        startWorkflowOperation: start,
      });
    } catch (err) {
      throw refusal(err, ErrorType.EnvironmentBusy, ErrorType.InvalidInput);
    }
  }

  async beginApply(environment: string, run: BeginApplyRequest): Promise<BeginApplyResult> {
    try {
      return (await this.handle(environment).executeUpdate(beginApplyUpdate, { args: [run] })) ?? {};
    } catch (err) {
      throw refusal(err, ErrorType.Superseded);
    }
  }

  async recordDeployment(environment: string, deployment: Deployment): Promise<void> {
    await this.handle(environment).executeUpdate(recordDeploymentUpdate, { args: [deployment] });
  }

  /** The entity's state, or undefined when the environment has never been used through an entity. */
  async state(environment: string): Promise<EnvironmentState | undefined> {
    try {
      return await this.handle(environment).query(environmentStateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** What the environment's ledger says of a commit; an environment never used knows nothing of it. */
  async commitFacts(environment: string, commit: string): Promise<CommitFacts> {
    try {
      return await this.handle(environment).query(commitFactsQuery, commit);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { commit, deployed: false, passed: false };
      throw err;
    }
  }

  /** The runs of `runs` that are no longer running (completed, failed, cancelled, terminated, gone). */
  async closedRuns(runs: RunIds[]): Promise<RunIds[]> {
    const closed: RunIds[] = [];
    for (const run of runs) {
      try {
        const d = await this.client.workflow.getHandle(run.workflowId, run.runId).describe();
        if (d.status.name !== 'RUNNING') closed.push(run);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) closed.push(run);
        else throw err;
      }
    }
    return closed;
  }
}

/** A refusal by the entity's validator becomes a typed, non-retryable error; anything else stays retryable. */
function refusal(
  err: unknown,
  ...types: Array<
    typeof ErrorType.EnvironmentBusy | typeof ErrorType.Superseded | typeof ErrorType.InvalidInput
  >
): unknown {
  if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
    const type = types.find((t) => t === (err.cause as ApplicationFailure).type);
    if (type) return new PromotionError(type, err.cause.message);
  }
  return err;
}

/**
 * The deployment ledger kept by the entity, with the interface of the JSONL file it replaces: the apply records
 * what it deployed, leftovers and commit authors read what the environment runs.
 */
export class EntityLedger {
  constructor(private readonly entities: EnvironmentEntities) {}

  async append(entry: LedgerEntry): Promise<void> {
    await this.entities.recordDeployment(entry.environment, deploymentOf(entry));
  }

  async last(environment: string): Promise<LedgerEntry | undefined> {
    const deployed = (await this.entities.state(environment))?.deployed;
    return deployed ? { ...deployed, environment } : undefined;
  }
}

/** A JSONL ledger line as the entity records a deployment. */
export function deploymentOf(entry: LedgerEntry): Deployment {
  return {
    commit: entry.commit,
    workflowId: entry.workflowId,
    runId: entry.runId,
    kind: entry.kind,
    at: entry.at,
    ...(entry.toolkitVersion !== undefined ? { toolkitVersion: entry.toolkitVersion } : {}),
    resources: entry.resources,
  };
}

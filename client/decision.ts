/**
 * Sending a decision (approve, reject, cancel) as a Workflow Update. The workflow's validator answers at once:
 * an accepted decision returns what the run looks like now, a refused one fails with the reason and writes
 * nothing to history. The update id is derived from the decision, so retrying the same decision (a dropped
 * connection, a second click) is answered with the first result instead of counting twice.
 */
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure } from '@temporalio/common';
import { DECISION_REFUSED_TYPE } from '../contracts/messages';
import type { DecisionResult } from '../contracts/types';
import type { GlobalOptions } from './connection';
import { ApprovalRefusedError, CliError } from './errors';
import { print, printJson } from './output';
import { signDecision } from './signing';

/** How long to wait for a worker to take the decision before telling the user to check the workers. */
const DECISION_TIMEOUT_MS = 15_000;

export interface DecisionRequest<P> {
  workflowId: string;
  kind: DecisionResult['decision'];
  by: string;
  update: UpdateDefinition<DecisionResult, [P]>;
  payload: P;
  /** Identifies this decision: the same id again is the same decision. */
  updateId: string;
  reason?: string;
  /** Sign the decision with this key (`--sign-with`): needed in signed environments. */
  signWith?: string;
}

export async function decide<P>(
  client: Client,
  globals: GlobalOptions,
  req: DecisionRequest<P>,
): Promise<void> {
  const handle = client.workflow.getHandle(req.workflowId);
  const payload = req.signWith
    ? { ...req.payload, ...(await signDecision(client, req.workflowId, req.kind, req.by, req.signWith)) }
    : req.payload;
  let result: DecisionResult;
  try {
    result = await client.withDeadline(Date.now() + DECISION_TIMEOUT_MS, () =>
      handle.executeUpdate(req.update, { args: [payload], updateId: req.updateId }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const why =
        err.cause instanceof ApplicationFailure ? err.cause.message : (err.cause?.message ?? err.message);
      // Only the workflow's own refusal is "refused" (exit 4); anything else (e.g. a run held by an older worker
      // without update handlers) is a failure to report as such.
      if (!(err.cause instanceof ApplicationFailure && err.cause.type === DECISION_REFUSED_TYPE)) {
        throw new CliError(
          `${req.kind} could not be sent to ${req.workflowId}: ${why}. A run started by an older version may ` +
            'accept only the signal: temporal workflow signal --name approve|reject',
        );
      }
      if (globals.json) {
        printJson({
          workflowId: req.workflowId,
          decision: req.kind,
          by: req.by,
          accepted: false,
          refused: why,
        });
      }
      throw new ApprovalRefusedError(`refused: ${why}`);
    }
    if (err instanceof WorkflowNotFoundError) throw err;
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadline(err)) {
      throw new CliError(
        `${req.kind} sent to ${req.workflowId}, but no worker took it within ${DECISION_TIMEOUT_MS / 1000} s; ` +
          `is a worker polling task queue ${globals.taskQueue}? The same command again is safe (update id ${req.updateId})`,
      );
    }
    throw err;
  }
  if (globals.json) {
    printJson({ workflowId: req.workflowId, accepted: true, updateId: req.updateId, ...result });
    return;
  }
  if (result.decision === 'approve') {
    print(`approved by ${result.by} (${result.approvals} of ${result.requiredApprovals} required approvals)`);
  } else if (result.decision === 'reject') {
    print(`rejected by ${result.by}${req.reason ? `: ${req.reason}` : ''}`);
  } else {
    print(
      `cancellation of ${req.workflowId} requested by ${result.by}; follow it with \`status ${req.workflowId} --watch\``,
    );
  }
}

function isDeadline(err: unknown): boolean {
  const code =
    (err as { code?: number; cause?: { code?: number } } | undefined)?.code ??
    (err as { cause?: { code?: number } } | undefined)?.cause?.code;
  return code === 4 || /deadline/i.test(String((err as Error | undefined)?.message ?? ''));
}

/** A stable id for one person's decision on one plan: retries of it are deduplicated by the server. */
export function decisionUpdateId(kind: DecisionResult['decision'], by: string, planHash?: string): string {
  return [kind, by, planHash ?? 'current-plan'].join(':');
}

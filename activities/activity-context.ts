/**
 * What every activity shares: a logger bound to the running activity, and one wrapper that turns whatever an
 * activity throws into the failure Temporal should see (contracts/errors.ts decides what is retried).
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { toApplicationFailure } from '../contracts/errors';

/** A child of `base` naming the workflow, run and activity attempt, so every line says where it belongs. */
export function activityLogger(base: Logger): Logger {
  const info = Context.current().info;
  return base.child({
    workflowId: info.workflowExecution?.workflowId,
    runId: info.workflowExecution?.runId,
    activityId: info.activityId,
    activityType: info.activityType,
    attempt: info.attempt,
  });
}

export function instrument<A extends unknown[], R>(
  base: Logger,
  name: string,
  fn: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    try {
      return await fn(...args);
    } catch (err) {
      // A cancellation the workflow asked for must be reported as one (the workflow waits for it and then
      // alerts). A worker shutdown stays a retryable failure so the next worker picks the attempt up.
      const ctx = Context.current();
      if (ctx.cancellationSignal.aborted && ctx.cancellationDetails?.cancelRequested) {
        activityLogger(base).warn(`${name} cancelled by the workflow; the Toolkit process was stopped`);
        throw new CancelledFailure(`${name} cancelled`);
      }
      const failure = toApplicationFailure(err);
      activityLogger(base).warn(
        { errorType: failure.type, nonRetryable: failure.nonRetryable },
        `${name} failed: ${failure.message}`,
      );
      throw failure;
    }
  };
}

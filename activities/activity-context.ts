/**
 * What every activity shares: a logger bound to the running activity, and one wrapper that turns whatever an
 * activity throws into the failure Temporal should see (contracts/errors.ts decides what is retried).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Logger } from 'pino';
import { toApplicationFailure } from '../contracts/errors';
import { redact } from './redact';

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

/**
 * Cleans text that leaves the worker in a failure (history, results, alerts, the UI): secret values are masked
 * and worker-local absolute paths are replaced by the name of the folder they are in.
 */
export type Sanitizer = (text: string) => string;

export function createSanitizer(
  secrets: readonly string[],
  folders: Array<[path: string, name: string]>,
): Sanitizer {
  // Longest first, so a folder inside another is named by the inner one.
  const ordered = folders.filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length);
  return (text) => {
    let out = redact(text, secrets);
    for (const [folder, label] of ordered) out = out.split(folder).join(label);
    return out;
  };
}

export function instrument<A extends unknown[], R>(
  base: Logger,
  name: string,
  fn: (...args: A) => Promise<R>,
  sanitize: Sanitizer = (t) => t,
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
      const failure = sanitizeFailure(toApplicationFailure(err), sanitize);
      activityLogger(base).warn(
        { errorType: failure.type, nonRetryable: failure.nonRetryable },
        `${name} failed: ${failure.message}`,
      );
      throw failure;
    }
  };
}

function sanitizeFailure(failure: ApplicationFailure, sanitize: Sanitizer): ApplicationFailure {
  const clean = (value: unknown): unknown =>
    typeof value === 'string'
      ? sanitize(value)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v)]))
        : value;
  return ApplicationFailure.create({
    message: sanitize(failure.message),
    type: failure.type ?? undefined,
    nonRetryable: failure.nonRetryable ?? undefined,
    details: failure.details?.map(clean),
  });
}

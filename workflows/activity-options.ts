/**
 * Named activity-option presets. Retry policies live here, next to the error types they do not retry.
 */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../contracts/errors';

/**
 * Every step is kept alive with a heartbeat every 2 s (activities/heartbeat.ts, carrying the step's progress
 * when it has some): with an 8 s heartbeat timeout, an attempt whose worker died is retried on a live worker within about
 * 10 s (8 s + the 1 s retry interval + the pick-up), instead of after its start-to-close timeout. Changing these
 * options does not change the commands a workflow sends, so runs in flight replay unchanged.
 */
const DEAD_WORKER_NOTICED_AFTER = '8s';

/** Reads of configuration and git: quick, safe to repeat. */
export const quickActivity: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  // A run cancelled while checking out cleans its folder afterwards: let the checkout finish (or stop) first,
  // or it would write the worktree back after the cleanup.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/**
 * Toolkit build + dry-run. Heartbeats carry the last output lines; a worker that dies is noticed within the
 * heartbeat timeout and the attempt moves to another worker.
 */
export const diffActivity: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  // Toolkit steps heartbeat every 2 s and the worker sends them within 0.5 s: four missed beats mean the
  // worker is gone, and the attempt moves to another worker within 10 s (8 s + the 1 s retry interval).
  heartbeatTimeout: '8s',
  // A cancelled run cleans its folder afterwards: wait until the Toolkit process has really stopped.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/** `cdf deploy`: long, declarative (re-running converges), so retrying transient failures is safe. */
export const applyActivity: ActivityOptions = {
  startToCloseTimeout: '90 minutes',
  heartbeatTimeout: '8s',
  // Never report "cancelled" while `cdf deploy` may still be writing to CDF.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/** Read-only checks; transient API errors are retried. */
export const smokeActivity: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/** Alert delivery keeps trying for a long while: a lost alert is worse than a late one. */
export const alertActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  scheduleToCloseTimeout: '1 hour',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.Configuration],
  },
};

/** Approval notices and reminders: best effort, never holding up the run. */
export const noticeActivity: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: DEAD_WORKER_NOTICED_AFTER,
  scheduleToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '2s',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ErrorType.Configuration],
  },
};

/**
 * Typed errors and their mapping to Temporal failures, in one place. Activities throw these classes; the
 * mapping decides what Temporal retries. Workflows match on the type names.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';

export const ErrorType = {
  InvalidInput: 'InvalidInput',
  UnknownEnvironment: 'UnknownEnvironment',
  GitRefNotFound: 'GitRefNotFound',
  GitError: 'GitError',
  ToolkitTransient: 'ToolkitTransientError',
  ToolkitFailed: 'ToolkitFailedError',
  BuildFailed: 'BuildFailedError',
  PlanParse: 'PlanParseError',
  NotAbleToDeploy: 'NotAbleToDeployError',
  PlanMismatch: 'PlanMismatchError',
  SmokeTransient: 'SmokeTransientError',
  AlertDelivery: 'AlertDeliveryError',
  Configuration: 'ConfigurationError',
  /** The Toolkit version a checkout pins cannot be had on this worker (or the pin itself is unusable). */
  ToolkitUnavailable: 'ToolkitUnavailableError',
  /** The environment is held by another run and the environment refuses to queue (whenBusy: refuse). */
  EnvironmentBusy: 'EnvironmentBusy',
  /** Another run superseded this one while it waited for approval. */
  Superseded: 'Superseded',
} as const;
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Types that retrying cannot fix: the workflow turns them into an outcome immediately. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  ErrorType.InvalidInput,
  ErrorType.UnknownEnvironment,
  ErrorType.GitRefNotFound,
  ErrorType.ToolkitFailed,
  ErrorType.BuildFailed,
  ErrorType.PlanParse,
  ErrorType.NotAbleToDeploy,
  ErrorType.PlanMismatch,
  ErrorType.Configuration,
  ErrorType.ToolkitUnavailable,
  ErrorType.EnvironmentBusy,
  ErrorType.Superseded,
];

export class PromotionError extends Error {
  constructor(
    readonly type: ErrorTypeName,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = type;
  }

  get retryable(): boolean {
    return !NON_RETRYABLE_ERROR_TYPES.includes(this.type);
  }
}

export class InvalidInputError extends PromotionError {
  constructor(message: string) {
    super(ErrorType.InvalidInput, message);
  }
}

export class UnknownEnvironmentError extends PromotionError {
  constructor(environment: string, known: string[]) {
    super(
      ErrorType.UnknownEnvironment,
      `unknown environment "${environment}"; configured environments: ${known.join(', ') || '(none)'}`,
    );
  }
}

export class ConfigurationError extends PromotionError {
  constructor(message: string) {
    super(ErrorType.Configuration, message);
  }
}

/** Converts any error thrown by activity code into the ApplicationFailure Temporal should see. */
export function toApplicationFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof PromotionError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.type,
      nonRetryable: !err.retryable,
      details: err.details ? [err.details] : undefined,
    });
  }
  const e = err instanceof Error ? err : new Error(String(err));
  // Unknown errors stay retryable: a bug shows up as retries in the UI rather than as a silent outcome.
  return ApplicationFailure.create({
    message: e.message,
    type: e.name || 'Error',
    nonRetryable: false,
    cause: e,
  });
}

/**
 * The most specific message in a failure chain, for statuses, results, alerts and the CLI: activity failures
 * (in workflows) and workflow failures (in clients) wrap the error that was thrown.
 */
export function describeFailure(err: unknown): string {
  const wraps =
    err instanceof ActivityFailure || (err instanceof Error && err.name === 'WorkflowFailedError');
  const cause = wraps ? (err as Error).cause : undefined;
  if (cause instanceof ApplicationFailure) return `${cause.type ? `${cause.type}: ` : ''}${cause.message}`;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A workflow input that can never work: typed and not retried. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.InvalidInput,
    message: `invalid input: ${message}`,
    nonRetryable: true,
  });
}

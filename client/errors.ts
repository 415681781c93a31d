/**
 * CLI errors and their exit codes. Commands throw these; the single handler in cli.ts turns any thrown value
 * into one `error: ...` line on stderr and the matching exit code, so scripts can branch on the code.
 */
import { CommanderError } from 'commander';
import {
  NamespaceNotFoundError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  NotFound: 3,
  ApprovalRefused: 4,
  UnsuccessfulOutcome: 5,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.Failure,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags or values: nothing was sent to Temporal. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
  }
}

export class WorkflowMissingError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.NotFound);
  }
}

/** The workflow received the signal but recorded it as refused (wrong approver, stale plan, ...). */
export class ApprovalRefusedError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.ApprovalRefused);
  }
}

/** The run finished, but not with `succeeded` or `no_changes`; the result has already been printed. */
export class UnsuccessfulOutcomeError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.UnsuccessfulOutcome);
  }
}

/** Thrown by commander for --help / --version: not an error, just an early exit. */
export class EarlyExit extends CliError {
  constructor(exitCode: ExitCodeValue) {
    super('', exitCode);
  }
}

const COMMANDER_EXITS_OK = new Set(['commander.helpDisplayed', 'commander.version']);

/** Maps anything thrown during a CLI run to a CliError with a one-line message. */
export function toCliError(err: unknown, context: { address?: string; namespace?: string } = {}): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof CommanderError) {
    if (COMMANDER_EXITS_OK.has(err.code)) return new EarlyExit(ExitCode.Ok);
    // Help was printed because it was asked for (exit 0) or because no command was given (a usage error).
    if (err.code === 'commander.help')
      return new EarlyExit(err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage);
    // Commander prefixes its messages with "error: "; the handler adds its own.
    return new UsageError(oneLine(err.message.replace(/^error:\s*/i, '')));
  }
  if (err instanceof WorkflowNotFoundError) {
    const id = err.workflowId ? ` ${err.workflowId}` : '';
    // Temporal answers NOT_FOUND to signals sent to a closed run; say so rather than "not found".
    if (/already completed/i.test(err.message)) {
      return new WorkflowMissingError(`workflow${id} has already completed and no longer accepts decisions`);
    }
    return new WorkflowMissingError(`workflow${id} not found: ${oneLine(err.message)}`);
  }
  if (err instanceof NamespaceNotFoundError) {
    return new CliError(`namespace not found: ${oneLine(err.message)}`, ExitCode.Failure);
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new CliError(
      `a workflow with id ${err.workflowId} is already running; pass another --workflow-id or inspect it with \`status ${err.workflowId}\``,
    );
  }
  if (err instanceof ServiceError) {
    const grpcCode = (err.cause as { code?: number } | undefined)?.code;
    // gRPC NOT_FOUND without a typed error, e.g. signalling a run that already completed.
    if (grpcCode === 5) return new WorkflowMissingError(`workflow not found: ${oneLine(err.message)}`);
    if (grpcCode === 14 || grpcCode === 4) {
      return new CliError(
        `cannot reach Temporal at ${context.address ?? '(unknown address)'}: ${oneLine(err.message)}`,
      );
    }
    return new CliError(oneLine(err.message));
  }
  if (err instanceof Error) {
    const message = err.message || err.name;
    if (/connect|ECONNREFUSED|UNAVAILABLE|deadline/i.test(message) && context.address) {
      return new CliError(`cannot reach Temporal at ${context.address}: ${oneLine(message)}`);
    }
    return new CliError(oneLine(message));
  }
  return new CliError(oneLine(String(err)));
}

export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

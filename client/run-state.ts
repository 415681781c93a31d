/**
 * Reading a run's state: the `status` query while it runs, with a fallback to the describe/result APIs for
 * closed runs whose query cannot be answered (no worker to replay them).
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { describeFailure } from '../contracts/errors';
import { statusQuery } from '../contracts/messages';
import { CliError, oneLine } from './errors';
import type { Outcome, PromotionResult, PromotionStatus } from '../contracts/types';

/** A query needs a worker; without one the server would keep the call open for a long time. */
const QUERY_TIMEOUT_MS = 10_000;
const CLOSED_QUERY_TIMEOUT_MS = 5_000;

export const SUCCESSFUL_OUTCOMES: ReadonlySet<Outcome> = new Set(['succeeded', 'no_changes']);

export interface RunSnapshot {
  workflowId: string;
  runId: string;
  type: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  execution: string;
  status?: PromotionStatus;
  result?: PromotionResult;
  /** Why the run closed without a result (failed, terminated, timed out). */
  failure?: string;
}

export async function queryStatus(client: Client, handle: WorkflowHandle, timeoutMs = QUERY_TIMEOUT_MS) {
  return client.withDeadline(Date.now() + timeoutMs, () => handle.query(statusQuery));
}

export async function snapshot(client: Client, workflowId: string): Promise<RunSnapshot> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const snap: RunSnapshot = {
    workflowId,
    runId: description.runId,
    type: description.type,
    execution: description.status.name,
  };
  if (snap.execution === 'RUNNING') {
    try {
      snap.status = await queryStatus(client, handle);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new CliError(
        `status query for ${workflowId} failed (${oneLine(reason)}); is a worker polling task queue ${description.taskQueue}?`,
      );
    }
    return snap;
  }
  // Closed runs can still be queried (a worker replays them); the result covers the case where none can.
  try {
    snap.status = await queryStatus(client, handle, CLOSED_QUERY_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw err;
  }
  const outcome = await finalResult(handle);
  if ('result' in outcome) snap.result = outcome.result;
  else snap.failure = outcome.failure;
  return snap;
}

export async function finalResult(
  handle: WorkflowHandle,
): Promise<{ result: PromotionResult } | { failure: string }> {
  try {
    return { result: (await handle.result()) as PromotionResult };
  } catch (err) {
    if (err instanceof WorkflowFailedError) return { failure: describeFailure(err) };
    throw err;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a long step is doing now: the last output line its activity reported in a heartbeat. */
export interface StepProgress {
  activity: string;
  attempt: number;
  step?: string;
  lastLine?: string;
  /** Smoke checks report how many are done. */
  done?: number;
  total?: number;
}

/**
 * The progress of the run's running activities, from their latest heartbeat details (the Toolkit steps send
 * their last output lines; the smoke checks their count). Empty when nothing runs or nothing was reported.
 */
export async function stepProgress(handle: WorkflowHandle): Promise<StepProgress[]> {
  const d = await handle.describe();
  const out: StepProgress[] = [];
  for (const a of d.raw.pendingActivities ?? []) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    let details: Record<string, unknown> = {};
    if (payload) {
      try {
        details = (defaultPayloadConverter.fromPayload(payload) as Record<string, unknown>) ?? {};
      } catch {
        details = {};
      }
    }
    const lines = Array.isArray(details.lastLines) ? (details.lastLines as unknown[]) : [];
    // The last line that says something: the Toolkit's tables end with border lines of box-drawing characters.
    const last = [...lines].reverse().find((l) => typeof l === 'string' && /[A-Za-z0-9]/.test(l));
    out.push({
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      ...(typeof details.step === 'string' ? { step: details.step } : {}),
      ...(typeof last === 'string' ? { lastLine: last } : {}),
      ...(typeof details.done === 'number' ? { done: details.done } : {}),
      ...(typeof details.total === 'number' ? { total: details.total } : {}),
    });
  }
  return out;
}

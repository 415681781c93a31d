/**
 * Where a promotion's time goes, from the event timestamps of its workflow history (the server's clock, which is
 * this machine's clock, as is the bench client's).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface RunTiming {
  startedAt: number;
  /** The workflow task that took the plan in (the run is then awaiting approval). */
  readyAt: number;
  /** The approve update as the run accepted it. */
  approvedAt: number;
  applyScheduledAt: number;
  applyStartedAt: number;
  closedAt: number;
  /** Consecutive events: what happened and how long after the previous event. */
  steps: Array<{ step: string; ms: number }>;
}

const typeName = (e: HistoryEvent): string =>
  (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? 'unknown').replace(/^EVENT_TYPE_/, '');

export async function runTiming(handle: WorkflowHandle): Promise<RunTiming> {
  const events = (await handle.fetchHistory()).events ?? [];
  const at = (e: HistoryEvent | undefined): number => (e ? tsToMs(e.eventTime) : NaN);
  const activityOf = new Map<string, string>();
  const label = (e: HistoryEvent): string => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      activityOf.set(String(e.eventId), scheduled.activityType?.name ?? '?');
      return `${typeName(e)} ${scheduled.activityType?.name}`;
    }
    const ref =
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
      e.activityTaskCompletedEventAttributes?.scheduledEventId ??
      e.activityTaskFailedEventAttributes?.scheduledEventId;
    if (ref !== undefined && ref !== null) return `${typeName(e)} ${activityOf.get(String(ref)) ?? '?'}`;
    const update =
      e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ??
      e.workflowExecutionUpdateAdmittedEventAttributes?.request?.input?.name;
    if (update) return `${typeName(e)} ${update}`;
    const wft = e.workflowTaskScheduledEventAttributes?.taskQueue?.kind;
    // Sticky: to this worker's own queue; normal: through the task queue's partitions.
    if (wft !== undefined && wft !== null) return `${typeName(e)} ${wft === 2 ? 'sticky' : 'normal'}`;
    const signal = e.workflowExecutionSignaledEventAttributes?.signalName;
    if (signal) return `${typeName(e)} ${signal}`;
    return typeName(e);
  };
  const labels = events.map(label);
  const find = (pattern: RegExp, from = 0): number =>
    labels.findIndex((l, i) => i >= from && pattern.test(l));
  const diffDone = find(/^ACTIVITY_TASK_COMPLETED buildAndDiff$/);
  const ready = find(/^WORKFLOW_TASK_COMPLETED$/, diffDone);
  const approved = find(/^WORKFLOW_EXECUTION_UPDATE_ACCEPTED approve$/);
  const applyScheduled = find(/^ACTIVITY_TASK_SCHEDULED applyPlan$/);
  const applyStarted = find(/^ACTIVITY_TASK_STARTED applyPlan$/);
  return {
    startedAt: at(events[0]),
    readyAt: at(events[ready]),
    approvedAt: at(events[approved]),
    applyScheduledAt: at(events[applyScheduled]),
    applyStartedAt: at(events[applyStarted]),
    closedAt: at(events[events.length - 1]),
    steps: events.map((e, i) => ({ step: labels[i]!, ms: i === 0 ? 0 : at(e) - at(events[i - 1]) })),
  };
}

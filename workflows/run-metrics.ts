/**
 * The metrics only a run knows: how it ended, and how long each of its plans waited for a decision. They are
 * recorded once, when the run ends, through the workflow's metric meter, which records nothing while a worker
 * replays history: a run that moves to another worker, or is evicted from the cache and replayed, is not counted
 * again. (A worker that dies after recording but before its workflow task completes can count a run twice: the
 * next worker runs that task again. Metrics are at least once; the environment's ledger is the exact record.)
 *
 * Measuring is pure (`measureRun`, unit-tested); recording is one call per run from pipeline.ts.
 */
import { ApplicationFailure, TemporalFailure, metricMeter } from '@temporalio/workflow';
import { ErrorType } from '../contracts/errors';
import {
  APPROVAL_WAIT_METRIC,
  RUNS_METRIC,
  UNKNOWN_ENVIRONMENT,
  type ApprovalDecision,
  type FailedRunOutcome,
} from '../contracts/metrics';
import type { Outcome, Phase, StepTiming, WorkflowKind } from '../contracts/types';

export interface RunEnd {
  kind: WorkflowKind;
  environment: string;
  /** False until the configuration has accepted the environment: then its name is only what the caller sent. */
  environmentKnown: boolean;
  /** An outcome, or `refused` / `failed` for a run that failed instead. */
  outcome: Outcome | FailedRunOutcome;
  timings: readonly StepTiming[];
  nowMs: number;
}

export interface RunMeasurements {
  run: { environment: string; kind: WorkflowKind; outcome: string };
  approvalWaits: Array<{
    seconds: number;
    labels: { environment: string; kind: WorkflowKind; decision: ApprovalDecision };
  }>;
}

/** The phases a run enters only once its plan is approved. */
const AFTER_APPROVAL: ReadonlySet<Phase> = new Set(['waiting_to_apply', 'applying']);

function decisionFor(outcome: RunEnd['outcome']): ApprovalDecision {
  return outcome === 'rejected' || outcome === 'expired' || outcome === 'cancelled' ? outcome : 'other';
}

/** What to record for a run that ended: its outcome, and one approval wait per time it awaited approval. */
export function measureRun(end: RunEnd): RunMeasurements {
  // An environment the configuration never accepted is not a label value: anyone who can start a run could
  // otherwise create series at will.
  const environment = end.environmentKnown ? end.environment : UNKNOWN_ENVIRONMENT;
  const approvalWaits: RunMeasurements['approvalWaits'] = [];
  end.timings.forEach((timing, i) => {
    if (timing.step !== 'awaiting_approval') return;
    const next = end.timings[i + 1];
    // A wait is approved when the run went on to apply; the last one may still be open when the run ends in it.
    const decision = next && AFTER_APPROVAL.has(next.step) ? 'approved' : decisionFor(end.outcome);
    const ms = timing.durationMs ?? end.nowMs - Date.parse(timing.startedAt);
    approvalWaits.push({
      seconds: Math.max(ms, 0) / 1000,
      labels: { environment, kind: end.kind, decision },
    });
  });
  return { run: { environment, kind: end.kind, outcome: end.outcome }, approvalWaits };
}

function record(end: RunEnd): void {
  const { run, approvalWaits } = measureRun(end);
  metricMeter.createCounter(RUNS_METRIC.name, undefined, RUNS_METRIC.help).add(1, run);
  const wait = metricMeter.createHistogram(
    APPROVAL_WAIT_METRIC.name,
    'float',
    's',
    APPROVAL_WAIT_METRIC.help,
  );
  for (const w of approvalWaits) wait.record(w.seconds, w.labels);
}

type RunFacts = { kind: WorkflowKind; environment: string };

/** A run that ended with an outcome (pipeline.ts `finish`). */
export function recordRunEnded(
  input: RunFacts,
  timings: readonly StepTiming[],
  outcome: Outcome,
  environmentKnown: boolean,
): void {
  record({ ...input, environmentKnown, outcome, timings, nowMs: Date.now() });
}

/**
 * A run that fails instead of ending with an outcome. Only a Temporal failure fails the run; any other error fails
 * the workflow task, which is retried (and would be counted on every retry), so it is not recorded.
 */
export function recordRunFailed(
  input: RunFacts,
  timings: readonly StepTiming[],
  err: unknown,
  environmentKnown: boolean,
): void {
  if (!(err instanceof TemporalFailure)) return;
  const refused =
    err instanceof ApplicationFailure &&
    (err.type === ErrorType.InvalidInput || err.type === ErrorType.EnvironmentBusy);
  record({
    ...input,
    environmentKnown,
    outcome: refused ? 'refused' : 'failed',
    timings,
    nowMs: Date.now(),
  });
}

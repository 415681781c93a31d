/**
 * Starting a run, shared by `start` and `rollback`: start with a FAIL conflict policy (two runs with the same id
 * must never race on one environment), print how to follow up, and optionally wait for the result.
 */
import type { Client } from '@temporalio/client';
import { mdCode, mdText } from '../contracts/markdown';
import type { PromotionResult } from '../contracts/types';
import type { GlobalOptions } from './connection';
import { UnsuccessfulOutcomeError } from './errors';
import { formatResult, nextCommands, print, printJson, uiLink } from './output';
import { finalResult, SUCCESSFUL_OUTCOMES } from './run-state';

export interface LaunchRequest {
  workflowType: string;
  workflowId: string;
  input: object;
  wait: boolean;
  /** What the Temporal UI shows for the run before it has done anything: a one-line summary and markdown. */
  summary?: string;
  details?: string;
}

/** The UI's static summary and details of a run, from its request (escaped: the request is the caller's text). */
export function staticMetadata(req: {
  kind: 'promotion' | 'rollback';
  environment: string;
  ref: string;
  requestedBy: string;
  reason?: string | undefined;
  override?: string | undefined;
}): { summary: string; details: string } {
  const verb = req.kind === 'promotion' ? 'promote' : 'roll back to';
  const summary = `${verb} ${req.ref} to ${req.environment} (requested by ${req.requestedBy})`.slice(0, 200);
  const details = [
    `- environment: ${mdCode(req.environment)}`,
    `- ${req.kind === 'promotion' ? 'ref' : 'target'}: ${mdCode(req.ref, 200)}`,
    `- requested by: ${mdText(req.requestedBy)}`,
    ...(req.reason ? [`- reason: ${mdText(req.reason, 2000)}`] : []),
    ...(req.override ? [`- override: ${mdText(req.override, 2000)}`] : []),
  ].join('\n');
  return { summary, details };
}

export async function launch(client: Client, globals: GlobalOptions, req: LaunchRequest): Promise<void> {
  const handle = await client.workflow.start(req.workflowType, {
    taskQueue: globals.taskQueue,
    workflowId: req.workflowId,
    args: [req.input],
    workflowIdConflictPolicy: 'FAIL',
    ...(req.summary ? { staticSummary: req.summary } : {}),
    ...(req.details ? { staticDetails: req.details } : {}),
  });
  const started = {
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    workflowType: req.workflowType,
    namespace: globals.namespace,
    taskQueue: globals.taskQueue,
    input: req.input,
    url: uiLink(globals.uiUrl, globals.namespace, handle.workflowId),
    next: nextCommands(handle.workflowId, globals),
  };

  if (!globals.json) {
    print(`started ${req.workflowType}`);
    print(`  workflow id: ${started.workflowId}`);
    print(`  run id:      ${started.runId}`);
    print(`  task queue:  ${started.taskQueue}`);
    print(`  ui:          ${started.url}`);
    print('');
    print('next:');
    print(`  ${started.next.status}`);
    print(`  ${started.next.approve}`);
    print(`  ${started.next.reject}`);
  }
  if (!req.wait) {
    if (globals.json) printJson(started);
    return;
  }

  if (!globals.json) print('\nwaiting for the result...');
  const final = await finalResult(handle);
  if (globals.json) printJson({ ...started, ...final });
  else if ('result' in final) print(`\n${formatResult(started.workflowId, final.result)}`);
  else print(`\nrun failed: ${final.failure}`);
  checkOutcome(final);
}

/** Exit 5 unless the run ended in an outcome that leaves the environment where it was asked to be. */
export function checkOutcome(final: { result: PromotionResult } | { failure: string }): void {
  if ('failure' in final) throw new UnsuccessfulOutcomeError(`run failed: ${final.failure}`);
  const { outcome, failure } = final.result;
  if (!SUCCESSFUL_OUTCOMES.has(outcome)) {
    throw new UnsuccessfulOutcomeError(`run ended with outcome ${outcome}${failure ? `: ${failure}` : ''}`);
  }
}

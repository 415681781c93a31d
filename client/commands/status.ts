import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { environmentState, placeOf } from '../environment-state';
import type { PromotionStatus } from '../../contracts/types';
import { readGlobals, withClient, type GlobalOptions } from '../connection';
import { oneLine } from '../errors';
import { checkOutcome } from '../launch';
import {
  formatReport,
  formatResult,
  formatRunHeader,
  oneLineSafe,
  print,
  printJson,
  PROGRAM_NAME,
} from '../output';
import {
  finalResult,
  queryStatus,
  snapshot,
  sleep,
  stepProgress,
  type RunSnapshot,
  type StepProgress,
} from '../run-state';
import { checkWorkflowId } from '../validation';

const WATCH_INTERVAL_MS = 1000;

interface StatusFlags {
  watch?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'Show the state of a promotion or rollback: phase, plan summary, approvals and step timings. ' +
        'With --watch, follow it until it is done (exit 5 if it ends in anything but succeeded or no_changes).',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .option(
      '--watch',
      "poll every second and print each phase change until the run is done, with long steps' progress (the Toolkit's last output line)",
    )
    .addHelpText(
      'after',
      `\nExamples:\n  $ ${PROGRAM_NAME} status promotion-prod-v1-4-0-20250101T120000\n` +
        `  $ ${PROGRAM_NAME} status promotion-prod-v1-4-0-20250101T120000 --watch`,
    )
    .action(async (workflowId: string, flags: StatusFlags, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      await withClient(globals, (client) =>
        flags.watch ? watch(client, globals, workflowId) : show(client, globals, workflowId),
      );
    });
}

async function show(client: Client, globals: GlobalOptions, workflowId: string): Promise<void> {
  const snap = await snapshot(client, workflowId);
  // A queued run knows its place when it joined; the environment's entity knows it now.
  if (snap.status?.phase === 'queued') {
    const env = await environmentState(client, snap.status.environment, globals.taskQueue).catch(
      () => undefined,
    );
    const place = env ? placeOf(env, workflowId) : undefined;
    if (env && place !== undefined)
      snap.status.queue = { position: place, ...(env.holder ? { holder: env.holder.workflowId } : {}) };
  }
  if (globals.json) {
    // The raw status is the contract; closed runs whose query could not be answered fall back to the result.
    printJson(snap.status ?? { execution: snap.execution, result: snap.result, failure: snap.failure });
    return;
  }
  print(render(snap));
}

function render(snap: RunSnapshot): string {
  const header = {
    execution: snap.execution,
    type: snap.type,
    runFailure: snap.failure ? oneLine(snap.failure) : undefined,
  };
  if (snap.status) return formatReport(snap.workflowId, snap.status, header);
  if (snap.result) return formatResult(snap.workflowId, snap.result, header);
  return formatRunHeader(snap.workflowId, header);
}

async function watch(client: Client, globals: GlobalOptions, workflowId: string): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  // Fails with "not found" (exit 3) up front rather than after the first poll.
  const first = await handle.describe();
  let closed = first.status.name !== 'RUNNING';
  // The result long-polls on its own; it tells the loop when the run closed without reaching `done`.
  const result = finalResult(handle).finally(() => {
    closed = true;
  });
  // Keeps a rejection from surfacing as unhandled while the loop is still polling.
  result.catch(() => undefined);

  let previous: PromotionStatus | undefined;
  let lastProgress = '';
  for (;;) {
    let status: PromotionStatus | undefined;
    try {
      status = await queryStatus(client, handle, closed ? 5_000 : 10_000);
    } catch (err) {
      if (closed) break;
      throw err;
    }
    report(globals, status, previous);
    previous = status;
    if (LONG_STEPS.has(status.phase) && !closed) {
      // Best effort: progress is a nicety, a failed describe must not end the watch.
      const progress = await stepProgress(handle).catch(() => [] as StepProgress[]);
      const line = progress.map(describeProgress).filter(Boolean).join('; ');
      if (line && line !== lastProgress) {
        if (globals.json) printJson({ event: 'progress', phase: status.phase, activities: progress }, true);
        else print(`${new Date().toISOString().slice(11, 19)}    ${oneLineSafe(line)}`);
        lastProgress = line;
      }
    }
    if (status.phase === 'done' || closed) break;
    await sleep(WATCH_INTERVAL_MS);
  }

  const final = await result;
  if (globals.json) printJson({ event: 'result', workflowId, ...final }, true);
  else if ('result' in final) print(`\n${formatResult(workflowId, final.result)}`);
  else print(`\nrun failed: ${final.failure}`);
  checkOutcome(final);
}

/** Phases whose activities report progress in their heartbeats. */
const LONG_STEPS: ReadonlySet<PromotionStatus['phase']> = new Set(['diffing', 'applying', 'smoke_testing']);

function describeProgress(p: StepProgress): string {
  const retry = p.attempt > 1 ? ` (attempt ${p.attempt})` : '';
  if (p.lastLine) return `${p.step ?? p.activity}${retry}: ${p.lastLine}`;
  if (p.total !== undefined) return `${p.activity}${retry}: ${p.done ?? 0} of ${p.total} checks`;
  return '';
}

function report(
  globals: GlobalOptions,
  status: PromotionStatus,
  previous: PromotionStatus | undefined,
): void {
  const changed =
    !previous ||
    previous.phase !== status.phase ||
    previous.approvals.length !== status.approvals.length ||
    previous.rejections.length !== status.rejections.length ||
    previous.refusedApprovals.length !== status.refusedApprovals.length;
  if (!changed) return;
  if (globals.json) {
    printJson({ event: 'status', status }, true);
    return;
  }
  const at = new Date().toISOString().slice(11, 19);
  // Decisions first: an approval is what moves the run out of awaiting_approval.
  for (const a of status.approvals.slice(previous?.approvals.length ?? 0))
    print(`${at}  approved by ${a.approver}`);
  for (const r of status.rejections.slice(previous?.rejections.length ?? 0)) {
    print(`${at}  rejected by ${r.approver}${r.reason ? `: ${r.reason}` : ''}`);
  }
  for (const r of status.refusedApprovals.slice(previous?.refusedApprovals.length ?? 0)) {
    print(`${at}  refused ${r.approver}: ${r.why}`);
  }
  if (!previous || previous.phase !== status.phase) {
    let extra = '';
    if (status.phase === 'awaiting_approval') {
      extra = `  plan hash ${status.planHash ?? '?'}, ${status.requiredApprovals} approval(s) required`;
      if (status.planSummary) {
        const t = status.planSummary.totals;
        extra += `; plan: ${t.create} create, ${t.update} update, ${t.delete} delete, ${t.unchanged} unchanged`;
      }
    }
    print(`${at}  ${status.phase}${extra}`);
  }
}

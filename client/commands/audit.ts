import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { temporal } from '@temporalio/proto';
import type {
  CommitAuthors,
  DecisionRecord,
  PlanChange,
  RefusedApproval,
  SignedProof,
} from '../../contracts/types';
import { readGlobals, withClient } from '../connection';
import { oneLineSafe, print, printJson, PROGRAM_NAME } from '../output';
import { snapshot } from '../run-state';
import { checkWorkflowId } from '../validation';

/** One thing someone asked of the run, as the server recorded it. */
export interface AuditEvent {
  at: string;
  what: string;
  /** Who the request names (approver, by, requestedBy), as sent. */
  who?: string;
  details: Record<string, unknown>;
}

export interface AuditReport {
  workflowId: string;
  runId?: string;
  requests: AuditEvent[];
  approvals: DecisionRecord[];
  rejections: DecisionRecord[];
  cancelledBy?: DecisionRecord;
  refusedSignals: RefusedApproval[];
  refusedCount: number;
  refusedByReason: Record<string, number>;
  planChanges: PlanChange[];
  /** Signed environments: the requester's verified statement. */
  requestSigned?: SignedProof;
  commitAuthors?: CommitAuthors;
}

/**
 * Prints everything that was asked of a run and what counted: the start with its requester, every decision that
 * reached the run (updates the workflow accepted, signals, cancel and terminate requests) with who, when and the
 * comment or reason, the decisions that counted, and the refused signals with their reasons. Updates the
 * workflow refused never reached the run: their callers were told, and the server keeps no record of them.
 */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'Print every request made of a run (start, approvals, rejections, cancellations) with who, when and why, ' +
        'which decisions counted, and every refused signal with its reason.',
    )
    .argument('<workflowId>', 'workflow id printed by start / rollback')
    .addHelpText(
      'after',
      `\nExample:\n  $ ${PROGRAM_NAME} audit promotion-prod-v1-4-0-20250101T120000\n  $ ${PROGRAM_NAME} audit promotion-prod-v1-4-0-20250101T120000 --json`,
    )
    .action(async (workflowId: string, _flags: unknown, cmd: Command) => {
      const globals = readGlobals(cmd);
      checkWorkflowId(workflowId);
      const report = await withClient(globals, (client) => audit(client, workflowId));
      if (globals.json) printJson(report);
      else print(formatAudit(report));
    });
}

async function audit(client: Client, workflowId: string): Promise<AuditReport> {
  const snap = await snapshot(client, workflowId);
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const record = snap.status ?? snap.result;
  return {
    workflowId,
    runId: snap.runId,
    requests: (history.events ?? []).flatMap(requestOf),
    approvals: record?.approvals ?? [],
    rejections: record?.rejections ?? [],
    cancelledBy: record?.cancelledBy,
    refusedSignals: record?.refusedApprovals ?? [],
    refusedCount: record?.refusedCount ?? record?.refusedApprovals.length ?? 0,
    refusedByReason: (record?.refusedByReason ?? {}) as Record<string, number>,
    planChanges: record?.planChanges ?? [],
    ...(record?.requestSigned ? { requestSigned: record.requestSigned } : {}),
    ...(record?.commitAuthors ? { commitAuthors: record.commitAuthors } : {}),
  };
}

function requestOf(e: temporal.api.history.v1.IHistoryEvent): AuditEvent[] {
  const at = eventTime(e);
  const started = e.workflowExecutionStartedEventAttributes;
  if (started) {
    const input = decode(started.input?.payloads?.[0]);
    return [
      {
        at,
        what: `start ${started.workflowType?.name ?? ''}`.trim(),
        who: nameIn(input, 'requestedBy'),
        details: pick(input, ['environment', 'ref', 'commit', 'reason', 'signedAt']),
      },
    ];
  }
  const signal = e.workflowExecutionSignaledEventAttributes;
  if (signal) {
    const payload = decode(signal.input?.payloads?.[0]);
    return [
      {
        at,
        what: `signal ${signal.signalName ?? ''}`,
        who: nameIn(payload, 'approver'),
        details: pick(payload, ['planHash', 'comment', 'reason', 'signedAt']),
      },
    ];
  }
  const update = e.workflowExecutionUpdateAcceptedEventAttributes;
  if (update) {
    const payload = decode(update.acceptedRequest?.input?.args?.payloads?.[0]);
    return [
      {
        at,
        what: `update ${update.acceptedRequest?.input?.name ?? ''}`,
        who: nameIn(payload, 'approver') ?? nameIn(payload, 'by'),
        details: {
          ...pick(payload, ['planHash', 'comment', 'reason', 'signedAt']),
          updateId: update.acceptedRequest?.meta?.updateId,
        },
      },
    ];
  }
  const cancel = e.workflowExecutionCancelRequestedEventAttributes;
  if (cancel)
    return [
      {
        at,
        what: 'cancel requested (Temporal)',
        who: cancel.identity ?? undefined,
        details: { cause: cancel.cause },
      },
    ];
  const terminated = e.workflowExecutionTerminatedEventAttributes;
  if (terminated)
    return [
      {
        at,
        what: 'terminated (Temporal)',
        who: terminated.identity ?? undefined,
        details: { reason: terminated.reason },
      },
    ];
  return [];
}

function eventTime(e: temporal.api.history.v1.IHistoryEvent): string {
  const t = e.eventTime;
  if (!t?.seconds) return '';
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

function decode(payload: temporal.api.common.v1.IPayload | null | undefined): unknown {
  if (!payload?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8'));
  } catch {
    return undefined;
  }
}

function nameIn(value: unknown, key: string): string | undefined {
  const v = (value as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'string' ? v.slice(0, 100) : undefined;
}

function pick(value: unknown, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = (value as Record<string, unknown> | undefined)?.[k];
    if (v !== undefined) out[k] = typeof v === 'string' ? v.slice(0, 300) : v;
  }
  return out;
}

export function formatAudit(r: AuditReport): string {
  const decision = (d: DecisionRecord) =>
    `${d.approver} at ${d.at}${d.comment ? ` (comment: ${d.comment})` : ''}${d.reason ? ` (reason: ${d.reason})` : ''}`;
  const lines = [
    `${'workflow:'.padEnd(20)}${r.workflowId}`,
    `${'run:'.padEnd(20)}${r.runId ?? ''}`,
    '',
    'requests, as the server recorded them:',
  ];
  for (const e of r.requests) {
    const details = Object.entries(e.details)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    lines.push(
      `  ${oneLineSafe(`${e.at}  ${e.what}${e.who ? ` by ${e.who}` : ''}${details ? `  ${details}` : ''}`)}`,
    );
  }
  // A signed statement is printed as it was signed, so it can be checked again with `ssh-keygen -Y verify`.
  const proof = (p: SignedProof | undefined, indent: string): string[] =>
    p
      ? [
          `${indent}signed with ${oneLineSafe(p.key)} at ${oneLineSafe(p.signedAt)}; the statement:`,
          ...p.statement
            .replace(/\n$/, '')
            .split('\n')
            .map((l) => `${indent}  | ${oneLineSafe(l)}`),
        ]
      : [];
  if (r.requestSigned) lines.push('', 'the request:', ...proof(r.requestSigned, '  '));
  if (r.commitAuthors) {
    const a = r.commitAuthors;
    lines.push(
      '',
      oneLineSafe(
        `authors of the ${a.commits} promoted commit(s) since ${a.since ?? 'the first commit'} (may not approve): ${a.people.join(', ') || '(no registered people)'}${a.unregistered.length ? `; unregistered: ${a.unregistered.join(', ')}` : ''}`,
      ),
    );
  }
  lines.push('', 'decisions that counted:');
  const counted: [string, SignedProof | undefined][] = [
    ...r.approvals.map((d): [string, SignedProof | undefined] => [`approved by ${decision(d)}`, d.signed]),
    ...r.rejections.map((d): [string, SignedProof | undefined] => [`rejected by ${decision(d)}`, d.signed]),
    ...(r.cancelledBy
      ? [
          [`cancelled by ${decision(r.cancelledBy)}`, r.cancelledBy.signed] as [
            string,
            SignedProof | undefined,
          ],
        ]
      : []),
  ];
  if (!counted.length) lines.push('  (none)');
  for (const [c, p] of counted) lines.push(`  - ${oneLineSafe(c)}`, ...proof(p, '    '));
  if (r.planChanges.length) {
    lines.push('', 'approved plans that changed before the apply (approval asked again):');
    for (const c of r.planChanges)
      lines.push(`  - ${oneLineSafe(`${c.at} ${c.previousPlanHash}: ${c.why}`)}`);
  }
  lines.push(
    '',
    `refused signals: ${r.refusedCount}${
      Object.keys(r.refusedByReason).length
        ? ` (${Object.entries(r.refusedByReason)
            .map(([k, v]) => `${k}: ${v}`)
            .join(', ')})`
        : ''
    }`,
  );
  for (const x of r.refusedSignals) lines.push(`  - ${oneLineSafe(`${x.approver} at ${x.at}: ${x.why}`)}`);
  if (r.refusedCount > r.refusedSignals.length)
    lines.push(`  (the last ${r.refusedSignals.length} are kept whole)`);
  lines.push(
    '',
    'Refused updates never reach the run: their callers were told why, and no record of them is kept.',
  );
  return lines.join('\n');
}

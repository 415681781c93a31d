/**
 * Human-readable formatting for the CLI. Functions return strings so they stay testable; `print` and
 * `printJson` are the only places that write to stdout.
 */
import type {
  DecisionRecord,
  PlanSummary,
  PromotionResult,
  PromotionStatus,
  RefusedApproval,
  StepTiming,
} from '../contracts/types';
import { TEMPORAL_DEFAULTS } from '../config/defaults';
import type { GlobalOptions } from './connection';

export const PROGRAM_NAME = 'cdf-promote';

/**
 * Removes what a terminal would interpret rather than show: C0 and C1 control characters (escape sequences can
 * move the cursor and forge a line of output) and invisible format characters (bidi overrides, zero-width), all
 * of which can arrive in names, reasons, comments and failure texts. Newlines and tabs stay.
 */
export function terminalSafe(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g,
    '',
  );
}

/** One value on one line: a newline inside a value could otherwise pass for another field of the report. */
export function oneLineSafe(text: string): string {
  return terminalSafe(text).replace(/[\r\n\t]+/g, ' ⏎ ');
}

export function print(text = ''): void {
  process.stdout.write(`${terminalSafe(text)}\n`);
}

export function printJson(value: unknown, compact = false): void {
  process.stdout.write(`${JSON.stringify(value, null, compact ? undefined : 2)}\n`);
}

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  // Numbers read better right-aligned; detect numeric columns from the data rows.
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return cells.map(line).join('\n');
}

export function uiLink(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Quotes a shell argument only when needed, so printed commands stay copy-pasteable and readable. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Global flags the follow-up commands need to reach the same server; defaults are left out. */
function connectionFlags(globals: GlobalOptions): string {
  const flags: string[] = [];
  if (globals.address !== TEMPORAL_DEFAULTS.address) flags.push(`--address ${shellQuote(globals.address)}`);
  if (globals.namespace !== TEMPORAL_DEFAULTS.namespace)
    flags.push(`--namespace ${shellQuote(globals.namespace)}`);
  return flags.length ? ` ${flags.join(' ')}` : '';
}

export interface NextCommands {
  status: string;
  approve: string;
  reject: string;
}

export function nextCommands(workflowId: string, globals: GlobalOptions): NextCommands {
  const id = shellQuote(workflowId);
  const g = connectionFlags(globals);
  return {
    status: `${PROGRAM_NAME}${g} status ${id} --watch`,
    approve: `${PROGRAM_NAME}${g} approve ${id} --approver <you> --plan-hash <plan hash from status> [--sign-with <your ssh key>]`,
    reject: `${PROGRAM_NAME}${g} reject ${id} --approver <you> --reason '<why>' [--sign-with <your ssh key>]`,
  };
}

export function formatDuration(ms: number | undefined, closed = false): string {
  // An open step of a run that has closed (failed, terminated) never finished; "running" would mislead.
  if (ms === undefined) return closed ? 'unfinished' : 'running';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

export function formatPlanSummary(summary: PlanSummary): string {
  const rows: Array<Array<string | number>> = summary.resources.map((r) => [
    r.resource,
    r.create,
    r.update,
    r.delete,
    r.unchanged,
  ]);
  const t = summary.totals;
  rows.push(['total', t.create, t.update, t.delete, t.unchanged]);
  const body = table(['resource', 'create', 'update', 'delete', 'unchanged'], rows);
  return summary.empty ? `${body}\n(no changes)` : body;
}

const decision = (d: DecisionRecord): string => {
  const note = d.comment ?? d.reason;
  const signed = d.signed ? ` (signed, ${d.signed.key})` : '';
  return `${d.approver} at ${d.at}${signed}${note ? ` — ${note}` : ''}`;
};
const refused = (r: RefusedApproval): string => oneLineSafe(`${r.approver} at ${r.at}: ${r.why}`);
const timing = (t: StepTiming, closed: boolean): Array<string | number> => [
  t.step,
  t.startedAt,
  formatDuration(t.durationMs, closed),
];

/** Fields common to the live status and the final result. */
type Report = Pick<
  PromotionStatus,
  | 'kind'
  | 'environment'
  | 'ref'
  | 'commit'
  | 'queue'
  | 'supersededBy'
  | 'requestSigned'
  | 'from'
  | 'overrides'
  | 'triggeredBy'
  | 'rollback'
  | 'toolkitVersion'
  | 'planHash'
  | 'planSummary'
  | 'approvals'
  | 'rejections'
  | 'refusedApprovals'
  | 'planChanges'
  | 'approvalsMissingFrom'
  | 'timings'
  | 'smokeResults'
  | 'failure'
  | 'outcome'
> &
  Partial<
    Pick<
      PromotionStatus,
      'phase' | 'requestedBy' | 'reason' | 'approvalDeadline' | 'requiredApprovals' | 'waitingToApply'
    >
  >;

export interface ReportHeader {
  /** Temporal's execution status (RUNNING, COMPLETED, FAILED, ...), when known. */
  execution?: string;
  type?: string;
  /** Why the run closed without a result. */
  runFailure?: string;
}

export function formatReport(workflowId: string, r: Report, header: ReportHeader = {}): string {
  const lines: string[] = [];
  const field = (name: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '')
      lines.push(`${`${name}:`.padEnd(20)}${oneLineSafe(String(value))}`);
  };
  const closed = header.execution !== undefined ? header.execution !== 'RUNNING' : r.phase === 'done';
  lines.push(formatRunHeader(workflowId, header));
  field('kind', r.kind);
  field('environment', r.environment);
  field('phase', r.phase);
  field('ref', r.ref);
  if (r.from) field('from', `${r.from} (its last known good commit)`);
  field('commit', r.commit);
  if (r.toolkitVersion !== undefined)
    field(
      'toolkit',
      r.toolkitVersion ? `cognite-toolkit ${r.toolkitVersion}` : 'configured executable (no pin)',
    );
  field(
    'requested by',
    r.requestedBy && r.requestSigned ? `${r.requestedBy} (signed, ${r.requestSigned.key})` : r.requestedBy,
  );
  field('reason', r.reason);
  if (r.queue)
    field('queue', `place ${r.queue.position} in line${r.queue.holder ? `, behind ${r.queue.holder}` : ''}`);
  if (r.supersededBy) field('superseded by', r.supersededBy);
  for (const o of r.overrides ?? []) field(`override (${o.gate})`, `${o.reason} [${o.detail}]`);
  if (r.triggeredBy) field('rollback after', `${r.triggeredBy.workflowId} (its smoke tests failed)`);
  if (r.rollback) field('rollback started', r.rollback.workflowId);
  if (r.waitingToApply && r.phase === 'waiting_to_apply')
    field('waiting to apply', `${r.waitingToApply.why} (until ${r.waitingToApply.until} at the latest)`);
  field('plan hash', r.planHash);
  if (r.phase === 'awaiting_approval') field('approval deadline', r.approvalDeadline);
  if (r.planSummary) {
    lines.push('', 'plan:', indent(formatPlanSummary(r.planSummary)));
  }
  const required =
    r.requiredApprovals !== undefined ? ` (${r.approvals.length} of ${r.requiredApprovals} required)` : '';
  lines.push('', `approvals${required}:`, ...list(r.approvals.map(decision)));
  if (r.approvalsMissingFrom?.length)
    lines.push(`still needed from: ${oneLineSafe(r.approvalsMissingFrom.join(', '))}`);
  if (r.rejections.length) lines.push('rejections:', ...list(r.rejections.map(decision)));
  if (r.refusedApprovals.length) lines.push('refused approvals:', ...list(r.refusedApprovals.map(refused)));
  if (r.planChanges?.length) {
    lines.push(
      'plan changed before the apply (approval asked again):',
      ...list(r.planChanges.map((c) => `${c.at}: ${c.previousPlanHash.slice(0, 12)} not applied: ${c.why}`)),
    );
  }
  if (r.timings.length) {
    lines.push(
      '',
      'steps:',
      indent(
        table(
          ['step', 'started', 'duration'],
          r.timings.map((t) => timing(t, closed)),
        ),
      ),
    );
  }
  if (r.smokeResults.length) {
    lines.push(
      '',
      'smoke checks:',
      ...list(r.smokeResults.map((s) => `${s.passed ? 'pass' : 'FAIL'} ${s.name} (${s.kind}): ${s.detail}`)),
    );
  }
  if (r.outcome || r.failure) lines.push('');
  field('outcome', r.outcome);
  field('failure', r.failure);
  return lines.join('\n');
}

/** What is known about a run even when neither its status nor its result could be read. */
export function formatRunHeader(workflowId: string, header: ReportHeader = {}): string {
  const lines = [`${'workflow:'.padEnd(20)}${workflowId}`];
  if (header.execution) {
    lines.push(
      `${'run:'.padEnd(20)}${header.type ? `${header.type} ` : ''}${header.execution.toLowerCase()}`,
    );
  }
  if (header.runFailure) lines.push(`${'run failed:'.padEnd(20)}${header.runFailure}`);
  return lines.join('\n');
}

export function formatResult(workflowId: string, result: PromotionResult, header: ReportHeader = {}): string {
  const alerts = result.alertsSent ? `\n${'alerts sent:'.padEnd(20)}${result.alertsSent}` : '';
  return `${formatReport(workflowId, { ...result, phase: 'done' }, header)}${alerts}`;
}

function list(items: string[]): string[] {
  return items.length ? items.map((i) => `  - ${oneLineSafe(i)}`) : ['  (none)'];
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

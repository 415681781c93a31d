/**
 * The run's "current details" in the Temporal UI: markdown a person reads at a glance, without running a query
 * or reading JSON. Phase, commit, the plan per resource type, approvals so far and who may still approve, the
 * exact commands (our CLI and the UI's "Send an Update") to decide, and the failure once there is one.
 *
 * Pure: the pipeline renders it again whenever the status changes (setCurrentDetails writes no history).
 * Everything a requester or a tool controls is escaped: no links, images, HTML or table breaks can be injected.
 */
import type { EnvironmentPolicy } from '../contracts/activity-types';
import { mdCode, mdText } from '../contracts/markdown';
import type { PromotionStatus } from '../contracts/types';

/** The UI shows at most 20 KB of details. */
export const MAX_DETAILS_LENGTH = 20_000;

export interface DetailsContext {
  workflowId: string;
  /** Approvers who may still decide (the requester left out unless self-approval is allowed). */
  waitingFor: string[];
  policy?: EnvironmentPolicy;
}

const PHASE_LABEL: Record<PromotionStatus['phase'], string> = {
  preparing: 'preparing (pinning the commit)',
  queued: 'queued (another run holds the environment)',
  diffing: 'diffing (build and dry-run against the environment)',
  awaiting_approval: 'awaiting approval',
  waiting_to_apply: 'approved, waiting to apply',
  applying: 'applying (cdf deploy)',
  smoke_testing: 'smoke testing',
  alerting: 'alerting the operators',
  done: 'done',
};

export function renderCurrentDetails(status: PromotionStatus, ctx: DetailsContext): string {
  const lines: string[] = [];
  const outcome = status.outcome ? ` — **${status.outcome.replace(/_/g, ' ')}**` : '';
  lines.push(`**${status.kind} to ${mdText(status.environment)}**: ${PHASE_LABEL[status.phase]}${outcome}`);
  lines.push('');
  const facts: Array<[string, string | undefined]> = [
    ['ref', mdCode(status.ref)],
    ['from', status.from ? mdText(status.from) : undefined],
    ['commit', status.commit ? mdCode(status.commit) : undefined],
    [
      'toolkit',
      status.toolkitVersion !== undefined
        ? status.toolkitVersion
          ? mdCode(`cognite-toolkit ${status.toolkitVersion}`)
          : 'configured executable'
        : undefined,
    ],
    ['requested by', mdText(status.requestedBy)],
    ['reason', status.reason ? mdText(status.reason) : undefined],
    ['CDF project', ctx.policy ? mdCode(ctx.policy.cdfProject) : undefined],
    ['plan hash', status.planHash ? mdCode(status.planHash) : undefined],
    [
      'queue',
      status.queue
        ? `place ${status.queue.position}${status.queue.holder ? `, behind ${mdCode(status.queue.holder)}` : ''}`
        : undefined,
    ],
    [
      'waiting to apply',
      status.waitingToApply
        ? `${mdText(status.waitingToApply.why)} (until ${mdCode(status.waitingToApply.until)} at the latest)`
        : undefined,
    ],
    ['superseded by', status.supersededBy ? mdCode(status.supersededBy) : undefined],
    ['automatic rollback', status.rollback ? mdCode(status.rollback.workflowId) : undefined],
    ['rollback after', status.triggeredBy ? mdCode(status.triggeredBy.workflowId) : undefined],
  ];
  for (const [name, value] of facts) if (value) lines.push(`- ${name}: ${value}`);
  for (const o of status.overrides ?? [])
    lines.push(`- override of the ${o.gate} gate by ${mdText(o.by)}: ${mdText(o.reason)}`);

  const plan = status.planSummary;
  if (plan) {
    lines.push('', `### Plan${plan.empty ? ' (no changes)' : ''}`, '');
    lines.push('| resource | create | update | delete | unchanged |', '|---|---:|---:|---:|---:|');
    for (const r of plan.resources)
      lines.push(`| ${mdText(r.resource, 60)} | ${r.create} | ${r.update} | ${r.delete} | ${r.unchanged} |`);
    const t = plan.totals;
    lines.push(`| **total** | ${t.create} | ${t.update} | ${t.delete} | ${t.unchanged} |`);
    if (status.leftovers?.resources.length)
      lines.push(
        '',
        `Leftovers (${status.leftovers.action}): ${status.leftovers.resources
          .slice(0, 20)
          .map((l) => mdCode(`${l.kind} ${l.id}`, 120))
          .join(', ')}`,
      );
  }

  if (status.planHash || status.approvals.length) {
    lines.push('', `### Approvals: ${status.approvals.length} of ${status.requiredApprovals}`, '');
    for (const a of status.approvals)
      lines.push(`- approved by ${mdText(a.approver)} at ${a.at}${a.signed ? ' (signed)' : ''}`);
    for (const r of status.rejections)
      lines.push(`- rejected by ${mdText(r.approver)}${r.reason ? `: ${mdText(r.reason)}` : ''}`);
    if (status.approvalsMissingFrom?.length)
      lines.push(`- still needed from: ${status.approvalsMissingFrom.map((g) => mdText(g)).join(', ')}`);
  }

  if (status.phase === 'awaiting_approval' && status.planHash) {
    const signed = ctx.policy?.identity === 'signed';
    const who = ctx.waitingFor.length ? ctx.waitingFor.map((p) => mdText(p)).join(', ') : 'nobody left';
    lines.push('', '### To approve', '', `Who may approve: ${who}.`, '');
    lines.push(
      `- CLI: ${mdCode(`cdf-promote approve ${ctx.workflowId} --approver <you> --plan-hash ${status.planHash}${signed ? ' --sign-with <your key>' : ''}`, 600)}`,
    );
    if (signed)
      lines.push(
        '- This environment is signed: decisions need an SSH signature, so use the CLI (or the README\u2019s ssh-keygen recipe).',
      );
    else
      lines.push(
        `- UI: **Send an Update**, name ${mdCode('approve')}, input ${mdCode(`{"approver": "<you>", "planHash": "${status.planHash}"}`)}`,
      );
    lines.push(
      `- To reject: update ${mdCode('reject')} with ${mdCode('{"approver": "<you>", "reason": "..."}')}`,
    );
  }

  if (status.smokeResults.length) {
    lines.push('', '### Smoke checks', '');
    for (const r of status.smokeResults)
      lines.push(`- ${r.passed ? 'pass' : '**FAIL**'} ${mdText(r.name, 120)}: ${mdText(r.detail, 200)}`);
  }
  if (status.failure) lines.push('', '### Failure', '', mdText(status.failure, 2000));
  if (status.alertFailure) lines.push('', `Alert not delivered: ${mdText(status.alertFailure, 500)}`);

  const text = lines.join('\n');
  return text.length <= MAX_DETAILS_LENGTH ? text : `${text.slice(0, MAX_DETAILS_LENGTH - 20)}\n\n(cut)`;
}

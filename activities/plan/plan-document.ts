/**
 * The plan an approver reads and approves, as one document: the Toolkit's dry-run, followed for rollbacks by
 * what the rollback leaves in CDF or removes. Its sha256 is what history records and approvals name. Also how
 * a fresh dry-run is compared with the approved one before applying. Pure functions: no I/O.
 */
import type { LeftoverReport, PlanSummary } from '../../contracts/types';
import { diffDigest, type ParsedDryRun } from '../toolkit/dry-run-parser';

export interface LeftoverSection {
  report: LeftoverReport;
  /** Output of `cdf clean --dry-run` on the pruned build of the deployed commit ('' when not asked). */
  cleanPreview: string;
}

/** The first line of every plan: which Toolkit made it, so the approver knows what will deploy. */
export function planHeader(toolkitVersion: string | null): string {
  return toolkitVersion
    ? `Plan made with Cognite Toolkit ${toolkitVersion} (cdf.toml [modules] version of the commit)`
    : 'Plan made with the configured Toolkit executable (the commit pins no Toolkit version)';
}

export function composePlanText(
  dryRunText: string,
  targetCommit: string,
  leftovers?: LeftoverSection,
  toolkitVersion?: string | null,
): string {
  return `${planPreamble(toolkitVersion)}${dryRunText}${leftoverSection(targetCommit, leftovers)}`;
}

/** What comes before the dry-run's text in the plan document (see composePlanText). */
export function planPreamble(toolkitVersion?: string | null): string {
  return toolkitVersion === undefined ? '' : `${planHeader(toolkitVersion)}\n`;
}

/** What comes after the dry-run's text: for rollbacks, the leftovers (see composePlanText). */
export function leftoverSection(targetCommit: string, leftovers?: LeftoverSection): string {
  if (!leftovers) return '';
  const { report } = leftovers;
  return (
    `\n\n=== Rollback leftovers: in CDF from ${report.fromCommit}, not in ${targetCommit} ===\n` +
    `${report.resources.map((r) => `  ${r.kind} ${r.id}`).join('\n')}\n` +
    `Action: ${report.action === 'remove' ? 'remove with cdf clean after the apply' : 'keep (environment setting rollback.removeLeftovers is false)'}\n\n` +
    leftovers.cleanPreview
  );
}

export function summarizePlan(parsed: ParsedDryRun, leftovers?: LeftoverReport): PlanSummary {
  return {
    resources: parsed.resources,
    totals: parsed.totals,
    // A rollback whose only change is removing leftovers still has work to do.
    empty: parsed.empty && !(leftovers?.action === 'remove' && (leftovers.existing ?? 1) > 0),
    ...(leftovers ? { leftovers } : {}),
  };
}

/** Why the credentials cannot apply this plan, or undefined when every resource is deployable. */
export function notAbleToDeploy(parsed: ParsedDryRun): string | undefined {
  if (parsed.ableToDeploy) return undefined;
  const rows = parsed.resources.filter((r) => !r.ableToDeploy).map((r) => r.resource);
  return `dry-run says "Able to deploy: No" for ${rows.join(', ') || 'some resources'}: the credentials lack write access`;
}

/** What differs between the approved plan and a fresh dry-run: counts per resource type and per-resource diffs. */
export function planDifferences(approved: ParsedDryRun, current: ParsedDryRun): string[] {
  const out: string[] = [];
  const counts = (p: ParsedDryRun) => new Map(p.resources.map((r) => [r.resource, JSON.stringify(r)]));
  const a = counts(approved);
  const c = counts(current);
  for (const name of new Set([...a.keys(), ...c.keys()]))
    if (a.get(name) !== c.get(name)) out.push(`${name} counts differ`);
  const diffs = (p: ParsedDryRun) => new Map(p.resourceDiffs.map((d) => [d.title, diffDigest(d.body)]));
  const ad = diffs(approved);
  const cd = diffs(current);
  for (const title of new Set([...ad.keys(), ...cd.keys()]))
    if (ad.get(title) !== cd.get(title)) out.push(`${title} differs`);
  return out;
}

/**
 * What a fresh dry-run would change beyond the approved plan, for an apply that is retried after an earlier
 * attempt may have deployed part of it (a worker died mid-deploy, possibly on another machine): the approved
 * changes already made no longer show, so the fresh plan may be smaller, but it must not hold a change the
 * approver did not see. Per resource type, no more creates or deletes than approved, and no more creates and
 * updates together (a half-made create can show as an update); every per-resource diff still shown must be one
 * of the approved diffs, unchanged.
 */
export function changesBeyondApproved(approved: ParsedDryRun, current: ParsedDryRun): string[] {
  const out: string[] = [];
  const byType = new Map(approved.resources.map((r) => [r.resource, r]));
  for (const now of current.resources) {
    const was = byType.get(now.resource) ?? { create: 0, update: 0, delete: 0 };
    if (now.create > was.create) out.push(`${now.resource}: ${now.create} to create, ${was.create} approved`);
    if (now.delete > was.delete) out.push(`${now.resource}: ${now.delete} to delete, ${was.delete} approved`);
    if (now.create + now.update > was.create + was.update)
      out.push(
        `${now.resource}: ${now.create + now.update} to create or update, ${was.create + was.update} approved`,
      );
  }
  const approvedDiffs = new Map(approved.resourceDiffs.map((d) => [d.title, diffDigest(d.body)]));
  for (const d of current.resourceDiffs)
    if (approvedDiffs.get(d.title) !== diffDigest(d.body))
      out.push(`${d.title} differs from the approved plan`);
  return out;
}

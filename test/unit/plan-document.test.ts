/**
 * The plan document an approver reads, and the checks made on it, on real Toolkit 0.8.271 output captured from
 * the fake CDF (test/fixtures/toolkit/0.8.271).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  changesBeyondApproved,
  composePlanText,
  notAbleToDeploy,
  planDifferences,
  summarizePlan,
} from '../../activities/plan/plan-document';
import { deployCounts } from '../../activities/steps/apply-plan';
import { parseDryRunOutput } from '../../activities/toolkit/dry-run-parser';
import type { LeftoverReport } from '../../contracts/types';

const fixture = (name: string) =>
  readFileSync(path.join(__dirname, '..', 'fixtures', 'toolkit', '0.8.271', name), 'utf8');

const create = parseDryRunOutput(fixture('dry-run-create.txt'));
const unchanged = parseDryRunOutput(fixture('dry-run-unchanged.txt'));
const readonly = parseDryRunOutput(fixture('dry-run-readonly.txt'));

const leftovers = (over: Partial<LeftoverReport> = {}): LeftoverReport => ({
  fromCommit: 'b'.repeat(40),
  resources: [{ kind: 'views', id: 'externalId=PumpV2,space=demo_space,version=v1' }],
  existing: 1,
  action: 'keep',
  ...over,
});

describe('composePlanText', () => {
  test('a promotion plan is the dry-run text exactly as printed', () => {
    expect(composePlanText('dry-run text\n', 'a'.repeat(40))).toBe('dry-run text\n');
  });

  test('a rollback plan appends the leftovers, the action and the clean preview', () => {
    const text = composePlanText('dry-run text', 'a'.repeat(40), {
      report: leftovers({ action: 'remove' }),
      cleanPreview: 'Would delete 1 views',
    });
    expect(text).toContain(
      `=== Rollback leftovers: in CDF from ${'b'.repeat(40)}, not in ${'a'.repeat(40)} ===`,
    );
    expect(text).toContain('  views externalId=PumpV2,space=demo_space,version=v1');
    expect(text).toContain('Action: remove with cdf clean after the apply');
    expect(text.endsWith('Would delete 1 views')).toBe(true);
    expect(composePlanText('x', 'a'.repeat(40), { report: leftovers(), cleanPreview: '' })).toContain(
      'Action: keep (environment setting rollback.removeLeftovers is false)',
    );
  });
});

describe('summarizePlan', () => {
  test('counts come from the dry-run table', () => {
    const s = summarizePlan(create);
    expect(s.empty).toBe(false);
    expect(s.totals.create).toBeGreaterThan(0);
    expect(s).not.toHaveProperty('leftovers');
  });

  test('an unchanged plan is empty unless leftovers are to be removed from CDF', () => {
    expect(summarizePlan(unchanged).empty).toBe(true);
    expect(summarizePlan(unchanged, leftovers()).empty).toBe(true);
    expect(summarizePlan(unchanged, leftovers({ action: 'remove' })).empty).toBe(false);
    // Nothing of them left in CDF: nothing to remove.
    expect(summarizePlan(unchanged, leftovers({ action: 'remove', existing: 0 })).empty).toBe(true);
    // Unknown (no clean command to ask): assume there is work.
    expect(summarizePlan(unchanged, leftovers({ action: 'remove', existing: null })).empty).toBe(false);
  });
});

describe('notAbleToDeploy', () => {
  test('names the resource types the credentials cannot write', () => {
    expect(notAbleToDeploy(create)).toBeUndefined();
    expect(notAbleToDeploy(readonly)).toMatch(/^dry-run says "Able to deploy: No" for .*spaces/);
  });
});

describe('planDifferences', () => {
  test('the same plan has no differences', () => {
    expect(planDifferences(create, parseDryRunOutput(fixture('dry-run-create.txt')))).toEqual([]);
  });

  test('names the resource types whose counts changed', () => {
    const diffs = planDifferences(create, unchanged);
    expect(diffs.length).toBeGreaterThan(0);
    expect(diffs).toEqual(expect.arrayContaining([expect.stringMatching(/^spaces counts differ$/)]));
  });
});

describe('changesBeyondApproved (a retried apply after a partial deploy)', () => {
  const partly = parseDryRunOutput(fixture('dry-run-after-deploy-error.txt'));
  const withCounts = (over: Record<string, { create?: number; update?: number; delete?: number }>) => ({
    ...create,
    resources: create.resources.map((r) => ({ ...r, ...over[r.resource] })),
  });

  test('what is left of the approved plan, or nothing at all, is within it', () => {
    expect(changesBeyondApproved(create, partly)).toEqual([]);
    expect(changesBeyondApproved(create, unchanged)).toEqual([]);
    expect(changesBeyondApproved(create, create)).toEqual([]);
  });

  test('a half-made create may show as an update; a new update, create or delete may not', () => {
    const views = create.resources.find((r) => r.resource === 'views')!;
    expect(changesBeyondApproved(create, withCounts({ views: { create: 0, update: views.create } }))).toEqual(
      [],
    );
    expect(changesBeyondApproved(create, withCounts({ views: { update: views.create } }))).toEqual([
      `views: ${views.create * 2} to create or update, ${views.create} approved`,
    ]);
    expect(changesBeyondApproved(create, withCounts({ views: { delete: 1 } }))).toEqual([
      'views: 1 to delete, 0 approved',
    ]);
    expect(changesBeyondApproved(partly, create).length).toBeGreaterThan(0);
  });

  test('a per-resource diff that was not approved, or reads differently, is beyond it', () => {
    const extra = { ...unchanged, resourceDiffs: [{ title: 'views: demo_space:Pump', body: '- a\n+ b' }] };
    expect(changesBeyondApproved(create, extra)).toEqual([
      'views: demo_space:Pump differs from the approved plan',
    ]);
  });
});

test('deployCounts adds up the deploy summary', () => {
  const counts = deployCounts(fixture('deploy-create.txt'));
  expect(counts.created).toBeGreaterThan(0);
  expect(counts).toEqual(expect.objectContaining({ updated: 0, deleted: 0 }));
});

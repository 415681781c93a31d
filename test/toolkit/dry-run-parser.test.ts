import { readFileSync } from 'fs';
import * as path from 'path';
import {
  DryRunParser,
  PlanParseError,
  diffDigest,
  parseDeployOutput,
  parseDryRunOutput,
} from '../../activities/toolkit/dry-run-parser';
import { renderSummary } from '../support/rich-render';

const fixture = (name: string): string =>
  readFileSync(path.join(__dirname, '../fixtures/toolkit', name), 'utf8');

const SAMPLE_ROWS = [
  ['spaces', 1],
  ['containers', 1],
  ['views', 1],
  ['data models', 1],
  ['transformations', 1],
  ['assets', 3],
] as const;

describe('parseDryRunOutput on real Toolkit renders', () => {
  it.each(['dry-run-width200.txt', 'dry-run-width80.txt'])('%s', (name) => {
    const plan = parseDryRunOutput(fixture(name));
    expect(plan.resources.map((r) => [r.resource, r.create])).toEqual(SAMPLE_ROWS.map(([n, c]) => [n, c]));
    expect(plan.resources.every((r) => r.update === 0 && r.delete === 0 && r.ableToDeploy)).toBe(true);
    expect(plan.totals).toEqual({
      create: 8,
      update: 0,
      delete: 0,
      unchanged: 0,
      skipped: 0,
      total: 8,
      ableToDeploy: true,
    });
    expect(plan.empty).toBe(false);
    expect(plan.noResources).toBe(false);
    expect(plan.ableToDeploy).toBe(true);
    expect(plan.resourceDiffs).toEqual([]);
  });

  it('the stand-in renderer reproduces the real captures byte for byte', () => {
    const rows = (dry: boolean) =>
      SAMPLE_ROWS.map(([resource, n]) => ({
        resource,
        created: dry ? n : 0,
        updated: 0,
        deleted: 0,
        unchanged: dry ? 0 : n,
        skipped: 0,
        missingWriteAcl: false,
      }));
    expect(renderSummary(rows(true), 'deploy', true, 200)).toBe(fixture('dry-run-width200.txt'));
    expect(renderSummary(rows(true), 'deploy', true, 80)).toBe(fixture('dry-run-width80.txt'));
    expect(renderSummary(rows(false), 'deploy', false, 200)).toBe(fixture('deploy-width200.txt'));
  });

  it('reads the whole capture file with its ===== separators as ambiguous', () => {
    // The sample file holds two dry-run summaries; picking one silently would be a guess.
    expect(() => parseDryRunOutput(fixture('samples-summary_render.txt'))).toThrow(/2 deploy summary panels/);
  });
});

describe('parseDryRunOutput on other layouts', () => {
  it('"No resources were deployed." panel', () => {
    const plan = parseDryRunOutput(fixture('dry-run-no-resources.txt'));
    expect(plan.noResources).toBe(true);
    expect(plan.empty).toBe(true);
    expect(plan.resources).toEqual([]);
    expect(plan.totals.total).toBe(0);
  });

  it('"Able to deploy: No" on one row makes the plan not deployable', () => {
    const plan = parseDryRunOutput(fixture('dry-run-not-able.txt'));
    expect(plan.ableToDeploy).toBe(false);
    expect(plan.totals.ableToDeploy).toBe(false);
    expect(plan.resources.find((r) => r.resource === 'transformations')).toMatchObject({
      update: 2,
      ableToDeploy: false,
    });
    expect(plan.resources.find((r) => r.resource === 'views')).toMatchObject({
      update: 1,
      ableToDeploy: true,
    });
    expect(plan.totals).toMatchObject({ update: 3, unchanged: 1, total: 4 });
  });

  it('width 80 with ANSI colours, wrapped names and "No"', () => {
    const plan = parseDryRunOutput(fixture('dry-run-width80-ansi.txt'));
    expect(plan.resources).toEqual([
      {
        resource: 'views',
        create: 2,
        update: 0,
        delete: 0,
        unchanged: 0,
        skipped: 0,
        total: 2,
        ableToDeploy: false,
      },
      {
        resource: 'data models',
        create: 0,
        update: 1,
        delete: 0,
        unchanged: 0,
        skipped: 0,
        total: 1,
        ableToDeploy: true,
      },
    ]);
    expect(plan.ableToDeploy).toBe(false);
  });

  it('verbose output: diff panels and a single resource type without an All row', () => {
    const plan = parseDryRunOutput(fixture('dry-run-verbose-diff.txt'));
    expect(plan.resources).toHaveLength(1);
    expect(plan.totals).toEqual({
      create: 1,
      update: 1,
      delete: 0,
      unchanged: 0,
      skipped: 0,
      total: 2,
      ableToDeploy: true,
    });
    expect(plan.resourceDiffs).toHaveLength(1);
    const diff = plan.resourceDiffs[0]!;
    expect(diff.title).toBe('views: demo_prod:Pump(version=v1)');
    expect(diff.body.split('\n')).toEqual(
      expect.arrayContaining(['-name: Pump', '+name: Pump (v1)', '+  maxPressure:']),
    );
    expect(diff.body).not.toMatch(/│/);
  });

  it('large plan with many types and big counts', () => {
    const plan = parseDryRunOutput(fixture('dry-run-large.txt'));
    expect(plan.resources).toHaveLength(9);
    expect(plan.resources.find((r) => r.resource === 'assets')).toMatchObject({
      create: 12004,
      update: 3150,
      skipped: 11,
      total: 22485,
    });
    expect(plan.totals).toMatchObject({ create: 12348, update: 3465, delete: 4, skipped: 13 });
    expect(plan.totals.total).toBe(plan.resources.reduce((a, r) => a + r.total, 0));
  });

  it('ignores the skipped-resources hint below the table', () => {
    const plan = parseDryRunOutput(fixture('dry-run-skipped-hint.txt'));
    expect(plan.totals).toMatchObject({ create: 1, unchanged: 5, skipped: 2, total: 8 });
  });
});

describe('parseDryRunOutput refuses what it does not understand', () => {
  it.each([
    ['garbage-traceback.txt', /No "Deploy summary \(dry run\)".*ToolkitAPIError: 503/],
    ['error-authorization.txt', /ERROR \(AuthorizationError\)/],
    ['dry-run-unknown-column.txt', /Unexpected columns.*Would upsert/],
    ['dry-run-non-numeric.txt', /Non-numeric "Would create" value "x" for resource "views"/],
    ['dry-run-bad-total.txt', /"assets" add up to 3 but Total says 4/],
    ['dry-run-truncated.txt', /not closed/],
    ['deploy-width200.txt', /real "Deploy summary" panel where a dry-run summary was expected/],
  ])('%s', (name, message) => {
    const run = () => parseDryRunOutput(fixture(name));
    expect(run).toThrow(PlanParseError);
    expect(run).toThrow(message);
  });

  it('empty output', () => {
    expect(() => parseDryRunOutput('')).toThrow(/output was empty/);
  });

  it('a truncated resource name that cannot be resolved', () => {
    const text = fixture('dry-run-width80.txt').replace('│     trans…  ', '│     zzzzz…  ');
    expect(() => parseDryRunOutput(text)).toThrow(/"zzzzz…" was truncated/);
  });

  it('an All row that disagrees with the rows', () => {
    const text = fixture('dry-run-width200.txt').replace(
      '│     All                          8              0              0           0         0       8',
      '│     All                          7              0              0           1         0       8',
    );
    expect(() => parseDryRunOutput(text)).toThrow(/"All" row says 7 for create/);
  });

  it('several resource rows without an All row', () => {
    const lines = fixture('dry-run-width200.txt').split('\n');
    const text = lines.filter((l) => !l.includes('│     All ')).join('\n');
    expect(() => parseDryRunOutput(text)).toThrow(/no "All" totals row/);
  });
});

describe('parseDeployOutput', () => {
  it('real deploy summary at width 200', () => {
    const res = parseDeployOutput(fixture('deploy-width200.txt'));
    expect(res.resources).toHaveLength(6);
    expect(res.resources.find((r) => r.resource === 'assets')).toEqual({
      resource: 'assets',
      created: 0,
      updated: 0,
      deleted: 0,
      unchanged: 3,
      skipped: 0,
      total: 3,
    });
  });

  it('width 80 with wrapped and truncated names', () => {
    const res = parseDeployOutput(fixture('deploy-width80.txt'));
    expect(res.resources.map((r) => [r.resource, r.created, r.updated, r.unchanged])).toEqual([
      ['spaces', 1, 0, 0],
      ['containers', 1, 0, 0],
      ['data models', 0, 1, 0],
      ['transformations', 0, 0, 1],
      ['assets', 3, 0, 0],
    ]);
  });

  it('no resources', () => {
    expect(parseDeployOutput(fixture('dry-run-no-resources.txt'))).toEqual({ resources: [] });
  });

  it('refuses dry-run output and errors', () => {
    expect(() => parseDeployOutput(fixture('dry-run-width200.txt'))).toThrow(PlanParseError);
    expect(() => parseDeployOutput(fixture('error-authorization.txt'))).toThrow(/AuthorizationError/);
  });
});

describe('DryRunParser: the same parse, fed as the output arrives', () => {
  const inPieces = (text: string, size: number, options = {}) => {
    const parser = new DryRunParser(options);
    for (let i = 0; i < text.length; i += size) parser.write(text.slice(i, i + size));
    return parser.end();
  };
  const outcome = (f: () => unknown) => {
    try {
      return { ok: f() };
    } catch (err) {
      return { error: (err as Error).message };
    }
  };

  test.each([
    'dry-run-verbose-diff.txt',
    'dry-run-width80-ansi.txt',
    'dry-run-no-resources.txt',
    'dry-run-not-able.txt',
    '0.9.28/dry-run-update-verbose.txt',
    '0.9.28/dry-run-after-deploy-error.txt',
  ])('%s cut into pieces of any size parses as the whole text does', (name) => {
    const text = fixture(name);
    const whole = parseDryRunOutput(text);
    for (const size of [1, 7, 64, 4096]) expect(inPieces(text, size)).toEqual(whole);
    // Line breaks as a Windows console or a progress bar writes them.
    const crlf = text.replace(/\n/g, '\r\n');
    expect(inPieces(crlf, 5)).toEqual(parseDryRunOutput(crlf));
  });

  test('errors are the same too, and come only at the end', () => {
    const summary = fixture('dry-run-width200.txt');
    for (const text of [
      '',
      'ERROR (AuthorizationError): no access\n',
      '╭─ open ─╮\n│ x │\nplain\n',
      summary + summary,
    ]) {
      expect(outcome(() => inPieces(text, 3))).toEqual(outcome(() => parseDryRunOutput(text)));
    }
  });

  test("diffBodies 'sha256' keeps digests that compare with the texts", () => {
    const text = fixture('dry-run-verbose-diff.txt');
    const digests = inPieces(text, 100, { diffBodies: 'sha256' });
    const texts = parseDryRunOutput(text);
    expect(digests.resourceDiffs.map((d) => d.title)).toEqual(texts.resourceDiffs.map((d) => d.title));
    expect(digests.resourceDiffs.map((d) => d.body)).toEqual(
      texts.resourceDiffs.map((d) => diffDigest(d.body)),
    );
    expect(digests.resourceDiffs[0]!.body).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

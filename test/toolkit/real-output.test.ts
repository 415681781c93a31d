/**
 * Our production parsers against output of the REAL Toolkit CLI, one folder per captured version
 * (test/fixtures/toolkit/<version>/, captured from the local fake CDF by scripts/capture-toolkit-fixtures.ts).
 * Every case runs for every version: a failure here means what users of that version see no longer matches what
 * we parse and gate on. Capture a new version before a repository may pin it.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  buildRefusal,
  parseInsightsJson,
  parseLineage,
  readBuildReport,
  type BuildReport,
} from '../../activities/toolkit/build-report';
import {
  parseDeployOutput,
  parseDryRunOutput,
  PlanParseError,
} from '../../activities/toolkit/dry-run-parser';

const FIXTURES = path.join(__dirname, '../fixtures/toolkit');
export const CAPTURED_VERSIONS = readdirSync(FIXTURES)
  .filter((d) => /^\d+\.\d+\.\d+$/.test(d))
  .sort();

const DEMO_TYPES = ['assets', 'spaces', 'containers', 'views', 'data models', 'transformations'];
const DEMO_COUNTS: Record<string, number> = {
  assets: 2,
  spaces: 1,
  containers: 1,
  views: 1,
  'data models': 1,
  transformations: 1,
};

test('fixtures are captured for both supported Toolkit lines', () => {
  expect(CAPTURED_VERSIONS).toEqual(expect.arrayContaining(['0.8.271', '0.9.28']));
});

describe.each(CAPTURED_VERSIONS)('Toolkit %s', (version) => {
  const realDir = path.join(FIXTURES, version);
  const fixture = (name: string): string => readFileSync(path.join(realDir, name), 'utf8');

  const exitCodes = JSON.parse(fixture('exit-codes.json')) as Record<
    string,
    { argv: string[]; exitCode: number | null }
  >;
  const large = JSON.parse(fixture('large-project.json')) as {
    assets: number;
    transformations: number;
    containers: number;
    views: number;
    spaces: number;
  };

  async function buildReportOf(prefix: string): Promise<BuildReport> {
    const dir = mkdtempSync(path.join(tmpdir(), 'real-build-'));
    try {
      copyFileSync(path.join(realDir, `${prefix}.lineage.yaml`), path.join(dir, 'lineage.yaml'));
      copyFileSync(path.join(realDir, `${prefix}.insights.json`), path.join(dir, 'insights.json'));
      return await readBuildReport(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  describe('captured with the real Toolkit', () => {
    it('records the Toolkit version and the exit codes', () => {
      expect(fixture('README.md')).toContain(`Toolkit: CDF-Toolkit version: ${version}.`);
      // `cdf build` exits 0 even when the build has critical errors: exit codes are no build verdict.
      expect(exitCodes['build-ok']?.exitCode).toBe(0);
      expect(exitCodes['build-failing']?.exitCode).toBe(0);
      expect(exitCodes['build-unresolved-variable']?.exitCode).toBe(0);
      expect(exitCodes['dry-run-create']?.exitCode).toBe(0);
      // A READ-only token still gets a dry-run plan with exit 0; only the "Able to deploy" column tells.
      expect(exitCodes['dry-run-readonly']?.exitCode).toBe(0);
      expect(exitCodes['deploy-error']?.exitCode).toBe(1);
      expect(exitCodes['deploy-stale-build']?.exitCode).toBe(1);
      expect(exitCodes['clean']?.exitCode).toBe(0);
    });
  });

  describe('build reports of the real Toolkit', () => {
    it('reads a clean build of the demo project', async () => {
      const lineage = parseLineage(fixture('build-ok.lineage.yaml'));
      expect(lineage).toMatchObject({
        modulesProcessed: 1,
        modulesSucceeded: 1,
        modulesFailed: 0,
        cdfProject: 'demo-prod',
      });
      expect(lineage.resources.map((r) => r.kind).sort()).toEqual(
        ['Asset', 'Asset', 'Container', 'DataModel', 'Space', 'Transformation', 'View'].sort(),
      );
      expect(lineage.failedModules).toEqual([]);

      const insights = parseInsightsJson(fixture('build-ok.insights.json'));
      expect(insights).toHaveLength(3);
      expect(insights.every((i) => i.insightType === 'Recommendation')).toBe(true);

      const report = await buildReportOf('build-ok');
      expect(report.criticalInsights).toEqual([]);
    });

    it('refuses a build with invalid YAML, naming the file and the parse error', async () => {
      const report = await buildReportOf('build-failing');
      // 0.8.271 reports the module as SUCCESS and only a FileReadError insight tells; 0.9.28 fails the module
      // ("FAILED: Error") and reports an insight of type Error. Severity, not the type name, decides.
      expect(report.criticalInsights.length).toBeGreaterThanOrEqual(1);
      const refusal = buildRefusal(report);
      expect(refusal).toMatch(/^build failed: /);
      expect(refusal).toContain('in modules/demo_module/data_modeling/broken.Space.yaml');
      expect(refusal).toMatch(/Failed to parse YAML content/);
      expect(fixture('build-failing.txt')).toMatch(/Do not proceed to deploy|FAILED/);
    });

    it('refuses a build with an unresolved variable, naming the file and the variable', async () => {
      const report = await buildReportOf('build-unresolved-variable');
      expect(report).toMatchObject({ modulesProcessed: 1, modulesSucceeded: 0, modulesFailed: 1 });
      expect(report.failedModules).toEqual([
        { moduleId: 'modules/demo_module', status: expect.stringMatching(/^FAILED: /) },
      ]);
      const refusal = buildRefusal(report);
      expect(refusal).toContain('in modules/demo_module/classic/unresolved.Asset.yaml');
      expect(refusal).toMatch(/[Uu]nresolved variable .*missing_variable/);
    });

    it('lets a clean build through: recommendations are not errors', async () => {
      const report = await buildReportOf('build-ok');
      expect(parseInsightsJson(fixture('build-ok.insights.json')).length).toBeGreaterThan(0);
      expect(buildRefusal(report)).toBeUndefined();
    });

    it('keeps a lineage with an unquoted all-digit sourceHash in the fixtures', () => {
      // PyYAML (YAML 1.1) writes the hash `05177946` unquoted because to it that is a string; the `yaml`
      // package (YAML 1.2 core schema) reads it as the number 5177946. Hashes like `1234e567` read as floats.
      expect(fixture('build-large.lineage.yaml')).toMatch(/^ {4}sourceHash: \d+$/m);
    });

    // The lineage is read with YAML 1.1 rules (as PyYAML wrote it), so all-digit hashes stay strings.
    it('reads the lineage of the large generated project, all-digit hashes included', async () => {
      const report = await buildReportOf('build-large');
      const byKind = (kind: string) => report.resources.filter((r) => r.kind === kind).length;
      expect(byKind('Asset')).toBe(large.assets);
      expect(byKind('Transformation')).toBe(large.transformations);
      expect(byKind('Container')).toBe(large.containers);
      expect(byKind('View')).toBe(large.views);
      expect(byKind('Space')).toBe(large.spaces);
      expect(report.criticalInsights).toEqual([]);
      const digitHashes = parseLineage(fixture('build-large.lineage.yaml')).resources.length;
      expect(digitHashes).toBe(report.resources.length);
    });
  });

  describe('dry-run plans of the real Toolkit', () => {
    it('plans 7 creates on the empty fake CDF', () => {
      const plan = parseDryRunOutput(fixture('dry-run-create.txt'));
      expect(plan.resources.map((r) => r.resource)).toEqual(DEMO_TYPES);
      for (const r of plan.resources) {
        expect(r).toMatchObject({
          create: DEMO_COUNTS[r.resource],
          update: 0,
          delete: 0,
          unchanged: 0,
          skipped: 0,
          ableToDeploy: true,
        });
      }
      expect(plan.totals).toEqual({
        create: 7,
        update: 0,
        delete: 0,
        unchanged: 0,
        skipped: 0,
        total: 7,
        ableToDeploy: true,
      });
      expect(plan).toMatchObject({ empty: false, ableToDeploy: true, noResources: false });
      // --verbose prints diff panels only for updates.
      expect(plan.resourceDiffs).toEqual([]);
    });

    it('parses the 80-column rendering (wrapped headers, truncated names) to the same plan as 200 columns', () => {
      const narrow = fixture('dry-run-create-width80.txt');
      expect(narrow).toMatch(/Resou…/);
      expect(narrow).toMatch(/conta…/);
      expect(parseDryRunOutput(narrow)).toEqual(parseDryRunOutput(fixture('dry-run-create.txt')));
    });

    it('says "Able to deploy: No" for a READ-only token', () => {
      const plan = parseDryRunOutput(fixture('dry-run-readonly.txt'));
      expect(plan.ableToDeploy).toBe(false);
      expect(plan.totals).toMatchObject({ create: 7, total: 7, ableToDeploy: false });
      expect(plan.resources.every((r) => !r.ableToDeploy)).toBe(true);
    });

    it('reports everything unchanged right after a deploy', () => {
      const plan = parseDryRunOutput(fixture('dry-run-unchanged.txt'));
      expect(plan.empty).toBe(true);
      expect(plan.totals).toEqual({
        create: 0,
        update: 0,
        delete: 0,
        unchanged: 7,
        skipped: 0,
        total: 7,
        ableToDeploy: true,
      });
      expect(plan.resourceDiffs).toEqual([]);
    });

    it('plans 3 updates with a diff panel each for the second commit of the demo', () => {
      const plan = parseDryRunOutput(fixture('dry-run-update-verbose.txt'));
      expect(plan.empty).toBe(false);
      expect(plan.totals).toEqual({
        create: 0,
        update: 3,
        delete: 0,
        unchanged: 4,
        skipped: 0,
        total: 7,
        ableToDeploy: true,
      });
      const updated = plan.resources.filter((r) => r.update > 0).map((r) => r.resource);
      expect(updated).toEqual(['assets', 'views', 'transformations']);
      expect(plan.resourceDiffs.map((d) => d.title)).toEqual([
        "assets: externalId='pump_1'",
        'views: demo_space:Pump(version=v1)',
        "transformations: externalId='pump_tr'",
      ]);
      const [asset, view, transformation] = plan.resourceDiffs;
      expect(asset?.body).toContain(
        '-description: Main feed pump\n+description: Main feed pump, replaced 2026-11',
      );
      expect(view?.body).toContain('+description: A pump in a pumping station, with its rated flow in m3/h');
      expect(transformation?.body).toContain('flow_m3h');
    });

    it('totals the large generated project to exactly what the capture script generated', () => {
      const plan = parseDryRunOutput(fixture('dry-run-large.txt'));
      const count = (type: string) => plan.resources.find((r) => r.resource === type)?.create;
      expect(count('assets')).toBe(large.assets);
      expect(count('transformations')).toBe(large.transformations);
      expect(count('containers')).toBe(large.containers);
      expect(count('views')).toBe(large.views);
      expect(count('spaces')).toBe(large.spaces);
      const expected = large.assets + large.transformations + large.containers + large.views + large.spaces;
      expect(plan.totals).toEqual({
        create: expected,
        update: 0,
        delete: 0,
        unchanged: 0,
        skipped: 0,
        total: expected,
        ableToDeploy: true,
      });
    });

    it('shows what the failed deploy left behind: the space and assets went in before containers failed', () => {
      const plan = parseDryRunOutput(fixture('dry-run-after-deploy-error.txt'));
      expect(plan.totals).toEqual({
        create: 4,
        update: 0,
        delete: 0,
        unchanged: 3,
        skipped: 0,
        total: 7,
        ableToDeploy: true,
      });
      expect(plan.resources.filter((r) => r.unchanged > 0).map((r) => r.resource)).toEqual([
        'assets',
        'spaces',
      ]);
    });
  });

  describe('real deploy output', () => {
    it('reads the summary of a successful deploy and refuses it as a dry-run plan', () => {
      const text = fixture('deploy-create.txt');
      const deployed = parseDeployOutput(text);
      expect(deployed.resources.map((r) => r.resource)).toEqual(DEMO_TYPES);
      expect(deployed.resources.reduce((a, r) => a + r.created, 0)).toBe(7);
      expect(
        deployed.resources.every((r) => r.updated === 0 && r.deleted === 0 && r.created === r.total),
      ).toBe(true);
      expect(() => parseDryRunOutput(text)).toThrow(PlanParseError);
    });

    it('does not read a deploy that failed with an API error as "no changes"', () => {
      const text = fixture('deploy-error.txt');
      expect(text).toMatch(/ERROR \(ResourceCreationError\)/);
      expect(() => parseDryRunOutput(text)).toThrow(PlanParseError);
      expect(() => parseDryRunOutput(text)).toThrow(/ResourceCreationError/);
      expect(() => parseDeployOutput(text)).toThrow(PlanParseError);
      expect(() => parseDeployOutput(text)).toThrow(/ResourceCreationError/);
    });

    it('does not read a deploy refused for a stale build as a plan', () => {
      const text = fixture('deploy-stale-build.txt');
      expect(() => parseDryRunOutput(text)).toThrow(/ToolkitValidationError/);
      expect(() => parseDeployOutput(text)).toThrow(PlanParseError);
    });
  });

  describe('real clean output is not a deploy plan', () => {
    it.each(['clean-dry-run.txt', 'clean.txt'])('%s is refused by both parsers', (name) => {
      const text = fixture(name);
      expect(text).toMatch(/Clean summary/);
      expect(() => parseDryRunOutput(text)).toThrow(PlanParseError);
      expect(() => parseDeployOutput(text)).toThrow(PlanParseError);
    });

    it('refuses the clean preview of a build with containers as a plan', () => {
      const text = fixture('clean-with-containers-dry-run.txt');
      expect(exitCodes['clean-with-containers-dry-run']?.exitCode).toBe(0);
      expect(() => parseDryRunOutput(text)).toThrow(PlanParseError);
    });
  });
});

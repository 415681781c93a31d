import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import {
  BuildReportError,
  parseInsightsCsv,
  parseInsightsJson,
  parseLineage,
  readBuildReport,
} from '../../activities/toolkit/build-report';

const fixtureDir = path.join(__dirname, '../fixtures/toolkit');
const fixture = (name: string): string => readFileSync(path.join(fixtureDir, name), 'utf8');

describe('parseLineage', () => {
  it('reads the real lineage example', () => {
    const l = parseLineage(fixture('lineage_example.yaml'));
    expect(l).toMatchObject({
      modulesProcessed: 1,
      modulesSucceeded: 1,
      modulesFailed: 0,
      cdfProject: 'sandbox',
    });
    expect(l.insightsSummary).toEqual({ Recommendation: 1 });
    expect(l.resources.map((r) => r.kind)).toEqual([
      'Space',
      'Container',
      'View',
      'DataModel',
      'Transformation',
    ]);
    expect(l.resources[2]).toEqual({
      kind: 'View',
      resourceFolder: 'data_modeling',
      identifier: { space: 'sandbox_space', externalId: 'Pump', version: 'v1' },
      sourceFile: '/home/user/proj/modules/my_module/data_modeling/pump.View.yaml',
      builtFile: '/home/user/proj/build/data_modeling/1-pump-sandbox_space.Pump.v1.View.yaml',
    });
    expect(l.failedModules).toEqual([]);
  });

  it('reads a failed module and a null project', () => {
    const l = parseLineage(fixture('lineage_failed_module.yaml'));
    expect(l.modulesFailed).toBe(1);
    expect(l.cdfProject).toBeNull();
    expect(l.failedModules).toEqual([{ moduleId: 'modules/broken', status: 'FAILED: ModelSyntaxError' }]);
    expect(l.insightsSummary).toEqual({ FileReadError: 1, ConsistencyError: 1 });
  });

  it.each([
    ['not yaml', 'a: [1, 2', /not valid YAML/],
    ['missing summary', 'organizationDir: /x\nbuildDir: build\ncdfProject: null\n', /modulesSummary/],
    [
      'wrong type',
      fixture('lineage_example.yaml').replace('processed: 1', 'processed: one'),
      /modulesSummary\.processed/,
    ],
    ['a list', '- 1\n- 2\n', /expected shape/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseLineage(text)).toThrow(BuildReportError);
    expect(() => parseLineage(text)).toThrow(message);
  });
});

describe('insights', () => {
  it('json', () => {
    const insights = parseInsightsJson(fixture('insights.json'));
    expect(insights).toHaveLength(3);
    expect(insights[0]).toEqual({
      insightType: 'FileReadError',
      code: 'INVALID-YAML',
      sourceFile: '/home/user/proj/modules/broken/data_modeling/bad.View.yaml',
      message: 'Failed to parse bad.View.yaml: [bold]mapping values are not allowed here[/]',
    });
    expect(insights[2]).toEqual({
      insightType: 'Recommendation',
      code: 'AUTH-001',
      message: 'Missing dataSetExternalId',
      fix: 'Add it',
    });
  });

  it('csv with quotes, commas and newlines inside fields', () => {
    const insights = parseInsightsCsv(fixture('insights.csv'));
    expect(insights).toHaveLength(3);
    expect(insights[1]).toEqual({
      insightType: 'ConsistencyError',
      code: 'UNRESOLVED-VARIABLES',
      sourceFile: '/home/user/proj/modules/broken/transformations/t.Transformation.yaml',
      message: 'Unresolved variables: "space", "site"\nsecond line',
      fix: 'Define them, then rebuild',
    });
    expect(parseInsightsCsv('"insight_type","code","source_file","message","fix"\n')).toEqual([]);
  });

  it('rejects malformed files', () => {
    expect(() => parseInsightsJson('{"insightType": 1}')).toThrow(BuildReportError);
    expect(() => parseInsightsJson('nope')).toThrow(/not valid JSON/);
    expect(() => parseInsightsCsv('"type","msg"\n"a","b"\n')).toThrow(/unexpected header/);
    expect(() => parseInsightsCsv('"insight_type","code","source_file","message","fix"\n"A","b"\n')).toThrow(
      /has 2 fields/,
    );
    expect(() => parseInsightsCsv('"insight_type","code","source_file","message","fix"\n"A","b')).toThrow(
      /unterminated/,
    );
    expect(() =>
      parseInsightsCsv('"insight_type","code","source_file","message","fix"\n"A"x,"","","",""'),
    ).toThrow(/after a closing quote/);
  });
});

describe('readBuildReport', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'build-report-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('combines lineage and insights.json into critical insights', async () => {
    writeFileSync(path.join(dir, 'lineage.yaml'), fixture('lineage_failed_module.yaml'));
    writeFileSync(path.join(dir, 'insights.json'), fixture('insights.json'));
    const report = await readBuildReport(dir);
    expect(report.modulesFailed).toBe(1);
    expect(report.criticalInsights.map((i) => i.insightType)).toEqual([
      'FileReadError',
      'ConsistencyError',
      'ModuleFailed',
    ]);
    expect(report.criticalInsights[2]!.message).toMatch(/modules\/broken: FAILED: ModelSyntaxError/);
  });

  it('falls back to insights.csv', async () => {
    writeFileSync(path.join(dir, 'lineage.yaml'), fixture('lineage_example.yaml'));
    writeFileSync(path.join(dir, 'insights.csv'), fixture('insights.csv'));
    const report = await readBuildReport(dir);
    expect(report.criticalInsights.map((i) => i.code)).toEqual(['INVALID-YAML', 'UNRESOLVED-VARIABLES']);
  });

  it('fails clearly when files are missing', async () => {
    await expect(readBuildReport(dir)).rejects.toThrow(/lineage\.yaml does not exist/);
    writeFileSync(path.join(dir, 'lineage.yaml'), fixture('lineage_example.yaml'));
    await expect(readBuildReport(dir)).rejects.toThrow(/Neither insights\.json nor insights\.csv/);
  });
});

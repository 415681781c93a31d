/**
 * Runs the Toolkit stand-in (sandbox/toolkit-standin/bin/cdf) as a real subprocess against an in-test
 * fake CDF, and reads its output with the production parsers.
 */
import { execFile } from 'child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as net from 'net';
import * as path from 'path';
import { readBuildReport } from '../../activities/toolkit/build-report';
import { parseDeployOutput, parseDryRunOutput } from '../../activities/toolkit/dry-run-parser';
import { type FakeCdf, startFakeCdf } from './fake-cdf';

const CDF = path.resolve(__dirname, '../../sandbox/toolkit-standin/bin/cdf');
const FIXTURE = path.resolve(__dirname, '../fixtures/toolkit/project');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cdf(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      CDF,
      ['--no-override-env', ...args],
      {
        cwd,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, COLUMNS: '200', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

describe('Toolkit stand-in end to end', () => {
  let fake: FakeCdf;
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    fake = await startFakeCdf('sandbox');
    env = {
      CDF_PROJECT: 'sandbox',
      CDF_CLUSTER: 'sandbox',
      CDF_URL: fake.url,
      LOGIN_FLOW: 'token',
      CDF_TOKEN: 'dummy',
    };
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    work = mkdtempSync(path.join(tmpdir(), 'standin-'));
    cpSync(FIXTURE, work, { recursive: true });
    for (const m of fake.store.values()) m.clear();
    fake.requests.length = 0;
    fake.failures.clear();
    fake.hangs.clear();
    fake.acl.transformationsAcl = ['READ', 'WRITE'];
    fake.acl.dataModelsAcl = ['READ', 'WRITE'];
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('build → dry-run → deploy → unchanged → edit → would update', async () => {
    const build = await cdf(work, ['build', '-c', 'org/config.prod.yaml', '--insight-format', 'json'], env);
    expect(build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect(build.stdout).toContain('Ready to deploy.');
    expect(readdirSync(path.join(work, 'build', 'data_modeling')).sort()).toEqual([
      '1-demo-demo_prod.Space.yaml',
      '1-model-demo_prod.PumpModel.v1.DataModel.yaml',
      '1-pump-demo_prod.Pump.Container.yaml',
      '1-pump-demo_prod.Pump.v1.View.yaml',
    ]);
    const report = await readBuildReport(path.join(work, 'build'));
    expect(report).toMatchObject({
      modulesProcessed: 1,
      modulesFailed: 0,
      cdfProject: 'sandbox',
      criticalInsights: [],
    });
    expect(report.resources).toHaveLength(8);
    expect(report.resources.find((r) => r.kind === 'View')?.identifier).toEqual({
      space: 'demo_prod',
      externalId: 'Pump',
      version: 'v1',
    });

    const dry = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(dry.code).toBe(0);
    const plan = parseDryRunOutput(dry.stdout);
    expect(plan.resources.map((r) => [r.resource, r.create])).toEqual([
      ['spaces', 1],
      ['containers', 1],
      ['views', 1],
      ['data models', 1],
      ['transformations', 1],
      ['assets', 3],
    ]);
    expect(plan.totals).toMatchObject({ create: 8, update: 0, unchanged: 0, total: 8, ableToDeploy: true });
    expect(fake.requests.filter((r) => r.method === 'POST').every((r) => r.gzip)).toBe(true);
    expect(fake.requests.some((r) => /\/(spaces|transformations|assets)$/.test(r.path))).toBe(false);

    const deploy = await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    expect(deploy.code).toBe(0);
    expect(parseDeployOutput(deploy.stdout).resources.map((r) => [r.resource, r.created])).toEqual(
      plan.resources.map((r) => [r.resource, r.create]),
    );
    expect(fake.store.get('assets')!.size).toBe(3);
    expect(fake.store.get('transformations')!.get('["pump_tr"]')).toMatchObject({
      query: expect.stringContaining('from `pumps`'),
    });

    const again = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    const plan2 = parseDryRunOutput(again.stdout);
    expect(plan2.empty).toBe(true);
    expect(plan2.totals).toMatchObject({ unchanged: 8, total: 8, create: 0, update: 0 });

    // Editing a source without rebuilding is refused, like the real lineage hash check.
    const view = path.join(work, 'org/modules/demo_module/data_modeling/pump.View.yaml');
    writeFileSync(view, readFileSync(view, 'utf8').replace('name: Pump\n', 'name: Pump (v1)\n'));
    const stale = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(
      /ERROR \(ToolkitValidationError\): Source files have changed since the build/,
    );

    await cdf(work, ['build', '-c', 'org/config.prod.yaml'], env);
    const changed = await cdf(
      work,
      ['deploy', 'build', '--dry-run', '--verbose', '--cdf-project', 'sandbox'],
      env,
    );
    const plan3 = parseDryRunOutput(changed.stdout);
    expect(plan3.resources.find((r) => r.resource === 'views')).toMatchObject({ update: 1, unchanged: 0 });
    expect(plan3.totals).toMatchObject({ update: 1, unchanged: 7 });
    expect(plan3.resourceDiffs).toEqual([
      {
        title: 'views: demo_prod:Pump(version=v1)',
        body: expect.stringContaining('-name: Pump\n+name: Pump (v1)'),
      },
    ]);

    const apply = await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    expect(parseDeployOutput(apply.stdout).resources.find((r) => r.resource === 'views')).toMatchObject({
      updated: 1,
    });
    expect(fake.store.get('views')!.get('["demo_prod","Pump","v1"]')).toMatchObject({ name: 'Pump (v1)' });

    const clean = await cdf(work, ['clean', 'build', '--cdf-project', 'sandbox'], env);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('Clean summary');
    expect(fake.store.get('assets')!.size).toBe(0);
    expect(fake.store.get('spaces')!.size).toBe(0);
  });

  it('transformation updates go through /transformations/update with set', async () => {
    await cdf(work, ['build', '-c', 'org/config.prod.yaml'], env);
    await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    appendFileSync(
      path.join(work, 'org/modules/demo_module/transformations/pumps.sql'),
      'where `name` is not null\n',
    );
    await cdf(work, ['build', '-c', 'org/config.prod.yaml'], env);
    fake.requests.length = 0;
    const run = await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    expect(run.code).toBe(0);
    const upd = fake.requests.find((r) => r.path.endsWith('/transformations/update'));
    expect(upd?.body).toMatchObject({
      items: [{ externalId: 'pump_tr', update: { query: { set: expect.stringContaining('is not null') } } }],
    });
  });

  it('missing WRITE: dry-run says No, deploy fails with AuthorizationError', async () => {
    await cdf(work, ['build', '-c', 'org/config.prod.yaml'], env);
    fake.acl.transformationsAcl = ['READ'];
    const dry = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(dry.code).toBe(0);
    const plan = parseDryRunOutput(dry.stdout);
    expect(plan.ableToDeploy).toBe(false);
    expect(plan.resources.find((r) => r.resource === 'transformations')?.ableToDeploy).toBe(false);
    const real = await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    expect(real.code).toBe(1);
    expect(real.stdout).toMatch(/ERROR \(AuthorizationError\)/);
    fake.acl.dataModelsAcl = [];
    const noRead = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(noRead.code).toBe(1);
    expect(noRead.stdout).toMatch(/ERROR \(AuthorizationError\): Missing READ/);
  });

  it('API and connection failures look like the real CLI', async () => {
    await cdf(work, ['build', '-c', 'org/config.prod.yaml'], env);
    fake.failures.set('/models/spaces', 500);
    const create = await cdf(work, ['deploy', 'build', '--cdf-project', 'sandbox'], env);
    expect(create.code).toBe(1);
    expect(create.stdout).toContain(
      '  ERROR (ResourceCreationError): Failed to create 1 spaces due to API error: 500 Injected failure',
    );
    expect(() => parseDeployOutput(create.stdout)).toThrow(/ResourceCreationError/);

    fake.failures.clear();
    fake.failures.set('/models/views/byids', 503);
    const retrieve = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(retrieve.code).toBe(1);
    expect(retrieve.stderr.trim().split('\n').pop()).toBe(
      'cognite_toolkit._cdf_tk.client.http_client._exception.ToolkitAPIError: 503 Injected failure',
    );

    const closedPort = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as net.AddressInfo;
        srv.close(() => resolve(port));
      });
    });
    const down = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], {
      ...env,
      CDF_URL: `http://127.0.0.1:${closedPort}`,
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('httpx.ConnectError: [Errno 111] Connection refused');

    fake.failures.clear();
    fake.hangs.add('/token/inspect');
    const slow = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'sandbox'], {
      ...env,
      CDF_CLIENT_TIMEOUT: '1',
    });
    fake.hangs.clear();
    expect(slow.code).toBe(1);
    expect(slow.stderr.trim().split('\n').pop()).toBe('httpx.ReadTimeout: timed out');
  });

  it('usage and validation errors', async () => {
    const usage = await cdf(work, ['deploy', '--frobnicate'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^Usage: cdf deploy/);
    expect(usage.stderr).toContain('Error: No such option: --frobnicate');

    const noModules = await cdf(work, ['build'], env);
    expect(noModules.code).toBe(1);
    expect(noModules.stdout).toMatch(/ERROR \(ToolkitValueError\): No modules selected/);

    const noConfig = await cdf(work, ['build', '-c', 'org/config.nope.yaml'], env);
    expect(noConfig.code).toBe(1);
    expect(noConfig.stdout).toMatch(/ERROR \(ToolkitValueError\)/);

    await cdf(work, ['build', '-m', 'demo_module'], env);
    const wrongProject = await cdf(work, ['deploy', 'build', '--dry-run', '--cdf-project', 'other'], env);
    expect(wrongProject.code).toBe(1);
    expect(wrongProject.stdout).toMatch(/ERROR \(ToolkitValidationError\)/);
  });

  it('unresolved variables and YAML errors fail the module but exit 0', async () => {
    writeFileSync(
      path.join(work, 'org/modules/demo_module/classic/bad.Asset.yaml'),
      'externalId: x\nname: {{ nope }}\n',
    );
    const run = await cdf(work, ['build', '-c', 'org/config.dev.yaml'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Do not proceed to deploy.');
    const csv = readFileSync(path.join(work, 'build/insights.csv'), 'utf8');
    expect(csv).toContain('"ConsistencyError","UNRESOLVED-VARIABLES"');
    const report = await readBuildReport(path.join(work, 'build'));
    expect(report.modulesFailed).toBe(1);
    expect(report.criticalInsights.map((i) => i.code ?? i.insightType)).toEqual([
      'UNRESOLVED-VARIABLES',
      'ModuleFailed',
    ]);

    writeFileSync(
      path.join(work, 'org/modules/demo_module/classic/bad.Asset.yaml'),
      'externalId: x\nname: [unclosed\n',
    );
    await cdf(work, ['build', '-c', 'org/config.dev.yaml'], env);
    const lineage = readFileSync(path.join(work, 'build/lineage.yaml'), 'utf8');
    expect(lineage).toContain("status: 'FAILED: ModelSyntaxError'");
  });

  it('an empty build prints "No resources were deployed."', async () => {
    rmSync(path.join(work, 'org/modules/demo_module'), { recursive: true });
    const dir = path.join(work, 'empty-build');
    cpSync(path.join(__dirname, '../fixtures/toolkit/lineage_example.yaml'), path.join(dir, 'lineage.yaml'));
    // The example lineage points at files that do not exist here; keep only the header part.
    const text =
      readFileSync(path.join(dir, 'lineage.yaml'), 'utf8').split('moduleLineage:')[0] + 'moduleLineage: []\n';
    writeFileSync(path.join(dir, 'lineage.yaml'), text);
    const run = await cdf(work, ['deploy', 'empty-build', '--dry-run', '--cdf-project', 'sandbox'], env);
    expect(run.code).toBe(0);
    const plan = parseDryRunOutput(run.stdout);
    expect(plan.noResources).toBe(true);
  });
});

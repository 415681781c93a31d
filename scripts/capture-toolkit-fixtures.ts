/**
 * Captures the console output and build artefacts of the REAL Cognite Toolkit CLI (`cdf`) run against the
 * local fake CDF, into test/fixtures/toolkit/<version>/. The parser tests (test/toolkit/real-output.test.ts) run
 * on these files for every captured version, so what we parse and gate on is exactly what users see.
 *
 *   npx tsx scripts/capture-toolkit-fixtures.ts --cdf data/toolkits/0.9.28/bin/cdf
 *
 * Temp paths are replaced with /tmp/PROJECT and /tmp/BUILD, the fake CDF URL with http://127.0.0.1:SANDBOX and
 * timestamps/durations in lineage.yaml with fixed values so re-captures only differ where the Toolkit does.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { FakeCdfAdmin } from '../fakes/cdf/admin-client';
import { startFakeCdf } from '../fakes/cdf/server';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'toolkit');
const EXAMPLES = path.join(ROOT, 'examples');
const CDF_PROJECT = 'demo-prod';

/** What the generated "large" module holds; the test asserts the plan totals against these numbers. */
export const LARGE = { assets: 150, transformations: 12, containers: 10, views: 10, spaces: 1 } as const;

interface RunResult {
  name: string;
  argv: string[];
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd: string;
  token?: string;
  columns?: number;
}

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const cdf = path.resolve(argValue('--cdf') ?? path.join(ROOT, '.venv', 'bin', 'cdf'));
  if (!existsSync(cdf)) throw new Error(`${cdf} not found; run scripts/ensure-tools.sh first`);
  const versionText = await new Promise<string>((resolve, reject) => {
    const child = spawn(cdf, ['--version'], { env: { PATH: process.env.PATH, HOME: process.env.HOME } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  const found = /version:\s*([0-9][0-9A-Za-z.+-]*?)\.?\s*$/m.exec(versionText)?.[1];
  if (!found) throw new Error(`cannot tell the version of ${cdf} from: ${versionText}`);
  const toolkitVersion: string = found;
  const OUT_DIR = path.join(FIXTURES, toolkitVersion);

  // Short temp names keep rich's wrapping of paths close to what the placeholders produce.
  const tmp = mkdtempSync(path.join(tmpdir(), 'tkfx-'));
  const sandboxWarnings: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // Only the message: time and pid would make the fixture differ on every capture.
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        try {
          sandboxWarnings.push(String((JSON.parse(line) as { msg?: unknown }).msg));
        } catch {
          sandboxWarnings.push(line);
        }
      }
      cb();
    },
  });
  const sandbox = await startFakeCdf({
    port: 0,
    stateFile: path.join(tmp, 'state.json'),
    projects: [CDF_PROJECT],
    logger: pino({ name: 'fake-cdf', level: 'warn' }, logStream),
  });
  const admin = new FakeCdfAdmin(sandbox.url);

  const replacements: Array<[string, string]> = [];
  const placeholder = (real: string, stable: string): void => {
    replacements.push([real, stable]);
    replacements.sort((a, b) => b[0].length - a[0].length);
  };
  placeholder(sandbox.url, 'http://127.0.0.1:SANDBOX');
  const scrub = (text: string, keepColumns = false): string => {
    let out = text;
    for (const [real, stable] of [...replacements, [tmp, '/tmp/TMP'] as [string, string]]) {
      if (!keepColumns) {
        out = out.split(real).join(stable);
        continue;
      }
      // In console output, pad the placeholder with the blanks rich drew after the path, so panel
      // borders stay in their column.
      out = out.replace(
        new RegExp(`${escapeRegExp(real)}([^\\s│]*)( *)`, 'g'),
        (_m, tail: string, blanks: string) =>
          blanks.length > 0
            ? stable + tail + ' '.repeat(Math.max(1, blanks.length + real.length - stable.length))
            : stable + tail,
      );
    }
    if (keepColumns) {
      // Run-dependent bits of console output: progress timers and the timestamped deploy log name.
      out = out
        .replace(/(━[━ ]*\s+\d+%) \d+:\d\d:\d\d/g, '$1 0:00:00')
        .replace(
          /deploy_logs_\d{4}-\d\d-\d\d\/[0-9T_.:+-]+\.json/g,
          'deploy_logs_2000-01-01/2000-01-01T00_00_00.000000+00_00.json',
        );
    }
    return out;
  };

  const exitCodes: Record<string, { argv: string[]; exitCode: number | null }> = {};

  async function run(name: string, args: string[], opts: RunOptions): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CDF_CLUSTER: 'sandbox',
      CDF_PROJECT,
      LOGIN_FLOW: 'token',
      CDF_TOKEN: opts.token ?? 'fixture-token',
      CDF_URL: sandbox.url,
      NO_COLOR: '1',
      COLUMNS: String(opts.columns ?? 200),
      SENTRY_ENABLED: 'false',
      PYTEST_CURRENT_TEST: 'capture',
    };
    const argv = [cdf, ...args];
    const result = await new Promise<RunResult>((resolve, reject) => {
      const child = spawn(cdf, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({
          name,
          argv,
          exitCode: code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    });
    exitCodes[name] = { argv: ['cdf', ...args.map((a) => scrub(a))], exitCode: result.exitCode };
    console.log(
      `${name}: exit ${result.exitCode} (${result.stdout.length} B stdout, ${result.stderr.length} B stderr)`,
    );
    return result;
  }

  /** stdout, then stderr (if any) after a blank line, as the worker's runner combines them. */
  function save(name: string, r: RunResult): void {
    const text = `${r.stdout}${r.stderr ? `\n${r.stderr}` : ''}`;
    writeFileSync(path.join(OUT_DIR, name), scrub(text, true));
  }

  function saveBuildArtefacts(prefix: string, buildDir: string): void {
    const lineage = path.join(buildDir, 'lineage.yaml');
    if (existsSync(lineage)) {
      const text = scrub(readFileSync(lineage, 'utf8'))
        .replace(/^timestamp: .*$/m, "timestamp: '2000-01-01T00:00:00.000000+00:00'")
        .replace(/^duration: .*$/m, 'duration: 1.0');
      writeFileSync(path.join(OUT_DIR, `${prefix}.lineage.yaml`), text);
    } else {
      console.warn(`  (no lineage.yaml in ${buildDir})`);
    }
    const insights = path.join(buildDir, 'insights.json');
    if (existsSync(insights))
      writeFileSync(path.join(OUT_DIR, `${prefix}.insights.json`), scrub(readFileSync(insights, 'utf8')));
    else console.warn(`  (no insights.json in ${buildDir})`);
  }

  let projectSeq = 0;
  function newProject(): string {
    const dir = path.join(tmp, `p${++projectSeq}`);
    cpSync(path.join(EXAMPLES, 'toolkit-project'), dir, { recursive: true });
    pinToolkitVersion(dir, toolkitVersion);
    placeholder(dir, projectSeq === 1 ? '/tmp/PROJECT' : `/tmp/PROJECT${projectSeq}`);
    return dir;
  }
  let buildSeq = 0;
  function newBuildDir(): string {
    const dir = path.join(tmp, `b${++buildSeq}`);
    placeholder(dir, buildSeq === 1 ? '/tmp/BUILD' : `/tmp/BUILD${buildSeq}`);
    return dir;
  }

  const build = (name: string, cwd: string, buildDir: string, columns?: number) =>
    run(
      name,
      [
        '--no-override-env',
        'build',
        '-o',
        'org',
        '-c',
        'org/config.prod.yaml',
        '-b',
        buildDir,
        '--insight-format',
        'json',
      ],
      {
        cwd,
        columns,
      },
    );
  // As the cdf profile does: request/response logs go next to the build, never into the checkout.
  const logDir = (buildDir: string) => `${buildDir}-logs`;
  const dryRun = (name: string, cwd: string, buildDir: string, opts: Partial<RunOptions> = {}) =>
    run(
      name,
      [
        '--no-override-env',
        'deploy',
        buildDir,
        '--dry-run',
        '--cdf-project',
        CDF_PROJECT,
        '--verbose',
        '--log-dir',
        logDir(buildDir),
      ],
      { cwd, ...opts },
    );
  const deploy = (name: string, cwd: string, buildDir: string) =>
    run(
      name,
      ['--no-override-env', 'deploy', buildDir, '--cdf-project', CDF_PROJECT, '--log-dir', logDir(buildDir)],
      { cwd },
    );
  const clean = (name: string, cwd: string, buildDir: string, dry: boolean) =>
    run(
      name,
      [
        '--no-override-env',
        'clean',
        buildDir,
        '--cdf-project',
        CDF_PROJECT,
        '--log-dir',
        logDir(buildDir),
        ...(dry ? ['--dry-run'] : []),
      ],
      { cwd },
    );

  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const version = (await run('version', ['--version'], { cwd: tmp })).stdout.trim();

  try {
    // 1. The demo project, first commit.
    const project = newProject();
    const buildDir = newBuildDir();
    save('build-ok.txt', await build('build-ok', project, buildDir));
    saveBuildArtefacts('build-ok', buildDir);

    await admin.reset();
    save('dry-run-create.txt', await dryRun('dry-run-create', project, buildDir));
    save(
      'dry-run-create-width80.txt',
      await dryRun('dry-run-create-width80', project, buildDir, { columns: 80 }),
    );
    save(
      'dry-run-readonly.txt',
      await dryRun('dry-run-readonly', project, buildDir, { token: 'readonly-fixture' }),
    );
    save('deploy-create.txt', await deploy('deploy-create', project, buildDir));
    save('dry-run-unchanged.txt', await dryRun('dry-run-unchanged', project, buildDir));

    // 2. Second commit of the demo on top: three changed resources.
    cpSync(path.join(EXAMPLES, 'demo-changes'), project, { recursive: true });
    const buildDir2 = newBuildDir();
    save('build-changes.txt', await build('build-changes', project, buildDir2));
    save('dry-run-update-verbose.txt', await dryRun('dry-run-update-verbose', project, buildDir2));

    // 3. Clean. The demo's container makes the Toolkit call POST /models/containers/inspect, which the
    // sandbox may not implement; capture that as-is, then clean a container-free project.
    save(
      'clean-with-containers-dry-run.txt',
      await clean('clean-with-containers-dry-run', project, buildDir2, true),
    );
    const classic = newProject();
    rmSync(path.join(classic, 'org/modules/demo_module/transformations'), { recursive: true });
    for (const f of ['pump.Container.yaml', 'pump.View.yaml', 'pump.DataModel.yaml']) {
      rmSync(path.join(classic, 'org/modules/demo_module/data_modeling', f));
    }
    const classicBuild = newBuildDir();
    await build('build-classic', classic, classicBuild);
    await admin.reset();
    await deploy('deploy-classic', classic, classicBuild);
    save('clean-dry-run.txt', await clean('clean-dry-run', classic, classicBuild, true));
    save('clean.txt', await clean('clean', classic, classicBuild, false));

    // 4. Failing builds.
    const broken = newProject();
    writeFileSync(
      path.join(broken, 'org/modules/demo_module/data_modeling/broken.Space.yaml'),
      'space: [unclosed\n',
    );
    const brokenBuild = newBuildDir();
    save('build-failing.txt', await build('build-failing', broken, brokenBuild));
    saveBuildArtefacts('build-failing', brokenBuild);

    const unresolved = newProject();
    writeFileSync(
      path.join(unresolved, 'org/modules/demo_module/classic/unresolved.Asset.yaml'),
      'externalId: pump_unresolved\nname: Pump {{ missing_variable }}\nparentExternalId: site_oslo\n',
    );
    const unresolvedBuild = newBuildDir();
    save(
      'build-unresolved-variable.txt',
      await build('build-unresolved-variable', unresolved, unresolvedBuild),
    );
    saveBuildArtefacts('build-unresolved-variable', unresolvedBuild);

    // 5. A large plan on an empty project.
    const large = newProject();
    rmSync(path.join(large, 'org/modules/demo_module'), { recursive: true });
    generateLargeModule(path.join(large, 'org/modules/generated_module'));
    const largeBuild = newBuildDir();
    save('build-large.txt', await build('build-large', large, largeBuild));
    saveBuildArtefacts('build-large', largeBuild);
    await admin.reset();
    save('dry-run-large.txt', await dryRun('dry-run-large', large, largeBuild));

    // 6. A deploy that fails with an API error.
    await admin.reset();
    const errProject = newProject();
    const errBuild = newBuildDir();
    await build('build-deploy-error', errProject, errBuild);
    await admin.addFault({ method: 'POST', pathPattern: '^/models/containers$', status: 400, count: -1 });
    save('deploy-error.txt', await deploy('deploy-error', errProject, errBuild));
    save('dry-run-after-deploy-error.txt', await dryRun('dry-run-after-deploy-error', errProject, errBuild));
    // Deploying sources edited after the build: the Toolkit refuses before touching CDF.
    await admin.clearFaults();
    save('deploy-stale-build.txt', await deploy('deploy-stale-build', project, buildDir));
  } finally {
    await sandbox.close();
    writeFileSync(path.join(OUT_DIR, 'large-project.json'), `${JSON.stringify(LARGE, null, 2)}\n`);
    writeFileSync(path.join(OUT_DIR, 'exit-codes.json'), `${JSON.stringify(exitCodes, null, 2)}\n`);
    writeFileSync(path.join(OUT_DIR, 'README.md'), readme(version, exitCodes));
    if (sandboxWarnings.length) {
      writeFileSync(path.join(OUT_DIR, 'sandbox-warnings.log'), `${scrub(sandboxWarnings.join('\n'))}\n`);
      console.warn(`sandbox logged ${sandboxWarnings.length} warnings; see sandbox-warnings.log`);
    }
    if (!process.env.KEEP_TMP) rmSync(tmp, { recursive: true, force: true });
    else console.log(`kept ${tmp}`);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function generateLargeModule(dir: string): void {
  const space = 'gen_space';
  mkdirSync(path.join(dir, 'classic'), { recursive: true });
  mkdirSync(path.join(dir, 'data_modeling'), { recursive: true });
  mkdirSync(path.join(dir, 'transformations'), { recursive: true });
  writeFileSync(
    path.join(dir, 'data_modeling', 'gen.Space.yaml'),
    `space: ${space}\nname: Generated space\n`,
  );
  const assets: string[] = [];
  for (let i = 1; i <= LARGE.assets; i++) {
    assets.push(`- externalId: gen_asset_${String(i).padStart(3, '0')}\n  name: Generated asset ${i}\n`);
  }
  writeFileSync(path.join(dir, 'classic', 'generated.Asset.yaml'), assets.join(''));
  for (let i = 1; i <= LARGE.containers; i++) {
    const id = `GenThing${String(i).padStart(2, '0')}`;
    writeFileSync(
      path.join(dir, 'data_modeling', `${id}.Container.yaml`),
      `space: ${space}\nexternalId: ${id}\nusedFor: node\nproperties:\n  name:\n    type:\n      type: text\n    nullable: true\n`,
    );
  }
  for (let i = 1; i <= LARGE.views; i++) {
    const id = `GenThing${String(i).padStart(2, '0')}`;
    writeFileSync(
      path.join(dir, 'data_modeling', `${id}.View.yaml`),
      `space: ${space}\nexternalId: ${id}\nversion: v1\nproperties:\n  name:\n    container:\n      space: ${space}\n      externalId: ${id}\n      type: container\n    containerPropertyIdentifier: name\n`,
    );
  }
  for (let i = 1; i <= LARGE.transformations; i++) {
    const id = `gen_tr_${String(i).padStart(2, '0')}`;
    writeFileSync(
      path.join(dir, 'transformations', `${id}.Transformation.yaml`),
      `externalId: ${id}\nname: Generated transformation ${i}\ndestination:\n  type: assets\nignoreNullFields: true\nisPublic: true\nconflictMode: upsert\n`,
    );
    writeFileSync(
      path.join(dir, 'transformations', `${id}.sql`),
      `select 'gen_${i}' as externalId, 'Generated ${i}' as name\n`,
    );
  }
}

function readme(version: string, exitCodes: Record<string, { exitCode: number | null }>): string {
  return `# Real Cognite Toolkit output

Captured by \`npx tsx scripts/capture-toolkit-fixtures.ts\` from the real \`cdf\` CLI run against the local
sandbox (sandbox/server.ts). Do not edit by hand: re-run the script after a Toolkit upgrade and review the diff.

- Toolkit: ${version}
- Captured: ${new Date().toISOString().slice(0, 10)}
- Environment: NO_COLOR=1, COLUMNS=200 (80 for *-width80*), LOGIN_FLOW=token, stdin closed.
- Text files hold stdout, then stderr after a blank line. Temp paths are replaced with /tmp/PROJECT*,
  /tmp/BUILD*; the fake CDF URL with http://127.0.0.1:SANDBOX; lineage timestamp/duration with fixed values.
  Because the replacement happens after rendering, a line holding a path may be shorter or longer than rich drew it.
- Exit codes: exit-codes.json.

| fixture | what | exit |
| --- | --- | --- |
${[
  ['build-ok', 'build of examples/toolkit-project'],
  ['dry-run-create', 'deploy --dry-run --verbose on an empty project'],
  ['dry-run-create-width80', 'same with COLUMNS=80'],
  ['dry-run-readonly', 'same with a READ-only token'],
  ['deploy-create', 'deploy on an empty project'],
  ['dry-run-unchanged', 'dry run after that deploy'],
  ['build-changes', 'build after copying examples/demo-changes on top'],
  ['dry-run-update-verbose', 'dry run --verbose of the second commit'],
  [
    'clean-with-containers-dry-run',
    'clean --dry-run of the second build (needs POST /models/containers/inspect)',
  ],
  ['clean-dry-run', 'clean --dry-run of a deployed container-free build (space + 2 assets)'],
  ['clean', 'clean of that build'],
  ['build-failing', 'build with a broken.Space.yaml holding invalid YAML'],
  ['build-unresolved-variable', 'build with a file referencing {{ missing_variable }}'],
  [
    'build-large',
    `build of a project holding only a generated module: ${LARGE.assets} assets, ${LARGE.transformations} transformations, ${LARGE.containers} containers, ${LARGE.views} views, ${LARGE.spaces} space`,
  ],
  ['dry-run-large', 'dry run --verbose of that build on an empty project'],
  ['deploy-error', 'deploy with the fake CDF answering POST /models/containers with 400'],
  ['dry-run-after-deploy-error', 'dry run after the failed deploy (fault still active)'],
  ['deploy-stale-build', 'deploy of a build whose sources were edited afterwards'],
]
  .map(([n, what]) => `| ${n} | ${what} | ${exitCodes[n ?? '']?.exitCode ?? 'n/a'} |`)
  .join('\n')}
`;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/** Makes the copied project pin the Toolkit being captured: `cdf` refuses a project pinned to another version. */
function pinToolkitVersion(projectDir: string, version: string): void {
  const file = path.join(projectDir, 'cdf.toml');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace(/^version\s*=\s*"[^"]*"/m, `version = "${version}"`));
}

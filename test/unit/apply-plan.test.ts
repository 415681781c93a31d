/**
 * The apply step's choice of build: it deploys the build that was diffed and approved only when that build was
 * made by the Toolkit version the commit pins; otherwise (another version, no build, another plan) it rebuilds
 * and compares with the approved plan from the artifact store before deploying. A retry that rebuilds after a
 * partial deploy accepts what is left of the approved plan, and nothing beyond it. Driven with fake Toolkit
 * steps in a mock activity context.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { FilesystemArtifactStore } from '../../artifacts/filesystem-artifact-store';
import { dataLayout } from '../../config/data-layout';
import { DeploymentLedger } from '../../activities/ledger/deployment-ledger';
import { createApplyPlan } from '../../activities/steps/apply-plan';
import type { ResolvedToolkit } from '../../activities/toolkit/toolkit-resolver';
import type { ToolkitSteps } from '../../activities/toolkit/toolkit-steps';
import { parseDryRunOutput } from '../../activities/toolkit/dry-run-parser';
import { emptyCheckouts } from '../support/fake-checkouts';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'toolkit', '0.9.28');
const DRY_RUN = readFileSync(path.join(FIXTURES, 'dry-run-create.txt'), 'utf8');
const DEPLOY = readFileSync(path.join(FIXTURES, 'deploy-create.txt'), 'utf8');
// What a dry-run shows after a deploy that stopped part-way: assets and the space made, the rest still to create.
const DRY_RUN_PARTLY_DEPLOYED = readFileSync(path.join(FIXTURES, 'dry-run-after-deploy-error.txt'), 'utf8');
const COMMIT = 'c'.repeat(40);
const run = { workflowId: 'promotion-prod-1', runId: 'run-1' };

const tmp = tempDir('cdf-apply-');
afterAll(() => tmp.cleanup());

async function setup(
  pinned: string,
  options: { approved?: string; rebuilt?: string; recordWaitsMs?: number } = {},
) {
  const raw = minimalRawConfig();
  const id = `${pinned}-${Math.random().toString(36).slice(2)}`;
  raw.dataDir = path.join(tmp.dir, id);
  // Outside the data dir, as a folder several workers share would be: the plan is read from the store only.
  raw.artifacts = { dir: path.join(tmp.dir, `${id}-shared-artifacts`) };
  const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
  const layout = dataLayout(config.dataDir);
  const workspace = emptyCheckouts(layout, COMMIT);
  const artifacts = new FilesystemArtifactStore(config.artifacts.dir);
  const { hash } = await artifacts.putPlan(options.approved ?? DRY_RUN);
  const rebuiltText = options.rebuilt ?? DRY_RUN;
  const toolkit: ResolvedToolkit = {
    version: pinned,
    executable: `/toolkits/${pinned}/bin/cdf`,
    source: 'cache',
  };
  const calls: string[] = [];
  const steps: ToolkitSteps = {
    has: () => true,
    resolve: async () => toolkit,
    build: async () => ({ toolkit }),
    dryRun: async () => {
      calls.push('rebuild');
      mkdirSync(layout.run(run).build, { recursive: true });
      return { toolkit, parsed: parseDryRunOutput(rebuiltText) };
    },
    diffExistingBuild: async () => {
      calls.push('re-diff existing build');
      return parseDryRunOutput(DRY_RUN);
    },
    run: async (step, _target, used) => {
      calls.push(`${step} with ${used.version}`);
      return { argv: [], output: DEPLOY, stdout: DEPLOY, durationMs: 1 };
    },
  };
  const ledger = new DeploymentLedger(layout.ledger);
  const appended: number[] = [];
  const slowLedger = {
    // The deployment is recorded with the environment's entity, which a busy worker may answer late.
    append: async (entry: Parameters<DeploymentLedger['append']>[0]) => {
      await new Promise((r) => setTimeout(r, options.recordWaitsMs ?? 0));
      appended.push(Date.now());
      await ledger.append(entry);
    },
  };
  const apply = createApplyPlan({
    config,
    steps,
    workspace,
    artifacts,
    ledger: slowLedger,
    logger: pino({ level: 'silent' }),
  });
  return { apply, calls, workspace, layout, hash, ledger, artifacts, config, appended };
}

const request = (planHash: string) => ({
  run,
  environment: 'prod',
  commit: COMMIT,
  planHash,
  kind: 'promotion' as const,
  toolkitVersion: '0.9.28',
});

test('a build made by the pinned version is re-diffed and deployed as it is', async () => {
  const s = await setup('0.9.28');
  mkdirSync(s.layout.run(run).build, { recursive: true });
  await s.workspace.recordBuiltPlan(run, { planHash: s.hash, toolkitVersion: '0.9.28' });
  const result = await new MockActivityEnvironment().run(s.apply, request(s.hash));
  expect(s.calls).toEqual(['re-diff existing build', 'apply with 0.9.28']);
  expect(result).toMatchObject({ created: 7, toolkitVersion: '0.9.28' });
  expect((await s.ledger.last('prod'))?.toolkitVersion).toBe('0.9.28');
});

test('a build made by another Toolkit version is never deployed: the commit is rebuilt with its own', async () => {
  const s = await setup('0.9.28');
  mkdirSync(s.layout.run(run).build, { recursive: true });
  await s.workspace.recordBuiltPlan(run, { planHash: s.hash, toolkitVersion: '0.8.271' });
  await new MockActivityEnvironment().run(s.apply, request(s.hash));
  expect(s.calls).toEqual(['rebuild', 'apply with 0.9.28']);
});

test('no build on this worker (another machine, a reset run): rebuild, compare, deploy', async () => {
  const s = await setup('0.9.28');
  await new MockActivityEnvironment().run(s.apply, request(s.hash));
  expect(s.calls).toEqual(['rebuild', 'apply with 0.9.28']);
});

test('a marker from before versions were recorded says nothing about the version: rebuild first', async () => {
  const s = await setup('0.9.28');
  mkdirSync(s.layout.run(run).build, { recursive: true });
  mkdirSync(s.layout.run(run).dir, { recursive: true });
  writeFileSync(s.layout.run(run).planHashMarker, s.hash);
  expect(await s.workspace.builtPlan(run)).toEqual({ planHash: s.hash });
  await new MockActivityEnvironment().run(s.apply, request(s.hash));
  expect(s.calls).toEqual(['rebuild', 'apply with 0.9.28']);
});

test('a plan approved as made with another Toolkit version is never applied', async () => {
  const s = await setup('0.9.28');
  const err = await new MockActivityEnvironment()
    .run(s.apply, { ...request(s.hash), toolkitVersion: '0.8.271' })
    .catch((e: unknown) => e as Error);
  expect(String((err as Error).message)).toMatch(
    /approved as made with Toolkit 0\.8\.271, but this worker resolves 0\.9\.28/,
  );
  expect(s.calls).toEqual([]);
});

test('the approved plan is read from the artifact store: a worker without the plan text in its data dir applies', async () => {
  const s = await setup('0.9.28');
  expect(s.config.artifacts.dir.startsWith(s.config.dataDir + path.sep)).toBe(false);
  await new MockActivityEnvironment().run(s.apply, request(s.hash));
  expect(s.calls).toEqual(['rebuild', 'apply with 0.9.28']);
  expect(existsSync(path.join(s.config.dataDir, 'artifacts'))).toBe(false);
});

test('an approved plan the store does not have stops the apply before anything is deployed', async () => {
  const s = await setup('0.9.28');
  const missing = 'e'.repeat(64);
  const err = await new MockActivityEnvironment()
    .run(s.apply, request(missing))
    .catch((e: unknown) => e as Error);
  expect((err as Error).name).toBe('ArtifactNotFoundError');
  expect((err as Error).message).toContain(`plan ${missing} is not in the artifact store`);
  expect(s.calls).toEqual(['rebuild']);
});

test('a tampered approved plan in the store stops the apply, naming the hash', async () => {
  const s = await setup('0.9.28');
  const file = path.join(s.config.artifacts.dir, 'plans', s.hash.slice(0, 2), `${s.hash}.txt`);
  writeFileSync(file, DRY_RUN_PARTLY_DEPLOYED);
  const err = await new MockActivityEnvironment()
    .run(s.apply, request(s.hash))
    .catch((e: unknown) => e as Error);
  expect((err as Error).name).toBe('ArtifactCorruptError');
  expect((err as Error).message).toContain(`plan ${s.hash} is corrupt`);
  expect(s.calls).toEqual(['rebuild']);
});

test('the apply keeps heartbeating while its deployment waits to be recorded: a busy worker is not taken for dead', async () => {
  const s = await setup('0.9.28', { recordWaitsMs: 2_500 });
  mkdirSync(s.layout.run(run).build, { recursive: true });
  await s.workspace.recordBuiltPlan(run, { planHash: s.hash, toolkitVersion: '0.9.28' });
  const env = new MockActivityEnvironment({
    attempt: 2,
    heartbeatDetails: { step: 'apply', deployStarted: true },
  });
  const beats: Array<{ at: number; details: unknown }> = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now(), details }));
  const started = Date.now();
  await env.run(s.apply, request(s.hash));
  // A beat while the record waited (the heartbeat timeout is 8 s), still saying the deploy had begun.
  const during = beats.filter((b) => b.at > started + 1_000 && b.at <= s.appended[0]!);
  expect(during.length).toBeGreaterThan(0);
  expect(during.every((b) => (b.details as { deployStarted?: boolean }).deployStarted === true)).toBe(true);
});

describe('a retried apply: what the last attempt recorded in its heartbeat decides, not the attempt number', () => {
  const deployHadStarted = { attempt: 2, heartbeatDetails: { step: 'apply', deployStarted: true } };

  test('a deploy had started: what is left of the approved plan is deployed, after a fresh dry-run', async () => {
    const s = await setup('0.9.28', { rebuilt: DRY_RUN_PARTLY_DEPLOYED });
    const result = (await new MockActivityEnvironment(deployHadStarted).run(s.apply, request(s.hash))) as {
      attempts: number;
    };
    expect(s.calls).toEqual(['rebuild', 'apply with 0.9.28']);
    expect(result.attempts).toBe(2);
  });

  test('a deploy had started and the build is still here: it is dry-run again before the deploy', async () => {
    const s = await setup('0.9.28');
    mkdirSync(s.layout.run(run).build, { recursive: true });
    await s.workspace.recordBuiltPlan(run, { planHash: s.hash, toolkitVersion: '0.9.28' });
    await new MockActivityEnvironment(deployHadStarted).run(s.apply, request(s.hash));
    expect(s.calls).toEqual(['re-diff existing build', 'apply with 0.9.28']);
  });

  test('the first attempt: the same smaller plan is a changed plan, nothing is deployed', async () => {
    const s = await setup('0.9.28', { rebuilt: DRY_RUN_PARTLY_DEPLOYED });
    const err = await new MockActivityEnvironment()
      .run(s.apply, request(s.hash))
      .catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('PlanMismatchError');
    expect(s.calls).toEqual(['rebuild']);
  });

  test('a retry whose previous attempt died in its pre-deploy check is checked as strictly as the first', async () => {
    const s = await setup('0.9.28', { rebuilt: DRY_RUN_PARTLY_DEPLOYED });
    const err = await new MockActivityEnvironment({
      attempt: 3,
      heartbeatDetails: { step: 'diff', lines: 40 },
    })
      .run(s.apply, request(s.hash))
      .catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('PlanMismatchError');
    expect((err as Error).message).toMatch(/the plan changed since it was approved/);
    expect(s.calls).toEqual(['rebuild']);
  });

  test('a change beyond the approved plan is refused even after a partial deploy: nothing more is deployed', async () => {
    // Approved: what was left after a partial deploy; now CDF would need more than that.
    const s = await setup('0.9.28', { approved: DRY_RUN_PARTLY_DEPLOYED, rebuilt: DRY_RUN });
    const err = await new MockActivityEnvironment({ ...deployHadStarted, attempt: 3 })
      .run(s.apply, request(s.hash))
      .catch((e: unknown) => e as Error);
    expect((err as Error).name).toBe('PlanMismatchError');
    expect((err as Error).message).toMatch(/assets: 2 to create, 0 approved/);
    expect((err as Error).message).toMatch(/spaces: 1 to create, 0 approved/);
    expect(s.calls).toEqual(['rebuild']);
  });
});

/**
 * The diff step's output: the plan text and the build report go to the artifact store (not the run's folder,
 * which is one worker's cache), history gets the hash and where the plan is. Fake Toolkit steps, a real
 * filesystem store.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { buildReportName } from '../../artifacts/artifact-store';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { dataLayout } from '../../config/data-layout';
import { createBuildAndDiff } from '../../activities/steps/build-and-diff';
import type { BuildReport } from '../../activities/toolkit/build-report';
import { parseDryRunOutput } from '../../activities/toolkit/dry-run-parser';
import type { ToolkitSteps } from '../../activities/toolkit/toolkit-steps';
import { emptyCheckouts, PINNED_TOOLKIT } from '../support/fake-checkouts';
import type { DiffResult } from '../../contracts/activity-types';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const DRY_RUN = readFileSync(
  path.join(__dirname, '..', 'fixtures', 'toolkit', '0.9.28', 'dry-run-create.txt'),
  'utf8',
);
const COMMIT = 'c'.repeat(40);
const run = { workflowId: 'promotion-prod-main-1', runId: 'run-1' };
const REPORT: BuildReport = {
  modulesProcessed: 1,
  modulesSucceeded: 1,
  modulesFailed: 0,
  insightsSummary: {},
  criticalInsights: [],
  cdfProject: 'acme-prod',
  resources: [
    {
      kind: 'Space',
      resourceFolder: 'data_modeling',
      identifier: { space: 'demo' },
      sourceFile: 'a',
      builtFile: 'b',
    },
  ],
  failedModules: [],
};

const tmp = tempDir('cdf-diff-');
afterAll(() => tmp.cleanup());

async function diff(artifacts?: Record<string, unknown>) {
  const raw = minimalRawConfig();
  raw.dataDir = path.join(tmp.dir, `data-${Math.random().toString(36).slice(2)}`);
  if (artifacts) raw.artifacts = artifacts;
  const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
  const workspace = emptyCheckouts(dataLayout(config.dataDir), COMMIT);
  const toolkit = PINNED_TOOLKIT;
  const steps = {
    has: () => true,
    dryRun: async (_target: unknown, _build: string, outputDir: string) => {
      mkdirSync(outputDir, { recursive: true });
      const stdoutFile = path.join(outputDir, 'stdout.txt');
      writeFileSync(stdoutFile, DRY_RUN);
      return { toolkit, report: REPORT, output: { stdoutFile }, parsed: parseDryRunOutput(DRY_RUN) };
    },
  } as unknown as ToolkitSteps;
  const store = openArtifactStore(config.artifacts);
  const buildAndDiff = createBuildAndDiff({
    config,
    steps,
    workspace,
    artifacts: store,
    findLeftovers: async () => {
      throw new Error('promotions look for no leftovers');
    },
    logger: pino({ level: 'silent' }),
  });
  const result = (await new MockActivityEnvironment().run(buildAndDiff, {
    run,
    environment: 'prod',
    commit: COMMIT,
    kind: 'promotion' as const,
  })) as DiffResult;
  return { result, store, config, workspace };
}

test('the plan and the build report go to the artifact store; history gets the hash and the plan location', async () => {
  const { result, store, config, workspace } = await diff();
  const text = await store.getPlan(result.planHash);
  expect(text).toContain('Plan made with Cognite Toolkit 0.9.28');
  expect(text).toContain('Deploy summary (dry run)');
  // The default store keeps the layout it always had: artifacts/plans/<xx>/<hash>.txt under the data dir.
  expect(result.planArtifact).toBe(
    path.join('artifacts', 'plans', result.planHash.slice(0, 2), `${result.planHash}.txt`),
  );
  expect(path.resolve(config.dataDir, result.planArtifact)).toBe(
    path.join(config.artifacts.dir, 'plans', result.planHash.slice(0, 2), `${result.planHash}.txt`),
  );
  const stored = JSON.parse(await store.getNamed(buildReportName(run))) as Record<string, unknown>;
  expect(stored).toEqual({
    commit: COMMIT,
    environment: 'prod',
    toolkitVersion: '0.9.28',
    planHash: result.planHash,
    report: REPORT,
  });
  expect(await workspace.builtPlan(run)).toEqual({ planHash: result.planHash, toolkitVersion: '0.9.28' });
});

test('a shared folder outside the data dir holds them just the same', async () => {
  const shared = path.join(tmp.dir, 'shared-artifacts');
  const { result, store } = await diff({ dir: shared });
  expect(store.location).toBe(shared);
  expect(path.isAbsolute(result.planArtifact)).toBe(false);
  expect(await store.getPlan(result.planHash)).toContain('Deploy summary (dry run)');
  expect(await store.getNamed(buildReportName(run))).toContain(`"planHash": "${result.planHash}"`);
});

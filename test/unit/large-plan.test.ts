/**
 * A large plan (a few MB of `cdf deploy --dry-run --verbose`) through the whole diff path as the worker runs it:
 * the real Toolkit runner (a custom profile whose "Toolkit" prints a generated plan, and the token), the Toolkit
 * steps, the diff activity and a filesystem artifact store. The stored plan is exactly the document an approver
 * has always read, under its sha256, and the token the command printed is masked in it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { composePlanText, leftoverSection, planPreamble } from '../../activities/plan/plan-document';
import { writePlanFile } from '../../activities/plan/plan-file';
import { createBuildAndDiff } from '../../activities/steps/build-and-diff';
import { parseDryRunOutput } from '../../activities/toolkit/dry-run-parser';
import type { DiffResult } from '../../contracts/activity-types';
import { stepsOverEmptyCheckouts } from '../support/fake-checkouts';
import { generateDryRunText } from '../support/large-plan';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const TOKEN = 'prod-token-5ecret-value-in-a-large-plan';
const COMMIT = 'd'.repeat(40);
const run = { workflowId: 'promotion-prod-large-1', runId: 'run-1' };
const tmp = tempDir('cdf-large-plan-');
afterAll(() => tmp.cleanup());

test('a plan of a few MB is stored byte for byte under its sha256, with the token the Toolkit printed masked', async () => {
  // 3.6 MB; the token is printed inside the plan's stdout and on stderr, as a careless wrapper might.
  const planText = generateDryRunText();
  const planFile = path.join(tmp.dir, 'dry-run.txt');
  writeFileSync(planFile, planText);
  const raw = minimalRawConfig();
  raw.dataDir = path.join(tmp.dir, 'data');
  raw.toolkit = {
    profile: 'custom',
    executable: 'sh',
    custom: {
      diff: [
        'sh',
        '-c',
        'printf "using token %s\\n" "$CDF_TOKEN"; cat "$0"; printf "debug: Bearer %s\\n" "$CDF_TOKEN" >&2',
        planFile,
      ],
      apply: ['true'],
    },
  };
  const config = buildConfig(raw, path.join(tmp.dir, 'promotion.yaml'));
  const logger = pino({ level: 'silent' });
  const { workspace, steps } = stepsOverEmptyCheckouts(config, COMMIT, { CDF_TOKEN_PROD: TOKEN }, logger);
  const store = openArtifactStore(config.artifacts);
  const buildAndDiff = createBuildAndDiff({
    config,
    steps,
    workspace,
    artifacts: store,
    findLeftovers: async () => undefined,
    logger,
  });
  const result = (await new MockActivityEnvironment().run(buildAndDiff, {
    run,
    environment: 'prod',
    commit: COMMIT,
    kind: 'promotion' as const,
  })) as DiffResult;

  const expected = composePlanText(
    `using token ***\n${planText}\ndebug: Bearer ***\n`,
    COMMIT,
    undefined,
    '0.9.28',
  );
  const stored = await store.getPlan(result.planHash);
  expect(stored.length).toBe(expected.length);
  expect(stored === expected).toBe(true);
  expect(result.planHash).toBe(createHash('sha256').update(expected, 'utf8').digest('hex'));
  expect(stored).not.toContain(TOKEN);
  const parsed = parseDryRunOutput(planText);
  expect(result.planSummary.totals).toEqual(parsed.totals);
  expect(result.planSummary.resources).toEqual(parsed.resources);
  // The dry-run's output files were a step on the way, not something the run keeps.
  expect(existsSync(workspace.folders(run).planOutput)).toBe(false);
});

test("the plan file is composePlanText byte for byte: stderr after stdout, a rollback's leftovers at the end", async () => {
  const dir = path.join(tmp.dir, 'compose');
  mkdirSync(dir, { recursive: true });
  const stdout = 'Pumpe Ærø ✓\r\n╭─ Deploy summary (dry run) ─╮\n';
  const stderr = 'warning: x\n';
  writeFileSync(path.join(dir, 'stdout.txt'), stdout);
  writeFileSync(path.join(dir, 'stderr.txt'), stderr);
  const leftovers = {
    report: {
      fromCommit: 'e'.repeat(40),
      resources: [{ kind: 'Space', id: 'old_space' }],
      existing: 1,
      action: 'remove' as const,
    },
    cleanPreview: 'Clean summary (dry run)\n',
  };
  for (const [withStderr, left, version] of [
    [true, leftovers, '0.9.28'],
    [false, undefined, null],
    [false, leftovers, undefined],
  ] as const) {
    const file = path.join(dir, 'plan.txt');
    const { hash, bytes } = await writePlanFile(file, {
      preamble: planPreamble(version),
      output: {
        stdoutFile: path.join(dir, 'stdout.txt'),
        ...(withStderr ? { stderrFile: path.join(dir, 'stderr.txt') } : {}),
      },
      after: leftoverSection(COMMIT, left),
    });
    const expected = composePlanText(withStderr ? `${stdout}\n${stderr}` : stdout, COMMIT, left, version);
    expect(readFileSync(file, 'utf8')).toBe(expected);
    expect(bytes).toBe(Buffer.byteLength(expected));
    expect(hash).toBe(createHash('sha256').update(expected, 'utf8').digest('hex'));
  }
});

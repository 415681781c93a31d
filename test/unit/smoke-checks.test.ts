import path from 'node:path';
import pino from 'pino';
import { RetryableHttpClient } from '@cognite/sdk-core';
import { PromotionError } from '../../contracts/errors';
import { createCdfClientFactory } from '../../activities/cdf/cdf-client-factory';
import { judgeTransformation, runSmokeChecks } from '../../activities/smoke/smoke-checks';
import { FakeCdfAdmin } from '../../fakes/cdf/admin-client';
import { startFakeCdf, type RunningFakeCdf } from '../../fakes/cdf/server';
import type { SmokeConfig } from '../../config/schema';
import { buildConfig, minimalRawConfig, tempDir } from './helpers';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

type Job = Parameters<typeof judgeTransformation>[2][number];
const job = (id: number, status: Job['status'], finishedAgoMs: number | undefined, error?: string): Job => ({
  id,
  status,
  createdTime: NOW - (finishedAgoMs ?? 0) - MIN,
  ...(finishedAgoMs !== undefined ? { finishedTime: NOW - finishedAgoMs } : {}),
  ...(error ? { error } : {}),
});

describe('judgeTransformation', () => {
  test('a job completed inside the window passes', () => {
    const r = judgeTransformation('pump_tr', HOUR, [job(7, 'Completed', 10 * MIN)], NOW);
    expect(r).toMatchObject({ name: 'transformation pump_tr', kind: 'transformation', passed: true });
    expect(r.detail).toContain('job 7');
  });

  test('a last success older than the window fails with its age', () => {
    const r = judgeTransformation('pump_tr', HOUR, [job(7, 'Completed', 3 * HOUR)], NOW);
    expect(r.passed).toBe(false);
    expect(r.detail).toContain('180 min ago');
    expect(r.detail).toContain('window 60 min');
  });

  test('a Failed job newer than the last success fails, naming the job and its error', () => {
    const r = judgeTransformation(
      'pump_tr',
      HOUR,
      [job(1, 'Completed', 30 * MIN), job(2, 'Failed', 5 * MIN, 'column x missing')],
      NOW,
    );
    expect(r.passed).toBe(false);
    expect(r.detail).toContain('job 2 failed after the last success');
    expect(r.detail).toContain('column x missing');
  });

  test('an older failure before the last success does not fail the check', () => {
    const r = judgeTransformation(
      'pump_tr',
      HOUR,
      [job(2, 'Failed', 40 * MIN), job(3, 'Completed', 5 * MIN)],
      NOW,
    );
    expect(r.passed).toBe(true);
    expect(r.detail).toContain('job 3');
  });

  test('input order does not matter: the newest success is used', () => {
    const jobs = [job(1, 'Completed', 5 * HOUR), job(9, 'Completed', 2 * MIN), job(4, 'Completed', 2 * HOUR)];
    for (const order of [jobs, [...jobs].reverse(), [jobs[1]!, jobs[0]!, jobs[2]!]]) {
      const r = judgeTransformation('t', HOUR, order, NOW);
      expect(r.passed).toBe(true);
      expect(r.detail).toContain('job 9');
    }
    const withFailure = [job(5, 'Failed', 1 * MIN), ...jobs];
    for (const order of [withFailure, [...withFailure].reverse()]) {
      const r = judgeTransformation('t', HOUR, order, NOW);
      expect(r.passed).toBe(false);
      expect(r.detail).toContain('job 5');
    }
  });

  test('no completed job fails (running / failed only, or no jobs at all)', () => {
    expect(judgeTransformation('t', HOUR, [], NOW)).toMatchObject({
      passed: false,
      detail: 'no completed job',
    });
    expect(
      judgeTransformation('t', HOUR, [job(1, 'Failed', MIN), job(2, 'Running', undefined)], NOW),
    ).toMatchObject({
      passed: false,
      detail: 'no completed job',
    });
  });
});

describe('runSmokeChecks against the fake CDF', () => {
  const tmp = tempDir('cdf-smoke-');
  let fakeCdf: RunningFakeCdf;
  let admin: FakeCdfAdmin;
  const project = 'p';

  async function cdf(pathName: string, body: unknown): Promise<void> {
    const res = await fetch(`${fakeCdf.url}/api/v1/projects/${project}${pathName}`, {
      method: 'POST',
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${pathName}: ${res.status} ${await res.text()}`);
  }

  function client(secrets: NodeJS.ProcessEnv = { CDF_TOKEN_P: 't' }) {
    const raw = minimalRawConfig();
    raw.environments.prod.cdfProject = project;
    raw.environments.prod.baseUrl = fakeCdf.url;
    raw.environments.prod.credentials.tokenEnv = 'CDF_TOKEN_P';
    const config = buildConfig(raw, path.join(tmp.dir, 'c.yaml'));
    return createCdfClientFactory(config.environments, secrets)('prod');
  }

  const smoke = (over: Partial<SmokeConfig> = {}): SmokeConfig => ({
    dataModels: [{ space: 'sp', externalId: 'Model', version: '1' }],
    minAssets: 2,
    transformations: [{ externalId: 'tr', windowMs: HOUR }],
    ...over,
  });

  beforeAll(async () => {
    fakeCdf = await startFakeCdf({
      port: 0,
      stateFile: path.join(tmp.dir, 'state.json'),
      projects: [project],
      logger: pino({ level: 'silent' }),
    });
    admin = new FakeCdfAdmin(fakeCdf.url);
    await cdf('/models/spaces', { items: [{ space: 'sp' }] });
    await cdf('/models/datamodels', {
      items: [{ space: 'sp', externalId: 'Model', version: '1', name: 'Model' }],
    });
    await cdf('/assets', {
      items: [
        { externalId: 'a1', name: 'A1' },
        { externalId: 'a2', name: 'A2' },
        { externalId: 'a3', name: 'A3' },
      ],
    });
    // The sandbox records a Completed job when a transformation is created.
    await cdf('/transformations', {
      items: [{ externalId: 'tr', name: 'Pump transformation', query: 'select 1' }],
    });
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await admin.clearFaults();
  });
  afterAll(async () => {
    await fakeCdf.close();
    tmp.cleanup();
  });

  test('all checks pass on a healthy deployment, with progress reported', async () => {
    const progress: Array<[number, number]> = [];
    const results = await runSmokeChecks(client(), smoke(), Date.now, (d, t) => progress.push([d, t]));
    expect(results.map((r) => [r.kind, r.passed])).toEqual([
      ['dataModel', true],
      ['assets', true],
      ['transformation', true],
    ]);
    expect(results[0]!.name).toBe('data model sp:Model/1');
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  test('a missing data model version and too few assets fail with details', async () => {
    const results = await runSmokeChecks(
      client(),
      smoke({
        dataModels: [
          { space: 'sp', externalId: 'Model', version: '1' },
          { space: 'sp', externalId: 'Model', version: '2' },
        ],
        minAssets: 5,
        transformations: [],
      }),
    );
    expect(results).toEqual([
      expect.objectContaining({ name: 'data model sp:Model/1', passed: true }),
      expect.objectContaining({ name: 'data model sp:Model/2', passed: false, detail: 'not found' }),
      expect.objectContaining({ kind: 'assets', passed: false, detail: 'retrieved 3' }),
    ]);
  });

  test('a transformation whose last run is outside the window fails', async () => {
    const results = await runSmokeChecks(
      client(),
      smoke({ dataModels: [], minAssets: 0 }),
      () => Date.now() + 3 * HOUR,
    );
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ kind: 'transformation', passed: false });
    expect(results[0]!.detail).toMatch(/min ago \(window 60 min\)/);
  });

  test('a transformation that is unknown has no completed job', async () => {
    const results = await runSmokeChecks(
      client(),
      smoke({ dataModels: [], minAssets: 0, transformations: [{ externalId: 'nope', windowMs: HOUR }] }),
    );
    expect(results[0]).toMatchObject({ passed: false, detail: 'no completed job' });
  });

  test('a 400 from CDF is a non-retryable ConfigurationError', async () => {
    await admin.addFault({
      method: 'POST',
      pathPattern: '^/models/datamodels/byids$',
      status: 400,
      count: 1,
    });
    const err = await runSmokeChecks(client(), smoke()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionError);
    expect((err as PromotionError).type).toBe('ConfigurationError');
    expect((err as PromotionError).retryable).toBe(false);
    expect((err as PromotionError).message).toContain('400');
  });

  test('a 503 burst on a call the SDK does not retry is a retryable SmokeTransientError', async () => {
    await admin.addFault({
      method: 'POST',
      pathPattern: '^/models/datamodels/byids$',
      status: 503,
      count: -1,
    });
    const err = await runSmokeChecks(client(), smoke()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromotionError);
    expect((err as PromotionError).type).toBe('SmokeTransientError');
    expect((err as PromotionError).retryable).toBe(true);
  });

  test('a 503 burst outlasting the SDK retries on assets/list is SmokeTransientError; a short blip is absorbed', async () => {
    // Skip the SDK's real back-off (up to ~15 s) so the test stays fast.
    jest
      .spyOn(
        RetryableHttpClient as unknown as { calculateRetryDelayInMs: (n: number) => number },
        'calculateRetryDelayInMs',
      )
      .mockReturnValue(0);
    await admin.addFault({ method: 'POST', pathPattern: '^/assets/list$', status: 503, count: -1 });
    await admin.clearRequests();
    const err = await runSmokeChecks(client(), smoke({ dataModels: [], transformations: [] })).catch(
      (e: unknown) => e,
    );
    expect((err as PromotionError).type).toBe('SmokeTransientError');
    // The SDK did retry before giving up (otherwise the "blip" half below would prove nothing).
    expect((await admin.requests()).filter((r) => r.path.endsWith('/assets/list')).length).toBeGreaterThan(2);
    await admin.clearFaults();
    await admin.addFault({ method: 'POST', pathPattern: '^/assets/list$', status: 503, count: 2 });
    const results = await runSmokeChecks(client(), smoke({ dataModels: [], transformations: [] }));
    expect(results).toEqual([expect.objectContaining({ kind: 'assets', passed: true })]);
  });

  test('a newer Failed job recorded after the success fails the check naming the job', async () => {
    const failed = await admin.addTransformationJob(project, 'tr', {
      status: 'Failed',
      finishedTime: Date.now() + 1000,
      error: 'boom',
    });
    const results = await runSmokeChecks(client(), smoke({ dataModels: [], minAssets: 0 }));
    expect(results[0]).toMatchObject({ passed: false });
    expect(results[0]!.detail).toContain(`job ${failed.id} failed after the last success: boom`);
  });
});

/**
 * Several workers on one task queue, each a real OS process with a data dir of its own, sharing one artifact
 * store: a real S3-compatible server (moto). A worker is killed with SIGKILL (and its Toolkit with it, as when a
 * machine dies) in the middle of the diff, another in the middle of the apply, after CDF got part of the plan.
 * The other workers finish the run: the plan approved is the plan applied, read back from S3 by workers that
 * never made it, and `cdf-promote plan` prints it from S3 too.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { stringify as stringifyYaml } from 'yaml';
import { environmentStateQuery, environmentWorkflowId } from '../../contracts/environment-entity';
import { approveSignal } from '../../contracts/messages';
import type { PromotionResult } from '../../contracts/types';
import { describeRun, runCli } from '../client/run-cli';
import { startS3Server, type S3TestServer } from '../helpers/s3-server';
import { startStack, TASK_QUEUE, type Stack } from '../helpers/stack';
import { startTemporal } from '../helpers/temporal-server';
import { startWorkerProcess, type LogLine, type WorkerProcess } from '../helpers/worker-process';
import { uniqueId, waitForPhase } from '../helpers/workflows';

const BUCKET = 'cdf-promotion-artifacts';
const PREFIX = 'several-workers/';

let s3: S3TestServer;
let env: TestWorkflowEnvironment;
let stack: Stack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  s3 = await startS3Server();
  await s3.createBucket(BUCKET);
  env = await startTemporal();
  stack = await startStack({
    rawConfig: (raw) => ({
      ...raw,
      temporal: { ...raw.temporal, address: env.address },
      artifacts: { store: 's3', endpoint: s3.endpoint, bucket: BUCKET, prefix: PREFIX, forcePathStyle: true },
    }),
  });
}, 120_000);

afterAll(async () => {
  for (const w of workers) w.killHard();
  await Promise.all(workers.map((w) => w.exited));
  await env?.teardown();
  await stack?.stop();
  await s3?.stop();
});

/** The stack's configuration with a data dir of the worker's own, written where the worker process reads it. */
function configFile(name: string): { file: string; dataDir: string } {
  const dataDir = path.join(stack.dir, `data-${name}`);
  const file = path.join(stack.dir, `${name}.yaml`);
  writeFileSync(file, stringifyYaml({ ...stack.raw, dataDir }));
  return { file, dataDir };
}

async function startWorker(name: string): Promise<WorkerProcess> {
  const worker = await startWorkerProcess(name, configFile(name).file, {
    CDF_TOKEN_PROD: String(stack.secrets.CDF_TOKEN_PROD),
    ALERT_WEBHOOK_URL: String(stack.secrets.ALERT_WEBHOOK_URL),
    SLACK_WEBHOOK_URL: String(stack.secrets.SLACK_WEBHOOK_URL),
    // The S3 credentials reach the worker only through its environment (the SDK's default chain).
    ...s3.env,
  });
  workers.push(worker);
  return worker;
}

/** The one live worker whose log shows it working on `activityType` of the run. */
function workerRunning(workflowId: string, activityType: string): WorkerProcess {
  const running = workers.filter((w) =>
    w.logs.some((l) => l.workflowId === workflowId && l.activityType === activityType),
  );
  if (running.length !== 1)
    throw new Error(`expected one worker on ${activityType}, found ${running.map((w) => w.name).join(', ')}`);
  return running[0]!;
}

/** Waits until the fake CDF holds a request to `pathPattern` open (a hang fault) and returns it. */
async function waitForHungRequest(pathPattern: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await stack.admin.requests()).some((r) => r.status === null && pathPattern.test(r.path))) {
    if (Date.now() > deadline) throw new Error(`no request to ${pathPattern} was held open`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const lines = (w: WorkerProcess, workflowId: string, pick: (l: LogLine) => boolean): LogLine[] =>
  w.logs.filter((l) => l.workflowId === workflowId && pick(l));

test('two workers with separate data dirs and one S3 store: SIGKILL mid-diff and mid-apply, the run still succeeds', async () => {
  const first = await Promise.all([startWorker('a'), startWorker('b')]);
  const workflowId = uniqueId('promotion-prod-several');
  // The dry-run reads the space from CDF: held open, so the worker doing the diff is surely in it when killed.
  await stack.admin.addFault({ method: 'POST', pathPattern: '^/models/spaces/byids$', hang: true, count: 1 });
  const handle = await env.client.workflow.start('promotionWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [{ environment: 'prod', ref: 'v1', requestedBy: 'alice' }],
  });

  await waitForHungRequest(/\/models\/spaces\/byids$/);
  const diffVictim = workerRunning(workflowId, 'buildAndDiff');
  diffVictim.killHard();
  await diffVictim.exited;
  const survivor = first.find((w) => w !== diffVictim)!;

  // The diff is retried once its heartbeat times out, on the worker that is left.
  const waiting = await waitForPhase(handle, 'awaiting_approval', 150_000);
  const approvedHash = waiting.planHash!;
  expect(lines(survivor, workflowId, (l) => l.msg === 'plan ready')).toEqual([
    expect.objectContaining({ planHash: approvedHash, attempt: 2 }),
  ]);

  // The worker that died comes back on the same data dir (a reboot), and the survivor loses its run folders
  // (a cache): whoever applies has no build and must rebuild the pinned commit, and compare with the plan in S3.
  await startWorker(`${diffVictim.name}-again`);
  rmSync(path.join(configFile(survivor.name).dataDir, 'runs'), { recursive: true, force: true });

  // Containers are created before views: with the view upsert held open, CDF has part of the plan.
  await stack.admin.addFault({ method: 'POST', pathPattern: '^/models/views$', hang: true, count: 1 });
  await handle.signal(approveSignal, { approver: 'bob', planHash: approvedHash });
  await waitForHungRequest(/\/models\/views$/);
  expect(
    (await stack.admin.requests()).some((r) => r.method === 'POST' && /\/models\/containers$/.test(r.path)),
  ).toBe(true);
  // The server has the apply's "deploy started" beat, which a retry reads, while the deploy is under way.
  const applying = (await handle.describe()).raw.pendingActivities?.find(
    (a) => a.activityType?.name === 'applyPlan',
  );
  const beat = applying?.heartbeatDetails?.payloads?.[0];
  expect(beat && defaultPayloadConverter.fromPayload(beat)).toMatchObject({ deployStarted: true });
  const applyVictim = workerRunning(workflowId, 'applyPlan');
  applyVictim.killHard();
  await applyVictim.exited;

  const result: PromotionResult = await handle.result();
  expect(result.outcome).toBe('succeeded');
  expect(result.planHash).toBe(approvedHash);

  // The retry ran on another worker, which had no build: the dead attempt's last heartbeat said its deploy had
  // begun, so it rebuilt, recorded what the dry-run shows (the rest of the approved plan) and deployed that.
  const finisher = workers.find(
    (w) => w !== applyVictim && lines(w, workflowId, (l) => l.msg === 'apply finished').length,
  );
  expect(finisher).toBeDefined();
  expect(lines(finisher!, workflowId, (l) => l.activityType === 'applyPlan' && l.attempt === 1)).toEqual([]);
  expect(
    lines(finisher!, workflowId, (l) => /^no build of the approved plan/.test(String(l.msg))).length,
  ).toBeGreaterThan(0);
  expect(
    lines(finisher!, workflowId, (l) => /an earlier attempt had started cdf deploy/.test(String(l.msg))),
  ).toEqual([expect.objectContaining({ attempt: 2, beyondApproved: [] })]);

  // The environment's ledger records the approved plan as the one applied.
  const state = await env.client.workflow
    .getHandle(environmentWorkflowId('prod', TASK_QUEUE))
    .query(environmentStateQuery);
  expect(state.ledger.filter((r) => r.workflowId === workflowId)).toEqual([
    expect.objectContaining({ planHash: approvedHash, applied: true, outcome: 'succeeded' }),
  ]);

  // The plan and the build report are in S3, under the prefix; no worker kept a plan on its own disk.
  const key = `${PREFIX}plans/${approvedHash.slice(0, 2)}/${approvedHash}.txt`;
  const stored = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const storedText = await stored.Body!.transformToString('utf8');
  expect(createHash('sha256').update(storedText, 'utf8').digest('hex')).toBe(approvedHash);
  const report = await s3.client.send(
    new GetObjectCommand({
      Bucket: BUCKET,
      Key: `${PREFIX}named/build-reports/${workflowId}/${(await handle.describe()).runId}.json`,
    }),
  );
  expect(await report.Body!.transformToString('utf8')).toContain(`"planHash": "${approvedHash}"`);
  for (const w of workers)
    expect({ worker: w.name, local: existsSync(path.join(configFile(w.name).dataDir, 'artifacts')) }).toEqual(
      {
        worker: w.name,
        local: false,
      },
    );

  // `cdf-promote plan` reads the store the configuration names: with a data dir that has nothing in it, the
  // plan it prints can only have come from S3.
  const cliDataDir = path.join(stack.dir, 'cli-data');
  mkdirSync(cliDataDir);
  const cliConfig = path.join(stack.dir, 'cli.yaml');
  writeFileSync(cliConfig, stringifyYaml({ ...stack.raw, dataDir: cliDataDir }));
  const plan = await runCli(
    [
      '--address',
      env.address,
      '--task-queue',
      TASK_QUEUE,
      'plan',
      workflowId,
      '--config',
      cliConfig,
      '--json',
    ],
    s3.env,
  );
  expect({ code: plan.code, output: describeRun(plan) }).toEqual({ code: 0, output: expect.any(String) });
  const printed = JSON.parse(plan.stdout) as { planHash: string; text: string };
  expect(printed.planHash).toBe(approvedHash);
  expect(printed.text).toBe(storedText);
  expect(printed.text).toContain('Deploy summary (dry run)');

  // Without the credentials in its environment, the CLI says where they come from.
  const denied = await runCli(
    ['--address', env.address, '--task-queue', TASK_QUEUE, 'plan', workflowId, '--config', cliConfig],
    {
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_CONFIG_FILE: '/nonexistent',
    },
  );
  expect(denied.code).not.toBe(0);
  expect(denied.stderr).toMatch(/no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
}, 420_000);

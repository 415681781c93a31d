/**
 * Promotion paths on a real dev server with the real Toolkit, driven through our CLI and the Temporal client:
 * dev -> prod by `--from dev`, the lineage gate refusing a commit dev never passed and letting it through with a
 * recorded override, an automatic rollback after failed smoke tests (front of the queue, linked both ways, in
 * the alert and the ledger), the quarantine that follows and its override, and a freeze that holds the approved
 * run until it is lifted.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import {
  environmentStateQuery,
  environmentWorkflowId,
  type EnvironmentState,
} from '../../contracts/environment-entity';
import { approveUpdate } from '../../contracts/messages';
import type { PromotionResult, PromotionStatus } from '../../contracts/types';
import { auditRecordName } from '../../artifacts/artifact-store';
import { openArtifactStore } from '../../artifacts/open-artifact-store';
import { describeRun, runCli } from '../client/run-cli';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE, failureAlerts, teamsTitle, type Stack } from '../helpers/stack';
import { recordHistory, waitForStatus } from '../helpers/workflows';

const ROUTING_KEY = 'pdIntegrationKey0123456789abcdef'; // PagerDuty's are 32 characters

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness({
    rawConfig: (raw) => {
      const prod = raw.environments.prod!;
      return {
        ...raw,
        environments: {
          dev: {
            ...prod,
            cdfProject: 'demo-dev',
            configFile: 'org/config.dev.yaml',
            smoke: { minAssets: 2 },
            alerts: [],
          },
          prod: {
            ...prod,
            promotion: { from: 'dev' },
            rollback: { automatic: 'without_approval' },
            // The incident channels too: the failure pages, the automatic rollback's success resolves.
            alerts: [
              ...(prod.alerts ?? []),
              {
                type: 'pagerduty',
                name: 'oncall',
                routingKeyEnv: 'PAGERDUTY_ROUTING_KEY',
                urlEnv: 'PAGERDUTY_URL',
              },
              { type: 'teams', name: 'ops-teams', urlEnv: 'TEAMS_WEBHOOK_URL' },
            ],
          },
        },
      };
    },
    beforeWorker: (s) => {
      s.secrets.PAGERDUTY_ROUTING_KEY = ROUTING_KEY;
      s.secrets.PAGERDUTY_URL = `${s.alerts.url}/pagerduty`;
      s.secrets.TEAMS_WEBHOOK_URL = `${s.alerts.url}/teams`;
    },
  });
  ({ env, stack } = harness);
});

afterAll(() => harness?.stop());

const cli = (...args: string[]) => runCli(['--address', env.address, '--task-queue', TASK_QUEUE, ...args]);

/** Starts a run through the CLI and returns its handle. */
async function start(...args: string[]): Promise<WorkflowHandle> {
  const run = await cli('start', '--requested-by', 'alice', '--json', ...args);
  expect({ code: run.code, out: describeRun(run) }).toEqual({ code: 0, out: expect.any(String) });
  return env.client.workflow.getHandle((JSON.parse(run.stdout) as { workflowId: string }).workflowId);
}

const until = (h: WorkflowHandle, p: (s: PromotionStatus) => boolean) => waitForStatus(h, p, 120_000);
async function approve(h: WorkflowHandle): Promise<PromotionStatus> {
  const s = await until(h, (x) => x.phase === 'awaiting_approval' && !!x.planHash);
  await h.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: s.planHash }] });
  return s;
}
const entity = (environment: string): Promise<EnvironmentState> =>
  env.client.workflow.getHandle(environmentWorkflowId(environment, TASK_QUEUE)).query(environmentStateQuery);

test('dev -> prod: prod promotes what dev last passed; a commit dev never passed needs an override', async () => {
  const dev = await start('--env', 'dev', '--ref', 'v1');
  await approve(dev);
  expect(((await dev.result()) as PromotionResult).outcome).toBe('succeeded');

  const fromDev = await start('--env', 'prod', '--from', 'dev', '--reason', 'what dev runs');
  const waiting = await approve(fromDev);
  expect(waiting).toEqual(
    expect.objectContaining({ ref: 'from:dev', from: 'dev', commit: stack.repo.first }),
  );
  expect(await fromDev.result()).toEqual(
    expect.objectContaining({ outcome: 'succeeded', commit: stack.repo.first }),
  );
  expect((await entity('prod')).lastKnownGood?.commit).toBe(stack.repo.first);
  // The run's audit record is in the shared artifact store, beyond the namespace's retention.
  const desc = await fromDev.describe();
  const audit = JSON.parse(
    await openArtifactStore(stack.config.artifacts).getNamed(
      auditRecordName({ workflowId: fromDev.workflowId, runId: desc.runId }),
    ),
  ) as { requestedBy: string; result: PromotionResult };
  expect(audit).toEqual(
    expect.objectContaining({
      requestedBy: 'alice',
      result: expect.objectContaining({ outcome: 'succeeded', from: 'dev', commit: stack.repo.first }),
    }),
  );
  expect(audit.result.approvals.map((a) => a.approver)).toEqual(['bob']);
  // Nothing of the worker's disk layout reaches history (the audit activity answers with the store's key).
  expect(JSON.stringify(await fromDev.fetchHistory())).not.toContain(stack.dir);

  // v2 never passed dev: refused at once, typed, before any diff.
  const refused = await cli('start', '--env', 'prod', '--ref', 'v2', '--requested-by', 'alice', '--wait');
  expect({ code: refused.code, out: describeRun(refused) }).toEqual({
    code: 5,
    out: expect.stringContaining(
      `${stack.repo.second} has not passed its smoke tests in dev; to go ahead anyway, give override.reason`,
    ),
  });
  const ledger = (await entity('prod')).ledger;
  expect(ledger[ledger.length - 1]).toEqual(expect.objectContaining({ outcome: 'refused', applied: false }));
});

test('failed smoke tests start the automatic rollback to the last known good; the commit is quarantined', async () => {
  const reason = 'dev is down for a week, v2 fixes an incident';
  const broken = await start('--env', 'prod', '--ref', 'v2', '--override-reason', reason);
  const waiting = await until(broken, (x) => x.phase === 'awaiting_approval' && !!x.planHash);
  expect(waiting.overrides).toEqual([expect.objectContaining({ gate: 'lineage', reason, by: 'alice' })]);
  const shown = await cli('status', broken.workflowId);
  expect(shown.stdout).toMatch(/override \(lineage\):\s+dev is down for a week/);
  // The smoke check's read of transformation jobs is refused once (400, not retried): after the apply, not
  // during it (the Toolkit does not read jobs; dev's smoke checks do not either).
  await stack.admin.addFault({
    method: 'GET',
    pathPattern: '^/transformations/jobs',
    status: 400,
    count: 1,
  });
  await broken.executeUpdate(approveUpdate, { args: [{ approver: 'bob', planHash: waiting.planHash }] });
  const result = (await broken.result()) as PromotionResult;
  expect(result.outcome).toBe('smoke_failed');
  const rollbackId = `${broken.workflowId}-rollback`;
  expect(result.rollback?.workflowId).toBe(rollbackId);

  const rollbackHandle = env.client.workflow.getHandle(rollbackId);
  const rollback = (await rollbackHandle.result()) as PromotionResult;
  expect(rollback).toEqual(
    expect.objectContaining({
      kind: 'rollback',
      outcome: 'succeeded',
      commit: stack.repo.first,
      triggeredBy: expect.objectContaining({ workflowId: broken.workflowId }),
    }),
  );
  expect(rollback.timings.map((t) => t.step)).not.toContain('awaiting_approval');
  const alert = failureAlerts(stack.alerts.received).find(
    (a) => (a.body as { workflowId?: string }).workflowId === broken.workflowId,
  );
  expect(alert?.body).toEqual(
    expect.objectContaining({ outcome: 'smoke_failed', rollbackWorkflowId: rollbackId }),
  );
  // PagerDuty: the failure opened prod's incident and the rollback's passing smoke checks resolved it, by the
  // same key; approval notices (the broken run waited for one) never paged.
  const events = stack.alerts.received
    .filter((a) => a.path === '/pagerduty')
    .map((a) => a.body as { event_action: string; dedup_key: string; payload?: Record<string, unknown> });
  const triggers = events.filter((e) => e.event_action === 'trigger');
  expect(triggers).toEqual([
    expect.objectContaining({
      dedup_key: `cdf-promote/default/${TASK_QUEUE}/prod`,
      payload: expect.objectContaining({
        severity: 'error',
        class: 'smoke_failed',
        custom_details: expect.objectContaining({
          workflowId: broken.workflowId,
          rollbackWorkflowId: rollbackId,
        }),
      }),
    }),
  ]);
  expect(events.slice(events.indexOf(triggers[0]!) + 1)).toContainEqual({
    routing_key: ROUTING_KEY,
    event_action: 'resolve',
    dedup_key: triggers[0]!.dedup_key,
  });
  // Teams: the approval notice and the failure card of the broken run, each linking to it.
  const cards = stack.alerts.received
    .filter((a) => a.path === '/teams' && JSON.stringify(a.body).includes(broken.workflowId))
    .map((a) => teamsTitle(a.body));
  expect(cards).toEqual(['Approval needed: CDF promotion to prod', 'CDF promotion to prod smoke failed']);
  expect(stack.alerts.refused).toEqual([]);
  expect(JSON.stringify(await broken.fetchHistory())).not.toContain(ROUTING_KEY);

  const state = await entity('prod');
  expect(state.lastKnownGood).toEqual(
    expect.objectContaining({ commit: stack.repo.first, workflowId: rollbackId }),
  );
  const records = Object.fromEntries(state.ledger.map((r) => [r.workflowId, r]));
  expect(records[broken.workflowId]).toEqual(
    expect.objectContaining({
      outcome: 'smoke_failed',
      rollback: expect.objectContaining({ workflowId: rollbackId }),
    }),
  );
  expect(records[rollbackId]).toEqual(
    expect.objectContaining({
      outcome: 'succeeded',
      triggeredBy: expect.objectContaining({ workflowId: broken.workflowId }),
    }),
  );
  await recordHistory(broken, 'promotion-smoke-failed-auto-rollback');
  await recordHistory(rollbackHandle, 'rollback-automatic');

  // Promoting v2 again is refused: it is quarantined in prod (and still never passed dev).
  const again = await cli('start', '--env', 'prod', '--ref', 'v2', '--requested-by', 'alice', '--wait');
  expect({ code: again.code, out: describeRun(again) }).toEqual({
    code: 5,
    out: expect.stringMatching(
      new RegExp(
        `${stack.repo.second} is quarantined in prod: its smoke tests failed there in ${broken.workflowId}`,
      ),
    ),
  });
});

test('a freeze holds an approved run before its apply until it is lifted; the override passes both gates', async () => {
  const frozen = await cli(
    'freeze',
    '--env',
    'prod',
    '--until',
    '2h',
    '--reason',
    'quarterly close',
    '--by',
    'carol',
  );
  expect({ code: frozen.code, out: describeRun(frozen) }).toEqual({
    code: 0,
    out: expect.stringMatching(/prod is frozen until \S+ by carol: quarterly close/),
  });
  const run = await start(
    '--env',
    'prod',
    '--ref',
    'v2',
    '--override-reason',
    'the failed check was a fake 400',
  );
  const waiting = await approve(run);
  expect(waiting.overrides?.map((o) => o.gate)).toEqual(['quarantine', 'lineage']);
  const held = await until(run, (x) => x.phase === 'waiting_to_apply');
  expect(held.waitingToApply?.why).toBe('prod is frozen by carol: quarterly close');
  const status = await cli('status', run.workflowId);
  expect(status.stdout).toMatch(/waiting to apply:\s+prod is frozen by carol: quarterly close \(until /);
  const queue = await cli('queue', '--env', 'prod');
  expect(queue.stdout).toContain('prod is frozen until');

  // Only one freeze at a time can be lifted; a second unfreeze is refused (exit 4).
  const lifted = await cli('unfreeze', '--env', 'prod', '--by', 'carol', '--reason', 'close done');
  expect({ code: lifted.code, out: describeRun(lifted) }).toEqual({
    code: 0,
    out: expect.stringContaining('no longer frozen'),
  });
  const twice = await cli('unfreeze', '--env', 'prod', '--by', 'carol');
  expect({ code: twice.code, out: describeRun(twice) }).toEqual({
    code: 4,
    out: expect.stringContaining('prod is not frozen'),
  });

  expect(((await run.result()) as PromotionResult).outcome).toBe('succeeded');
  const state = await entity('prod');
  expect(state.freezeLog?.[0]).toEqual(
    expect.objectContaining({ by: 'carol', liftedBy: 'carol', liftReason: 'close done' }),
  );
  expect(state.lastKnownGood?.commit).toBe(stack.repo.second);
  await recordHistory(run, 'promotion-frozen-then-lifted');
});

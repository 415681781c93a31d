/**
 * A whole promotion driven only through the CLI process, against a real dev server and the full stack
 * (fake CDF, demo repository, the real Toolkit, worker): start, status, a refused approval, an accepted
 * one, then `status --watch` to the end.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PromotionStatus } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { TASK_QUEUE, type Stack } from '../helpers/stack';
import { describeRun, runCli, type CliRun } from './run-cli';

let env: TestWorkflowEnvironment;
let stack: Stack;
let harness: Harness | undefined;

beforeAll(async () => {
  harness = await startHarness();
  ({ env, stack } = harness);
});

afterAll(() => harness?.stop());

const cli = (...args: string[]) => runCli(['--address', env.address, '--task-queue', TASK_QUEUE, ...args]);

function expectExit(run: CliRun, code: number): void {
  expect({ code: run.code, output: describeRun(run) }).toEqual({ code, output: expect.any(String) });
}

async function pollStatus(
  workflowId: string,
  predicate: (s: PromotionStatus) => boolean,
): Promise<PromotionStatus> {
  const deadline = Date.now() + 90_000;
  let last: CliRun | undefined;
  while (Date.now() < deadline) {
    last = await cli('status', workflowId, '--json');
    if (last.code === 0) {
      const status = JSON.parse(last.stdout) as PromotionStatus;
      if (predicate(status)) return status;
      if (status.phase === 'done') throw new Error(`run finished before the status matched: ${last.stdout}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`status never matched; last run: ${last ? describeRun(last) : '(none)'}`);
}

test('start, refused approval, approval with plan hash, watch to succeeded', async () => {
  const started = await cli(
    'start',
    '--env',
    'prod',
    '--ref',
    'v1',
    '--requested-by',
    'alice',
    '--reason',
    'e2e',
    '--json',
  );
  expectExit(started, 0);
  const info = JSON.parse(started.stdout) as {
    workflowId: string;
    runId: string;
    url: string;
    next: Record<string, string>;
  };
  expect(info.workflowId).toMatch(/^promotion-prod-v1-\d{8}T\d{6}$/);
  expect(info.runId).toBeTruthy();
  expect(info.url).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/${info.workflowId}`);
  expect(info.next.approve).toContain(`approve ${info.workflowId} --approver`);

  const waiting = await pollStatus(info.workflowId, (s) => s.phase === 'awaiting_approval');
  expect(waiting).toMatchObject({
    kind: 'promotion',
    phase: 'awaiting_approval',
    environment: 'prod',
    ref: 'v1',
  });
  expect(waiting.planHash).toMatch(/^[0-9a-f]{64}$/);

  const human = await cli('status', info.workflowId);
  expectExit(human, 0);
  expect(human.stdout).toMatch(/phase:\s+awaiting_approval/);
  expect(human.stdout).toMatch(/resource\s+create\s+update\s+delete\s+unchanged/);

  // The full plan, read from the worker's data dir and verified against the hash the approver approves.
  const configFile = path.join(stack.dir, 'promotion.yaml');
  writeFileSync(configFile, stringifyYaml(stack.raw));
  const plan = await cli('plan', info.workflowId, '--config', configFile, '--json');
  expectExit(plan, 0);
  const planDoc = JSON.parse(plan.stdout) as { planHash: string; text: string };
  expect(planDoc.planHash).toBe(waiting.planHash);
  expect(createHash('sha256').update(planDoc.text, 'utf8').digest('hex')).toBe(waiting.planHash);
  expect(planDoc.text).toContain('Deploy summary (dry run)');
  expect(planDoc.text).not.toContain(String(stack.secrets.CDF_TOKEN_PROD));

  const refused = await cli('approve', info.workflowId, '--approver', 'mallory');
  expectExit(refused, 4);
  expect(refused.stderr.trim()).toMatch(/^error: refused: .*mallory is not an approver/);

  const approved = await cli(
    'approve',
    info.workflowId,
    '--approver',
    'bob',
    '--plan-hash',
    waiting.planHash!,
    '--comment',
    'ok',
  );
  expectExit(approved, 0);
  expect(approved.stdout).toMatch(/approved by bob \(1 of 1 required approvals\)/);
  // The same decision again (a retry after a dropped connection) is the same update: answered, not counted.
  const again = await cli(
    'approve',
    info.workflowId,
    '--approver',
    'bob',
    '--plan-hash',
    waiting.planHash!,
    '--comment',
    'ok',
  );
  expectExit(again, 0);

  // The deploy's view upsert is slowed, so `--watch` sees the apply's heartbeat with the Toolkit's last line.
  await stack.admin.addFault({ method: 'POST', pathPattern: '^/models/views$', latencyMs: 7000, count: 1 });
  const watched = await cli('status', info.workflowId, '--watch');
  expectExit(watched, 0);
  expect(watched.stdout).toMatch(
    /applying[\s\S]*\n\d{2}:\d{2}:\d{2} {4}(apply|deploy|diff|build)( \(attempt \d+\))?: .*[A-Za-z0-9]/,
  );
  expect(watched.stdout).toMatch(/done/);
  expect(watched.stdout).toMatch(/outcome:\s+succeeded/);

  const done = await cli('status', info.workflowId, '--json');
  expectExit(done, 0);
  const final = JSON.parse(done.stdout) as PromotionStatus;
  expect(final).toMatchObject({ phase: 'done', outcome: 'succeeded' });
  expect(final.approvals).toEqual([expect.objectContaining({ approver: 'bob', comment: 'ok' })]);
  // A refused update never reaches the run: nothing recorded, no event in history.
  expect(final.refusedApprovals).toEqual([]);
  const history = await env.client.workflow.getHandle(info.workflowId).fetchHistory();
  const updates = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
  expect(
    updates.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name),
  ).toEqual(['approve']);

  // The audit: every request as the server recorded it, and what counted.
  const audited = await cli('audit', info.workflowId, '--json');
  expectExit(audited, 0);
  const report = JSON.parse(audited.stdout) as {
    requests: Array<{ what: string; who?: string; details: Record<string, unknown> }>;
    approvals: Array<{ approver: string; comment?: string }>;
  };
  expect(report.requests[0]).toMatchObject({ what: 'start promotionWorkflow', who: 'alice' });
  // The approval and its retry (the same update id) are one request; mallory's refused update is none.
  expect(report.requests.filter((r) => r.what === 'update approve')).toEqual([
    expect.objectContaining({ who: 'bob', details: expect.objectContaining({ comment: 'ok' }) }),
  ]);
  expect(report.requests.some((r) => r.who === 'mallory')).toBe(false);
  expect(report.approvals).toEqual([expect.objectContaining({ approver: 'bob', comment: 'ok' })]);
  const auditText = await cli('audit', info.workflowId);
  expectExit(auditText, 0);
  expect(auditText.stdout).toMatch(/update approve by bob/);
  expect(auditText.stdout).toMatch(/approved by bob at .* \(comment: ok\)/);

  // Approving a closed run must not look like success.
  const late = await cli('approve', info.workflowId, '--approver', 'carol');
  expect([3, 4]).toContain(late.code);

  const listed = await cli('list', '--env', 'prod', '--json');
  expectExit(listed, 0);
  const rows = JSON.parse(listed.stdout) as Array<{ workflowId: string; type: string; status: string }>;
  expect(rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        workflowId: info.workflowId,
        type: 'promotionWorkflow',
        status: 'COMPLETED',
      }),
    ]),
  );
});

test('unknown workflow ids exit 3; reject ends a run as rejected; start --wait exits 5 for it', async () => {
  const missing = await cli('status', 'promotion-prod-does-not-exist');
  expectExit(missing, 3);
  expect(missing.stderr.trim()).toMatch(/^error: workflow .*not found/);
  expectExit(await cli('approve', 'promotion-prod-does-not-exist', '--approver', 'bob'), 3);

  // v2 still has changes after the first test applied v1, so this run stops for approval.
  const id = `promotion-prod-cli-reject-${Date.now()}`;
  const waitRun = cli(
    'start',
    '--env',
    'prod',
    '--ref',
    'v2',
    '--requested-by',
    'alice',
    '--workflow-id',
    id,
    '--wait',
  );
  await pollStatus(id, (s) => s.phase === 'awaiting_approval');

  const duplicate = await cli(
    'start',
    '--env',
    'prod',
    '--ref',
    'v2',
    '--requested-by',
    'alice',
    '--workflow-id',
    id,
  );
  expectExit(duplicate, 1);
  expect(duplicate.stderr).toMatch(/already running/);

  const rejected = await cli('reject', id, '--approver', 'carol', '--reason', 'freeze');
  expectExit(rejected, 0);
  expect(rejected.stdout).toMatch(/rejected by carol: freeze/);

  const waited = await waitRun;
  expectExit(waited, 5);
  expect(waited.stdout).toMatch(/outcome:\s+rejected/);
  expect(waited.stderr.trim()).toMatch(/^error: run ended with outcome rejected/);

  // The outcome is a search attribute: `list` shows it and filters by it (visibility lags a little).
  type Row = { workflowId: string; outcome?: string; commit?: string; environment?: string };
  let rows: Row[] = [];
  for (let i = 0; i < 50 && !rows.some((r) => r.workflowId === id); i++) {
    if (i) await new Promise((r) => setTimeout(r, 200));
    const listed = await cli('list', '--env', 'prod', '--outcome', 'rejected', '--json');
    expectExit(listed, 0);
    rows = JSON.parse(listed.stdout) as Row[];
  }
  expect(rows.find((r) => r.workflowId === id)).toEqual(
    expect.objectContaining({
      outcome: 'rejected',
      environment: 'prod',
      commit: expect.stringMatching(/^[0-9a-f]{40}$/),
    }),
  );
  expect(rows.every((r) => r.outcome === 'rejected')).toBe(true);
  const commit = rows.find((r) => r.workflowId === id)!.commit!;
  const byCommit = await cli('list', '--commit', commit.slice(0, 10));
  expectExit(byCommit, 0);
  expect(byCommit.stdout).toMatch(
    new RegExp(`${id}\\s+prod\\s+${commit.slice(0, 12)}\\s+COMPLETED\\s+done\\s+rejected`),
  );
  expectExit(await cli('list', '--outcome', 'bogus'), 2);
});

/**
 * A `signed` prod driven as people would, against a real dev server and the full stack: our CLI with
 * `--sign-with` (a key file, and ssh-agent), and the README's by-hand recipe (Temporal CLI, ssh-keygen, jq).
 * Unsigned, forged and wrongly signed requests and decisions are refused; `audit` shows the signed statements.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { PromotionResult, PromotionStatus } from '../../contracts/types';
import { startHarness, type Harness } from '../helpers/harness';
import { keyDir, makeKey, sshVerify, type TestKey } from '../helpers/ssh-keys';
import { TASK_QUEUE } from '../helpers/stack';
import { temporalCliPath } from '../helpers/temporal-server';
import { recordHistory, uniqueId } from '../helpers/workflows';
import { describeRun, runCli, type CliRun } from './run-cli';

const run = promisify(execFile);
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
let env: TestWorkflowEnvironment;
let harness: Harness | undefined;
const keys = {} as Record<'alice' | 'bob' | 'carol' | 'mallory', TestKey>;

beforeAll(async () => {
  const dir = keyDir();
  for (const name of ['alice', 'bob', 'carol', 'mallory'] as const) keys[name] = makeKey(dir, name);
  harness = await startHarness({
    prod: {
      approval: { timeout: '1h', approvers: ['bob', 'carol'], requiredApprovals: 1, identity: 'signed' },
    },
    rawConfig: (raw) => ({
      ...raw,
      people: {
        alice: { keys: [keys.alice.publicKey] },
        bob: { keys: [keys.bob.publicKey] },
        carol: { keys: [keys.carol.publicKey] },
      },
    }),
  });
  ({ env } = harness);
});

afterAll(() => harness?.stop());

const cli = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
  runCli(['--address', env.address, '--task-queue', TASK_QUEUE, ...args], extraEnv);

/** `start --env prod --ref v1 --requested-by alice`, with more flags. */
const startV1AsAlice = (...flags: string[]) =>
  cli(['start', '--env', 'prod', '--ref', 'v1', '--requested-by', 'alice', ...flags]);

function expectExit(r: CliRun, code: number, output?: RegExp): void {
  expect({ code: r.code, output: describeRun(r) }).toEqual({
    code,
    output: output ? expect.stringMatching(output) : expect.any(String),
  });
}

async function pollStatus(
  workflowId: string,
  predicate: (s: PromotionStatus) => boolean,
): Promise<PromotionStatus> {
  const deadline = Date.now() + 120_000;
  let last: CliRun | undefined;
  while (Date.now() < deadline) {
    last = await cli(['status', workflowId, '--json']);
    if (last.code === 0) {
      const status = JSON.parse(last.stdout) as PromotionStatus;
      if (predicate(status)) return status;
      if (status.phase === 'done') throw new Error(`run finished before the status matched: ${last.stdout}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`status never matched; last run: ${last ? describeRun(last) : '(none)'}`);
}

test('unsigned or wrongly signed starts fail as invalid input', async () => {
  expectExit(
    await startV1AsAlice('--wait'),
    5,
    /prod requires a signed request from alice: this environment requires a signed statement/,
  );
  // mallory's key is registered for nobody: signing as alice with it fails the same way.
  expectExit(
    await startV1AsAlice('--sign-with', keys.mallory.privateKey, '--wait'),
    5,
    /signed with a key not registered for this person/,
  );
  expectExit(
    await startV1AsAlice('--sign-with', '/no/such/key'),
    2,
    /invalid --sign-with: no such key file \/no\/such\/key/,
  );
});

test('signed start; forged approvals refused (exit 4); approval signed through ssh-agent applies; audit shows it', async () => {
  const started = await startV1AsAlice('--sign-with', keys.alice.privateKey, '--json');
  expectExit(started, 0);
  const { workflowId } = JSON.parse(started.stdout) as { workflowId: string };
  const waiting = await pollStatus(workflowId, (s) => s.phase === 'awaiting_approval' && !!s.planHash);
  expect(waiting.requestSigned?.key).toBe(keys.alice.fingerprint);

  const approve = (...extra: string[]) =>
    cli(['approve', workflowId, '--plan-hash', waiting.planHash!, ...extra]);
  expectExit(await approve('--approver', 'bob'), 4, /refused: .*requires a signed statement/);
  expectExit(
    await approve('--approver', 'bob', '--sign-with', keys.mallory.privateKey),
    4,
    /key not registered for this person/,
  );
  // carol's own key, claiming to be bob.
  expectExit(await approve('--approver', 'bob', '--sign-with', keys.carol.privateKey), 4, /not registered/);
  // The requester, with her own valid key: still not an approver.
  expectExit(
    await approve('--approver', 'alice', '--sign-with', keys.alice.privateKey),
    4,
    /alice is not an approver/,
  );

  // bob's key lives in ssh-agent; --sign-with names its public half.
  const agent = execFileSync('ssh-agent', ['-s'], { encoding: 'utf8' });
  const sock = /SSH_AUTH_SOCK=([^;]+);/.exec(agent)![1]!;
  const pid = /SSH_AGENT_PID=(\d+);/.exec(agent)![1]!;
  try {
    execFileSync('ssh-add', ['-q', keys.bob.privateKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    expectExit(
      await approve(
        '--approver',
        'bob',
        '--sign-with',
        keys.bob.publicKeyFile,
        '--comment',
        'signed via agent',
      ),
      0,
      /approved by bob/,
    );
  } finally {
    process.kill(Number(pid));
  }

  const done = await pollStatus(workflowId, (s) => s.phase === 'done');
  expect(done.outcome).toBe('succeeded');
  const proof = done.approvals[0]!.signed!;
  expect(proof.key).toBe(keys.bob.fingerprint);
  expect(sshVerify(proof.statement, proof.signature, 'bob', keys.bob)).toBe(true);

  await recordHistory(env.client.workflow.getHandle(workflowId), 'promotion-signed-approved');
  const shown = await cli(['status', workflowId]);
  expect(shown.stdout).toContain(`alice (signed, ${keys.alice.fingerprint})`);
  expect(shown.stdout).toMatch(
    new RegExp(`bob at \\S+ \\(signed, ${escape(keys.bob.fingerprint)}\\) — signed via agent`),
  );
  const audit = await cli(['audit', workflowId]);
  expectExit(audit, 0);
  expect(audit.stdout).toContain(`signed with ${keys.alice.fingerprint}`);
  expect(audit.stdout).toContain(`signed with ${keys.bob.fingerprint}`);
  expect(audit.stdout).toMatch(/\| action: approve\n\s+\| environment: prod\n/);
  expect(audit.stdout).toContain(`| plan-hash: ${waiting.planHash}`);
});

test('by hand: statement from the Temporal CLI, ssh-keygen -Y sign, temporal workflow update execute', async () => {
  const dir = keyDir();
  const workflowId = uniqueId('promotion-prod-by-hand');
  const shell = (script: string, key: TestKey) =>
    run('bash', ['-c', `set -euo pipefail\ncd "$WORK"\nT="$TEMPORAL --address $ADDRESS"\n${script}`], {
      env: {
        ...process.env,
        WORK: dir,
        TEMPORAL: temporalCliPath(),
        ADDRESS: env.address,
        ID: workflowId,
        KEY: key.privateKey,
      },
      timeout: 60_000,
    });
  // The README's signed start, word for word but for the key and the task queue.
  await shell(
    `AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    printf 'cdf-promote statement v1\\naction: promote\\nenvironment: prod\\nworkflow-id: %s\\nref: v2\\nperson: alice\\ntime: %s\\n' \\
      "$ID" "$AT" > request.txt
    ssh-keygen -Y sign -n cdf-promote -f $KEY request.txt
    $T workflow start --type promotionWorkflow --task-queue ${TASK_QUEUE} --workflow-id $ID --input \\
      "$(jq -n --arg at "$AT" --rawfile sig request.txt.sig '{environment:"prod",ref:"v2",requestedBy:"alice",signedAt:$at,signature:$sig}')"`,
    keys.alice,
  );
  await pollStatus(workflowId, (s) => s.phase === 'awaiting_approval' && !!s.planHash);

  // The README's approval recipe, word for word but for the key.
  const out = await shell(
    `AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    $T workflow query --workflow-id $ID --name statement \\
      --input "{\\"action\\":\\"approve\\",\\"person\\":\\"carol\\",\\"signedAt\\":\\"$AT\\"}" -o json | jq -j '.queryResult[0]' > statement.txt
    ssh-keygen -Y sign -n cdf-promote -f $KEY statement.txt
    $T workflow update execute --workflow-id $ID --name approve \\
      --input "$(jq -n --arg at "$AT" --rawfile sig statement.txt.sig '{approver:"carol",signedAt:$at,signature:$sig}')"`,
    keys.carol,
  );
  expect(out.stdout).toMatch(/by:carol decision:approve/);
  const result = (await env.client.workflow.getHandle(workflowId).result()) as PromotionResult;
  expect(result.outcome).toBe('succeeded');
  expect(result.approvals[0]).toEqual(
    expect.objectContaining({
      approver: 'carol',
      signed: expect.objectContaining({ key: keys.carol.fingerprint }),
    }),
  );

  // The same signed approval again, on another run: refused, the statement names another run and plan.
  const signature = execFileSync('cat', [`${dir}/statement.txt.sig`], { encoding: 'utf8' });
  // A signed rollback to v1 (the request statement names the commit) waits for approval too.
  const again = await cli([
    'rollback',
    '--env',
    'prod',
    '--commit',
    harness!.stack.repo.first,
    '--requested-by',
    'alice',
    '--sign-with',
    keys.alice.privateKey,
    '--workflow-id',
    uniqueId('rollback-prod-replay'),
    '--json',
  ]);
  expectExit(again, 0);
  const second = (JSON.parse(again.stdout) as { workflowId: string }).workflowId;
  const s2 = await pollStatus(second, (s) => s.phase === 'awaiting_approval' && !!s.planHash);
  const statement = execFileSync('cat', [`${dir}/statement.txt`], { encoding: 'utf8' });
  const at = /time: (\S+)/.exec(statement)![1]!;
  const replay = await run(
    temporalCliPath(),
    [
      'workflow',
      'update',
      'execute',
      '--address',
      env.address,
      '--workflow-id',
      second,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ approver: 'carol', signedAt: at, signature }),
    ],
    { timeout: 60_000 },
  ).then(
    () => 'accepted',
    (e: { stderr?: string }) => e.stderr ?? 'failed',
  );
  expect(replay).toMatch(/does not match the statement/);

  // Cancelling takes a signature too: alice withdraws her own request.
  expectExit(await cli(['cancel', second, '--by', 'alice']), 4, /requires a signed statement/);
  expectExit(
    await cli([
      'cancel',
      second,
      '--by',
      'alice',
      '--sign-with',
      keys.alice.privateKey,
      '--reason',
      'test done',
    ]),
    0,
  );
  const cancelled = await pollStatus(second, (s) => s.phase === 'done');
  expect(cancelled.outcome).toBe('cancelled');
  await recordHistory(env.client.workflow.getHandle(workflowId), 'promotion-signed-by-hand');
  await recordHistory(env.client.workflow.getHandle(second), 'rollback-signed-cancelled');
  expect(s2.planHash).toBeTruthy();
});

/**
 * A `signed` environment, on the real workflows with mocked activities (time-skipping server): requests and
 * decisions signed with real `ssh-keygen` keys are verified by the workflow itself; unsigned, forged, replayed
 * and stale ones are refused, updates before anything reaches history. Also the commit-author rule.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EnvironmentPolicy } from '../../contracts/activity-types';
import { ErrorType } from '../../contracts/errors';
import { approveUpdate, cancelUpdate, statementQuery } from '../../contracts/messages';
import { parseSshPublicKey } from '../../contracts/ssh-signature';
import { renderStatement } from '../../contracts/signed-statement';
import { COMMIT, PLAN_HASH, mockActivities } from '../helpers/mock-activities';
import { keyDir, makeKey, sshSign, sshVerify, type TestKey } from '../helpers/ssh-keys';
import { PROMOTION_WORKFLOW_TYPE } from '../../contracts/messages';
import { startTimeSkipping, withWorker } from '../helpers/time-skipping';
import { uniqueId, waitForPhase } from '../helpers/workflows';

let env: TestWorkflowEnvironment;
let alice: TestKey;
let bob: TestKey;
let mallory: TestKey;

beforeAll(async () => {
  env = await startTimeSkipping();
  const dir = keyDir();
  [alice, bob, mallory] = ['alice', 'bob', 'mallory'].map((n) => makeKey(dir, n)) as [
    TestKey,
    TestKey,
    TestKey,
  ];
});

afterAll(() => env?.teardown());

const canonical = (k: TestKey): string => {
  const parsed = parseSshPublicKey(k.publicKey);
  if (!parsed.ok) throw new Error(parsed.why);
  return parsed.key.canonical;
};

const signedPolicy = (): Partial<EnvironmentPolicy> => ({
  identity: 'signed',
  signers: { alice: [canonical(alice)], bob: [canonical(bob)] },
  signatureMaxAgeMs: 15 * 60_000,
  approvers: ['bob', 'carol'],
});

/** The workflow clock of the test server (it skips ahead of the wall clock). */
async function serverNow(): Promise<number> {
  return env.currentTimeMs();
}

const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

async function startSigned(taskQueue: string, signer: TestKey | null, person = 'alice') {
  const workflowId = uniqueId('promotion');
  const signedAt = isoSeconds(await serverNow());
  const statement = renderStatement({
    action: 'promote',
    environment: 'prod',
    workflowId,
    ref: 'main',
    person,
    time: signedAt,
  });
  return env.client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
    taskQueue,
    workflowId,
    args: [
      {
        environment: 'prod',
        ref: 'main',
        requestedBy: person,
        ...(signer ? { signedAt, signature: sshSign(statement, signer) } : {}),
      },
    ],
  });
}

async function signedApproval(handle: WorkflowHandle, person: string, key: TestKey, signedAtMs?: number) {
  const signedAt = isoSeconds(signedAtMs ?? (await serverNow()));
  const statement = await handle.query(statementQuery, { action: 'approve', person, signedAt });
  return { approver: person, planHash: PLAN_HASH, signedAt, signature: sshSign(statement, key) };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (err as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return (cause as ApplicationFailure).message;
}

async function acceptedUpdates(handle: WorkflowHandle): Promise<number> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes).length;
}

describe('signed environment', () => {
  test('a start without the requester’s signed statement fails as invalid input, before any checkout', async () => {
    const mock = mockActivities({}, { policy: signedPolicy() });
    await withWorker(env, mock.activities, async (taskQueue) => {
      for (const signer of [null, mallory]) {
        const handle = await startSigned(taskQueue, signer);
        const err = await handle.result().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(WorkflowFailedError);
        const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
        expect(cause.type).toBe(ErrorType.InvalidInput);
        expect(cause.message).toMatch(/prod requires a signed request from alice/);
      }
      // Signed by bob's key but claiming to be alice: refused too.
      const impostor = await startSigned(taskQueue, bob, 'alice');
      await expect(impostor.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      expect(mock.calls.prepareCheckout).toHaveLength(0);
    });
  });

  test('signed request and signed approval: accepted and kept; forged and unsigned ones never reach history', async () => {
    const mock = mockActivities({}, { policy: signedPolicy() });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startSigned(taskQueue, alice);
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      expect(waiting.requestSigned).toEqual(
        expect.objectContaining({
          key: alice.fingerprint,
          statement: expect.stringContaining('action: promote'),
        }),
      );

      // Unsigned; signed by an unregistered key; bob's real signature over another run's statement; a name
      // signature replayed as another decision (cancel).
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }))).toMatch(
        /requires a signed statement/,
      );
      const forged = await signedApproval(handle, 'bob', mallory);
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [forged] }))).toMatch(
        /key not registered for this person/,
      );
      const elsewhere = renderStatement({
        action: 'approve',
        environment: 'prod',
        workflowId: 'another-run',
        runId: handle.firstExecutionRunId ?? '',
        commit: COMMIT,
        planHash: PLAN_HASH,
        person: 'bob',
        time: forged.signedAt,
      });
      const replayed = { ...forged, signature: sshSign(elsewhere, bob) };
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [replayed] }))).toMatch(
        /does not match the statement/,
      );
      const good = await signedApproval(handle, 'bob', bob);
      expect(
        await refusal(
          handle.executeUpdate(cancelUpdate, {
            args: [{ by: 'bob', signedAt: good.signedAt, signature: good.signature }],
          }),
        ),
      ).toMatch(/does not match the statement/);
      expect(await acceptedUpdates(handle)).toBe(0);

      const decided = await handle.executeUpdate(approveUpdate, { args: [good] });
      expect(decided).toEqual(expect.objectContaining({ decision: 'approve', by: 'bob', approvals: 1 }));
      const result = await handle.result();
      expect(result.outcome).toBe('succeeded');
      const proof = result.approvals[0]!.signed!;
      expect(proof.key).toBe(bob.fingerprint);
      // What the run kept can be checked again, by ssh-keygen itself.
      expect(sshVerify(proof.statement, proof.signature, 'bob', bob)).toBe(true);
      expect(proof.statement).toContain(`run-id: ${handle.firstExecutionRunId}`);
      expect(result.requestSigned?.key).toBe(alice.fingerprint);
    });
  });

  test('a statement older than signatureMaxAge is refused: sign again', async () => {
    const mock = mockActivities({}, { policy: signedPolicy() });
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await startSigned(taskQueue, alice);
      await waitForPhase(handle, 'awaiting_approval');
      const early = await signedApproval(handle, 'bob', bob);
      await env.sleep('20 minutes');
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [early] }))).toMatch(/sign again/);
      await handle.executeUpdate(approveUpdate, { args: [await signedApproval(handle, 'bob', bob)] });
      expect((await handle.result()).outcome).toBe('succeeded');
    });
  });
});

describe('commit authors', () => {
  test('authors of the promoted commits may not approve; others can', async () => {
    const mock = mockActivities(
      {},
      { policy: { excludeCommitAuthors: true, approvers: ['bob', 'carol'] }, commitAuthors: ['bob'] },
    );
    await withWorker(env, mock.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(PROMOTION_WORKFLOW_TYPE, {
        taskQueue,
        workflowId: uniqueId('promotion'),
        args: [{ environment: 'prod', ref: 'main', requestedBy: 'alice' }],
      });
      const waiting = await waitForPhase(handle, 'awaiting_approval');
      expect(waiting.commitAuthors).toEqual(expect.objectContaining({ people: ['bob'] }));
      expect(mock.calls.findCommitAuthors).toEqual([
        expect.objectContaining({ environment: 'prod', commit: COMMIT }),
      ]);
      expect(await refusal(handle.executeUpdate(approveUpdate, { args: [{ approver: 'bob' }] }))).toMatch(
        /authored commits in the promoted range/,
      );
      await handle.executeUpdate(approveUpdate, { args: [{ approver: 'carol' }] });
      expect((await handle.result()).outcome).toBe('succeeded');
    });
  });
});

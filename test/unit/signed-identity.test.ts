/**
 * Signed identities: SSH signatures made by the real `ssh-keygen`, verified by the pure code the workflow runs,
 * the statements they sign, the approval rules of a `signed` environment, and git's allowed_signers format.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EnvironmentPolicy } from '../../contracts/activity-types';
import {
  SIGNATURE_NAMESPACE,
  checkSignedStatement,
  renderStatement,
  type DecisionStatement,
} from '../../contracts/signed-statement';
import {
  decodeBase64,
  encodeBase64,
  parseSshPublicKey,
  verifySshSignature,
} from '../../contracts/ssh-signature';
import { parseAllowedSigners } from '../../config/allowed-signers';
import { environmentPolicy } from '../../config/environment-policy';
import {
  judgeApproval,
  judgeCancel,
  judgeRejection,
  type ApprovalState,
} from '../../workflows/approval-rules';
import { keyDir, makeKey, sshSign, sshVerify, type TestKey } from '../helpers/ssh-keys';
import { buildConfig, minimalRawConfig } from './helpers';

const HASH = 'a'.repeat(64);
const COMMIT = 'c'.repeat(40);
const NOW = Date.parse('2026-11-29T17:00:00Z');
const at = (offsetMs = 0) => new Date(NOW + offsetMs).toISOString().replace('.000Z', 'Z');

let bob: TestKey;
let carol: TestKey;
let mallory: TestKey;

beforeAll(() => {
  const dir = keyDir();
  bob = makeKey(dir, 'bob');
  carol = makeKey(dir, 'carol');
  mallory = makeKey(dir, 'mallory');
});

const canonical = (k: TestKey) => {
  const parsed = parseSshPublicKey(k.publicKey);
  if (!parsed.ok) throw new Error(parsed.why);
  return parsed.key.canonical;
};

const decision = (over: Partial<DecisionStatement> = {}): DecisionStatement => ({
  action: 'approve',
  environment: 'prod',
  workflowId: 'promotion-prod-main-1',
  runId: 'run-1',
  commit: COMMIT,
  planHash: HASH,
  person: 'bob',
  time: at(),
  ...over,
});

describe('SSH signatures (ssh-keygen -Y sign) verified in pure code', () => {
  test('a real signature over the statement verifies, with the fingerprint ssh-keygen -l prints', () => {
    const statement = renderStatement(decision());
    const signature = sshSign(statement, bob);
    const check = verifySshSignature({
      armored: signature,
      messages: [statement],
      namespace: SIGNATURE_NAMESPACE,
      keys: [canonical(bob)],
    });
    expect(check).toEqual(expect.objectContaining({ ok: true }));
    expect(check.ok && check.key.fingerprint).toBe(bob.fingerprint);
    // The reference implementation agrees on the same bytes.
    expect(sshVerify(statement, signature, 'bob', bob)).toBe(true);
  });

  test('another key, another statement, another namespace, a flipped byte: all refused, never thrown', () => {
    const statement = renderStatement(decision());
    const keys = [canonical(bob)];
    const check = (armored: string, messages = [statement], namespace = SIGNATURE_NAMESPACE) =>
      verifySshSignature({ armored, messages, namespace, keys });

    expect(check(sshSign(statement, mallory))).toEqual(
      expect.objectContaining({ ok: false, code: 'unknown_key' }),
    );
    expect(check(sshSign(renderStatement(decision({ runId: 'run-2' })), bob))).toEqual(
      expect.objectContaining({ ok: false, code: 'bad_signature' }),
    );
    expect(check(sshSign(statement, bob, 'git'))).toEqual(
      expect.objectContaining({ ok: false, code: 'wrong_namespace' }),
    );
    expect(check('-----BEGIN PGP SIGNATURE-----\nabc\n-----END PGP SIGNATURE-----')).toEqual(
      expect.objectContaining({ ok: false, code: 'malformed' }),
    );

    // Every single-byte change of the blob is refused (the signature bytes, the key, the namespace, lengths).
    const good = sshSign(statement, bob);
    const body = good.split('\n').slice(1, -1).join('');
    const blob = decodeBase64(body)!;
    for (let i = 0; i < blob.length; i += 3) {
      const changed = blob.slice();
      changed[i] = changed[i]! ^ 0x01;
      const armored = `-----BEGIN SSH SIGNATURE-----\n${encodeBase64(changed)}\n-----END SSH SIGNATURE-----`;
      expect(check(armored).ok).toBe(false);
    }
    expect(check(good).ok).toBe(true);
  });

  test('public keys: ed25519 only, parsed as ssh-keygen writes them', () => {
    expect(parseSshPublicKey(bob.publicKey)).toEqual(expect.objectContaining({ ok: true }));
    const rsa = makeKeyOfType('rsa');
    expect(parseSshPublicKey(rsa)).toEqual({
      ok: false,
      why: expect.stringMatching(/not supported \(use ed25519\)/),
    });
    expect(parseSshPublicKey('ssh-ed25519 not-base64!')).toEqual(expect.objectContaining({ ok: false }));
    expect(parseSshPublicKey('')).toEqual(expect.objectContaining({ ok: false }));
  });
});

function makeKeyOfType(type: string): string {
  const dir = keyDir();
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', `${dir}/k`]);
  return execFileSync('cat', [`${dir}/k.pub`], { encoding: 'utf8' });
}

describe('signed statements', () => {
  test('one fixed text per decision; a value cannot add a line', () => {
    expect(renderStatement(decision())).toBe(
      [
        'cdf-promote statement v1',
        'action: approve',
        'environment: prod',
        'workflow-id: promotion-prod-main-1',
        'run-id: run-1',
        `commit: ${COMMIT}`,
        `plan-hash: ${HASH}`,
        'person: bob',
        `time: ${at()}`,
        '',
      ].join('\n'),
    );
    expect(renderStatement(decision({ commit: undefined, planHash: undefined }))).toMatch(
      /\ncommit: -\nplan-hash: -\n/,
    );
    const sneaky = renderStatement(decision({ workflowId: 'x\nrun-id: other' }));
    expect(sneaky.split('\n')).toHaveLength(renderStatement(decision()).split('\n').length);
    expect(sneaky).toContain('workflow-id: "x\\nrun-id: other"');
  });

  test('unsigned, stale, future-dated and well-signed statements', () => {
    const statement = renderStatement(decision());
    const base = { statement, keys: [canonical(bob)], now: NOW, maxAgeMs: 15 * 60_000 };
    expect(checkSignedStatement({ ...base, signature: undefined, signedAt: undefined })).toEqual(
      expect.objectContaining({ ok: false, code: 'unsigned' }),
    );
    const signature = sshSign(statement, bob);
    expect(checkSignedStatement({ ...base, signature, signedAt: at() })).toEqual({
      ok: true,
      keyFingerprint: bob.fingerprint,
    });
    // The same signature checked 16 minutes later is stale: sign again.
    expect(checkSignedStatement({ ...base, now: NOW + 16 * 60_000, signature, signedAt: at() })).toEqual(
      expect.objectContaining({
        ok: false,
        code: 'stale_signature',
        why: expect.stringMatching(/sign again/),
      }),
    );
    expect(checkSignedStatement({ ...base, now: NOW - 10 * 60_000, signature, signedAt: at() })).toEqual(
      expect.objectContaining({ ok: false, code: 'stale_signature', why: expect.stringMatching(/future/) }),
    );
    // Signed without the final newline (printf '%s' / jq -j): the same statement.
    expect(
      checkSignedStatement({ ...base, signature: sshSign(statement.trimEnd(), bob), signedAt: at() }).ok,
    ).toBe(true);
  });
});

describe('approval rules in a signed environment', () => {
  const signers = () => ({ alice: [], bob: [canonical(bob)], carol: [canonical(carol)] });
  const policy = (over: Partial<EnvironmentPolicy> = {}): EnvironmentPolicy => ({
    environment: 'prod',
    cdfProject: 'acme-prod',
    approvalTimeoutMs: 3_600_000,
    approvers: ['bob', 'carol'],
    requiredApprovals: 1,
    allowSelfApproval: false,
    approvalRequired: true,
    removeLeftovers: false,
    identity: 'signed',
    signers: signers(),
    signatureMaxAgeMs: 15 * 60_000,
    temporalUiUrl: 'http://ui',
    namespace: 'default',
    ...over,
  });
  const state = (over: Partial<ApprovalState> = {}): ApprovalState => ({
    phase: 'awaiting_approval',
    policy: policy(),
    requestedBy: 'alice',
    environment: 'prod',
    planHash: HASH,
    commit: COMMIT,
    workflowId: 'promotion-prod-main-1',
    runId: 'run-1',
    now: NOW,
    approvals: [],
    rejections: [],
    strictCancel: true,
    ...over,
  });
  const signedPayload = (person: string, key: TestKey, over: Partial<DecisionStatement> = {}) => {
    const statement = renderStatement(decision({ person, ...over }));
    return {
      approver: person,
      planHash: HASH,
      signedAt: over.time ?? at(),
      signature: sshSign(statement, key),
    };
  };

  test('accepted with a signature of the approver over this run and plan; the proof is kept', () => {
    const verdict = judgeApproval(state(), signedPayload('bob', bob));
    expect(verdict).toEqual(
      expect.objectContaining({
        accepted: true,
        signed: expect.objectContaining({
          key: bob.fingerprint,
          statement: expect.stringContaining('person: bob'),
        }),
      }),
    );
  });

  test.each([
    ['unsigned', { approver: 'bob', planHash: HASH }, 'unsigned'],
    [
      'signed by another registered person (carol signs as bob)',
      () => signedPayload('bob', carol),
      'bad_signature',
    ],
    ['signed by an unregistered key', () => signedPayload('bob', mallory), 'bad_signature'],
    ['replayed from another run', () => signedPayload('bob', bob, { runId: 'run-0' }), 'bad_signature'],
    [
      'replayed from another plan',
      () => signedPayload('bob', bob, { planHash: 'b'.repeat(64) }),
      'bad_signature',
    ],
    [
      'a rejection statement used as an approval',
      () => signedPayload('bob', bob, { action: 'reject' }),
      'bad_signature',
    ],
    ['stale', () => signedPayload('bob', bob, { time: at(-20 * 60_000) }), 'stale_signature'],
  ])('refused: %s', (_name, payload, code) => {
    const verdict = judgeApproval(state(), typeof payload === 'function' ? payload() : payload);
    expect(verdict).toEqual(expect.objectContaining({ accepted: false, code }));
  });

  test('rejections and cancels are signed too; no cancel before the policy is known', () => {
    const reject = renderStatement(decision({ action: 'reject', person: 'carol' }));
    expect(
      judgeRejection(state(), { approver: 'carol', signedAt: at(), signature: sshSign(reject, carol) })
        .accepted,
    ).toBe(true);
    expect(judgeRejection(state(), { approver: 'carol' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'unsigned' }),
    );
    expect(judgeCancel({ ...state(), outcomeSet: false }, { by: 'bob' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'unsigned' }),
    );
    expect(judgeCancel({ ...state({ policy: undefined }), outcomeSet: false }, { by: 'alice' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'policy_not_loaded' }),
    );
  });

  test('commit authors may not approve when the environment says so', () => {
    const p = policy({ identity: undefined, signers: undefined, excludeCommitAuthors: true });
    expect(judgeApproval(state({ policy: p, commitAuthors: ['bob'] }), { approver: 'bob' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'commit_author' }),
    );
    expect(judgeApproval(state({ policy: p, commitAuthors: ['bob'] }), { approver: 'carol' }).accepted).toBe(
      true,
    );
    expect(
      judgeApproval(state({ policy: { ...p, excludeCommitAuthors: false }, commitAuthors: ['bob'] }), {
        approver: 'bob',
      }).accepted,
    ).toBe(true);
  });
});

describe("git's allowed_signers file", () => {
  test('principals get the key; namespaces limit it; what cannot be honoured exactly is refused', () => {
    const key = bob.publicKey.split(' ').slice(0, 2).join(' ');
    const { signers, problems } = parseAllowedSigners(
      [
        '# team keys',
        `Bob,bob@example.com ${key} bob@laptop`,
        `carol namespaces="git,cdf-promote" ${key}`,
        `dave namespaces="git" ${key}`,
        '',
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(signers.map((s) => s.person)).toEqual(['bob', 'bob@example.com', 'carol']);
    expect(new Set(signers.map((s) => s.key))).toEqual(new Set([canonical(bob)]));

    const bad = parseAllowedSigners(
      [`*@example.com ${key}`, `erin cert-authority ${key}`, 'frank ssh-rsa AAAAB3NzaC1yc2E='].join('\n'),
    );
    expect(bad.signers).toEqual([]);
    expect(bad.problems).toEqual([
      expect.stringMatching(/^line 1: wildcard principal/),
      expect.stringMatching(/^line 2: option "cert-authority" is not supported/),
      expect.stringMatching(/^line 3: key type ssh-rsa is not supported/),
    ]);
  });
});

describe('configuration of signed environments', () => {
  const signedRaw = (people: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval = { approvers: ['alice', 'bob'], identity: 'signed' };
    return { ...raw, people, ...extra };
  };

  test('every approver needs a key; the policy carries the public keys of everyone who has one', () => {
    expect(() => buildConfig(signedRaw({ alice: { keys: [bob.publicKey] } }))).toThrow(
      /approvers: "bob" has no key .* but prod is signed/,
    );
    const cfg = buildConfig(
      signedRaw({
        Alice: { keys: [carol.publicKey] },
        bob: { keys: [bob.publicKey] },
        dave: { emails: ['d@x.io'] },
      }),
    );
    const policy = environmentPolicy(cfg, 'prod', 'promotion');
    expect(policy).toEqual(
      expect.objectContaining({
        identity: 'signed',
        signatureMaxAgeMs: 15 * 60_000,
        signers: { alice: [canonical(carol)], bob: [canonical(bob)] },
      }),
    );
    // The comment of a key line is not part of the key.
    expect(JSON.stringify(policy)).not.toContain('@test');
  });

  test('refused at start-up: a key that is not ed25519, the same person twice, an unreadable signers file', () => {
    expect(() => buildConfig(signedRaw({ alice: { keys: ['ssh-rsa AAAAB3NzaC1yc2E='] } }))).toThrow(
      /people.alice.keys.0: key type ssh-rsa is not supported/,
    );
    expect(() => buildConfig(signedRaw({ alice: { keys: [bob.publicKey] }, ALICE: {} }))).toThrow(
      /the same person as "alice"/,
    );
    expect(() => buildConfig(signedRaw({}, { allowedSignersFile: '/nonexistent/allowed_signers' }))).toThrow(
      /allowedSignersFile: cannot read \/nonexistent\/allowed_signers: ENOENT/,
    );
  });

  test('an allowed_signers file registers its principals, relative to the config file', () => {
    const dir = keyDir();
    writeFileSync(path.join(dir, 'allowed_signers'), `alice ${carol.publicKey}\nbob ${bob.publicKey}\n`);
    const cfg = buildConfig(
      signedRaw({ bob: { emails: ['Bob@Example.com'] } }, { allowedSignersFile: 'allowed_signers' }),
      path.join(dir, 'promotion.yaml'),
    );
    expect(cfg.people).toEqual({
      alice: { keys: [canonical(carol)], emails: [] },
      bob: { keys: [canonical(bob)], emails: ['bob@example.com'] },
    });
  });
});

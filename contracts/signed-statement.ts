/**
 * The statements people sign in `signed` environments, and their checking. A statement names everything the
 * decision is about (environment, workflow and run, pinned commit, plan hash, the decision, the person, the time)
 * so a signature cannot be moved to another run, plan or decision, and its time bounds how long it can be used.
 *
 * The workflow renders the statement from its own facts plus the payload's person and time, so the signer and
 * the workflow must produce the same bytes: the format is fixed, one "key: value" per line, ending in a newline.
 * Pure and deterministic (the workflow verifies with it, also on replay); the CLI renders with it.
 */
import { ownEntry } from './own-entry';
import { verifySshSignature } from './ssh-signature';
import type { SignedProof } from './types';

/** The `-n` namespace of `ssh-keygen -Y sign`: a signature made for git or for files is not one of ours. */
export const SIGNATURE_NAMESPACE = 'cdf-promote';
export const STATEMENT_HEADER = 'cdf-promote statement v1';
/** A statement dated this far in the future is refused (clock skew between signer and server). */
export const MAX_FUTURE_SKEW_MS = 2 * 60_000;
export const DEFAULT_SIGNATURE_MAX_AGE_MS = 15 * 60_000;

export type RequestAction = 'promote' | 'rollback';
export type DecisionAction = 'approve' | 'reject' | 'cancel';

export interface RequestStatement {
  action: RequestAction;
  environment: string;
  workflowId: string;
  /** The ref to promote, or the commit to roll back to, as given in the request. */
  ref: string;
  person: string;
  time: string;
}

export interface DecisionStatement {
  action: DecisionAction;
  environment: string;
  workflowId: string;
  runId: string;
  /** Absent while the run has not pinned its commit or made its plan (a cancel can come that early). */
  commit?: string;
  planHash?: string;
  person: string;
  time: string;
}

// One line per value: control characters (a newline in a workflow id) are escaped so no value can add a line.
const value = (v: string | undefined): string =>
  v === undefined || v === '' ? '-' : /[\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : v;

export function renderStatement(s: RequestStatement | DecisionStatement): string {
  const lines: [string, string | undefined][] =
    'runId' in s
      ? [
          ['action', s.action],
          ['environment', s.environment],
          ['workflow-id', s.workflowId],
          ['run-id', s.runId],
          ['commit', s.commit],
          ['plan-hash', s.planHash],
          ['person', s.person],
          ['time', s.time],
        ]
      : [
          ['action', s.action],
          ['environment', s.environment],
          ['workflow-id', s.workflowId],
          ['ref', s.ref],
          ['person', s.person],
          ['time', s.time],
        ];
  return `${STATEMENT_HEADER}\n${lines.map(([k, v]) => `${k}: ${value(v)}`).join('\n')}\n`;
}

export type StatementCheck =
  | { ok: true; keyFingerprint: string }
  | { ok: false; code: 'unsigned' | 'bad_signature' | 'stale_signature'; why: string };

/**
 * Checks a signed statement: signed at all, by one of the person's registered keys, over exactly this statement,
 * and recent (`signedAt` within `maxAgeMs` before `now`, and not in the future). `now` is the workflow clock.
 */
export function checkSignedStatement(args: {
  statement: string;
  signature: string | undefined;
  signedAt: string | undefined;
  keys: readonly string[];
  now: number;
  maxAgeMs: number;
}): StatementCheck {
  if (!args.signature || !args.signedAt)
    return {
      ok: false,
      code: 'unsigned',
      why: 'this environment requires a signed statement (signature and signedAt; see `--sign-with`)',
    };
  if (args.keys.length === 0)
    return { ok: false, code: 'bad_signature', why: 'no signing key is registered for this person' };
  const at = Date.parse(args.signedAt);
  if (Number.isNaN(at)) return { ok: false, code: 'stale_signature', why: 'signedAt is not a time' };
  if (at > args.now + MAX_FUTURE_SKEW_MS)
    return {
      ok: false,
      code: 'stale_signature',
      why: `the statement is dated in the future (${args.signedAt})`,
    };
  if (args.now - at > args.maxAgeMs)
    return {
      ok: false,
      code: 'stale_signature',
      why: `the statement was signed at ${args.signedAt}, more than ${Math.round(args.maxAgeMs / 60_000)} min ago: sign again`,
    };
  const check = verifySshSignature({
    armored: args.signature,
    // `printf '%s'` and `jq -j` drop the final newline; both forms say the same thing.
    messages: [args.statement, args.statement.replace(/\n$/, '')],
    namespace: SIGNATURE_NAMESPACE,
    keys: args.keys,
  });
  if (check.ok) return { ok: true, keyFingerprint: check.key.fingerprint };
  return { ok: false, code: 'bad_signature', why: check.why };
}

/**
 * Checks a statement `person` signed, with the keys and maximum age of the environment's policy, and returns the
 * proof a run keeps (status, result, audit) when it holds.
 */
export function proveSigned(args: {
  statement: string;
  payload: { signature?: string; signedAt?: string };
  person: string;
  policy: { signers?: Record<string, string[]>; signatureMaxAgeMs?: number };
  now: number;
}): { ok: true; proof: SignedProof } | Extract<StatementCheck, { ok: false }> {
  const { statement, payload } = args;
  const check = checkSignedStatement({
    statement,
    signature: payload.signature,
    signedAt: payload.signedAt,
    keys: ownEntry(args.policy.signers, args.person) ?? [],
    now: args.now,
    maxAgeMs: args.policy.signatureMaxAgeMs ?? DEFAULT_SIGNATURE_MAX_AGE_MS,
  });
  if (!check.ok) return check;
  return {
    ok: true,
    proof: {
      key: check.keyFingerprint,
      signedAt: payload.signedAt!,
      statement,
      signature: payload.signature!,
    },
  };
}

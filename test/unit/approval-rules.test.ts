/** The approval rules as pure decisions: policy + run state + payload -> accepted, or refused with a reason. */
import type { EnvironmentPolicy } from '../../contracts/activity-types';
import {
  approvalDecision,
  missingGroupApprovals,
  judgeApproval,
  judgeCancel,
  judgeRejection,
  type ApprovalState,
} from '../../workflows/approval-rules';

const HASH = 'a'.repeat(64);
const OTHER_HASH = 'b'.repeat(64);

const policy = (over: Partial<EnvironmentPolicy> = {}): EnvironmentPolicy => ({
  environment: 'prod',
  cdfProject: 'acme-prod',
  approvalTimeoutMs: 3_600_000,
  approvers: ['bob', 'carol', 'dave'],
  requiredApprovals: 1,
  allowSelfApproval: false,
  approvalRequired: true,
  removeLeftovers: false,
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
  approvals: [],
  rejections: [],
  ...over,
});

const refusal = (verdict: ReturnType<typeof judgeApproval> | ReturnType<typeof judgeRejection>) =>
  verdict.accepted ? undefined : verdict.reason;

describe('judgeApproval', () => {
  test('a configured approver with the current plan hash is accepted', () => {
    expect(judgeApproval(state(), { approver: 'bob', planHash: HASH, comment: 'lgtm' })).toEqual({
      accepted: true,
      payload: { approver: 'bob', planHash: HASH, comment: 'lgtm' },
    });
  });

  test('the plan hash is optional', () => {
    expect(judgeApproval(state(), { approver: 'bob' }).accepted).toBe(true);
  });

  test('a non-approver is refused, naming the environment', () => {
    expect(refusal(judgeApproval(state(), { approver: 'mallory' }))).toBe(
      'mallory is not an approver for prod',
    );
  });

  test('the requester cannot approve their own run unless the environment allows it', () => {
    const own = { approver: 'alice' };
    const withAlice = policy({ approvers: ['alice', 'bob'] });
    expect(refusal(judgeApproval(state({ policy: withAlice }), own))).toBe(
      'the requester cannot approve their own promotion',
    );
    expect(judgeApproval(state({ policy: { ...withAlice, allowSelfApproval: true } }), own).accepted).toBe(
      true,
    );
  });

  test('a stale plan hash is refused with both hashes', () => {
    expect(refusal(judgeApproval(state(), { approver: 'bob', planHash: OTHER_HASH }))).toBe(
      `stale plan: approved ${OTHER_HASH} but the plan is ${HASH}`,
    );
  });

  test('the same approver counts once', () => {
    const approvals = [{ approver: 'bob', at: '2026-01-01T00:00:00.000Z' }];
    expect(refusal(judgeApproval(state({ approvals }), { approver: 'bob' }))).toBe(
      'bob has already approved',
    );
    expect(judgeApproval(state({ approvals }), { approver: 'carol' }).accepted).toBe(true);
  });

  test.each(['preparing', 'diffing', 'applying', 'smoke_testing', 'done'] as const)(
    'outside the approval phase (%s) nothing is accepted',
    (phase) => {
      expect(refusal(judgeApproval(state({ phase }), { approver: 'bob' }))).toBe(
        `not awaiting approval (phase is ${phase})`,
      );
    },
  );

  test('before the policy is known nothing is accepted', () => {
    expect(refusal(judgeApproval(state({ policy: undefined }), { approver: 'bob' }))).toBe(
      'environment policy not loaded',
    );
  });

  test('a malformed payload is refused with the field at fault, and whoever it claims to be', () => {
    const verdict = judgeApproval(state(), { approver: 'bob', planHash: 'nope' });
    expect(verdict).toEqual({
      accepted: false,
      approver: 'bob',
      reason: expect.stringMatching(/^invalid approve payload: planHash: /),
      code: 'invalid_payload',
    });
    expect(judgeApproval(state(), 42)).toEqual(expect.objectContaining({ approver: '(unknown)' }));
    expect(judgeApproval(state(), null)).toEqual(expect.objectContaining({ approver: '(unknown)' }));
  });

  test('a non-approver is refused before a stale hash is noticed (the reason names the real problem)', () => {
    expect(refusal(judgeApproval(state(), { approver: 'mallory', planHash: OTHER_HASH }))).toBe(
      'mallory is not an approver for prod',
    );
  });
});

describe('judgeRejection', () => {
  test('an approver may reject', () => {
    expect(judgeRejection(state(), { approver: 'carol', reason: 'freeze' })).toEqual({
      accepted: true,
      payload: { approver: 'carol', reason: 'freeze' },
    });
  });

  test('the requester may withdraw their own run', () => {
    expect(judgeRejection(state(), { approver: 'alice' }).accepted).toBe(true);
  });

  test('anyone else is refused', () => {
    expect(refusal(judgeRejection(state(), { approver: 'mallory' }))).toBe('mallory may not reject in prod');
  });

  test('outside the approval phase a rejection is refused', () => {
    expect(refusal(judgeRejection(state({ phase: 'applying' }), { approver: 'bob' }))).toBe(
      'not awaiting approval (phase is applying)',
    );
  });
});

describe('approvalDecision', () => {
  const at = '2026-01-01T00:00:00.000Z';
  test('waits for the quorum of approvals', () => {
    const one = { approvals: [{ approver: 'bob', at }], rejections: [] };
    expect(approvalDecision(one, 2)).toBe('pending');
    expect(approvalDecision({ ...one, approvals: [...one.approvals, { approver: 'carol', at }] }, 2)).toBe(
      'approved',
    );
  });

  test('one rejection decides, even after enough approvals', () => {
    expect(
      approvalDecision({ approvals: [{ approver: 'bob', at }], rejections: [{ approver: 'carol', at }] }, 1),
    ).toBe('rejected');
  });
});

describe('judgeCancel', () => {
  const cancelState = (over: Partial<ApprovalState> = {}, outcomeSet = false) => ({
    ...state(over),
    outcomeSet,
  });

  test('the requester and the approvers may cancel, in any phase until there is an outcome', () => {
    for (const phase of ['preparing', 'diffing', 'awaiting_approval', 'applying', 'smoke_testing'] as const) {
      expect(judgeCancel(cancelState({ phase }), { by: 'alice', reason: 'wrong ref' }).accepted).toBe(true);
      expect(judgeCancel(cancelState({ phase }), { by: 'carol' }).accepted).toBe(true);
    }
  });

  test('anyone else is refused, and so is a cancel once the run has an outcome', () => {
    expect(judgeCancel(cancelState(), { by: 'mallory' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'may_not_decide' }),
    );
    expect(judgeCancel(cancelState({ phase: 'alerting' }), { by: 'alice' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'already_finished' }),
    );
    expect(judgeCancel(cancelState({}, true), { by: 'alice' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'already_finished' }),
    );
  });

  test('names are compared after normalization', () => {
    expect(judgeCancel(cancelState(), { by: 'ALICE' }).accepted).toBe(true);
    expect(judgeCancel(cancelState(), { by: 'ali\u200bce' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'invalid_payload' }),
    );
  });
});

describe('self-approval is decided on normalized names', () => {
  test.each(['ALICE', 'Alice', 'ａｌｉｃｅ'])('%j is the requester alice', (spelling) => {
    const withAlice = policy({ approvers: ['alice', 'bob'] });
    expect(refusal(judgeApproval(state({ policy: withAlice }), { approver: spelling }))).toBe(
      'the requester cannot approve their own promotion',
    );
  });

  test('invisible and look-alike characters are refused, not matched to someone else', () => {
    expect(judgeApproval(state(), { approver: 'b\u200bob' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'invalid_payload' }),
    );
    expect(judgeApproval(state(), { approver: 'bоb' })).toEqual(
      expect.objectContaining({ accepted: false, code: 'invalid_payload' }),
    );
  });
});

describe('quorum per named group', () => {
  const at = '2026-01-01T00:00:00.000Z';
  const groups = {
    groups: { 'release-managers': ['bob', 'carol'], 'data-platform': ['dave'] },
    requiredFromGroups: { 'release-managers': 1, 'data-platform': 1 },
  };
  const by = (...names: string[]) => ({
    approvals: names.map((approver) => ({ approver, at })),
    rejections: [],
  });

  test('the total is not enough without one approval from each required group', () => {
    expect(approvalDecision(by('bob', 'carol'), 2, groups)).toBe('pending');
    expect(missingGroupApprovals(by('bob', 'carol'), groups)).toEqual(['data-platform: 1 more']);
    expect(approvalDecision(by('bob', 'dave'), 2, groups)).toBe('approved');
    expect(missingGroupApprovals(by('bob', 'dave'), groups)).toEqual([]);
  });

  test('each group requirement still needs the total', () => {
    expect(approvalDecision(by('bob', 'dave'), 3, groups)).toBe('pending');
  });

  test('without groups the decision is the total alone', () => {
    expect(approvalDecision(by('bob'), 1)).toBe('approved');
  });
});

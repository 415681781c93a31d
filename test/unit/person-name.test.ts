/** Names are normalized before they are stored or compared, so no spelling makes one person two, or two one. */
import { normalizePersonName, personNameSchema } from '../../contracts/person-name';
import { approveSignalPayloadSchema, promotionInputSchema } from '../../contracts/types';
import { buildConfig, minimalRawConfig } from './helpers';

const parse = (raw: string) => personNameSchema.safeParse(raw);

test.each([
  ['Alice', 'alice'],
  ['  bob  ', 'bob'],
  ['ＡＬＩＣＥ', 'alice'], // fullwidth forms
  ['ops@Example.com', 'ops@example.com'],
  ['ﬁona', 'fiona'], // ligature
])('%j is the handle %j', (raw, normalized) => {
  expect(normalizePersonName(raw)).toBe(normalized);
  expect(parse(raw)).toEqual({ success: true, data: normalized });
});

test.each([
  ['ali\u200bce', 'a zero-width space'],
  ['alice\u202e', 'a bidi override'],
  ['al\u0000ice', 'a control character'],
  ['аlice', 'a Cyrillic look-alike of "a"'],
  ['alice smith', 'a space inside'],
  ['Strauß', 'a letter outside ASCII'],
  ['alıce', 'a dotless i (would fold to "alice")'],
  ['\ufeffalice', 'a byte-order mark'],
  ['', 'nothing'],
  ['-alice', 'a leading "-"'],
  ['a'.repeat(65), 'more than 64 characters'],
])('%j is refused (%s)', (raw) => {
  expect(parse(raw).success).toBe(false);
});

test('payloads and inputs carry normalized names', () => {
  expect(approveSignalPayloadSchema.parse({ approver: 'BOB' }).approver).toBe('bob');
  expect(
    promotionInputSchema.parse({ environment: 'prod', ref: 'main', requestedBy: 'Alice' }).requestedBy,
  ).toBe('alice');
});

describe('approvers in the configuration', () => {
  test('are normalized', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval.approvers = ['Alice', 'BOB'];
    expect(buildConfig(raw).environments.prod!.approval.approvers).toEqual(['alice', 'bob']);
  });

  test('the same person twice is refused, whatever the spelling', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval.approvers = ['alice', 'bob', 'ALICE'];
    expect(() => buildConfig(raw)).toThrow(
      /environments\.prod\.approval\.approvers\.2: "alice" is listed twice/,
    );
  });

  test('a rule that can never be met once the requester is excluded is refused', () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval = { approvers: ['alice', 'bob'], requiredApprovals: 2 };
    expect(() => buildConfig(raw)).toThrow(
      /requiredApprovals: can never be met when one of the approvers requests/,
    );
    raw.environments.prod.approval.allowSelfApproval = true;
    expect(() => buildConfig(raw)).not.toThrow();
    raw.environments.prod.approval = { approvers: ['alice'] };
    expect(() => buildConfig(raw)).toThrow(/can never be met/);
  });
});

describe('approval groups in the configuration', () => {
  const base = () => {
    const raw = minimalRawConfig();
    raw.environments.prod.approval = {
      approvers: ['bob', 'carol', 'dave', 'erin'],
      requiredApprovals: 2,
      groups: { 'release-managers': ['Bob', 'carol'], 'data-platform': ['dave', 'erin'] },
      requiredFromGroups: { 'release-managers': 1, 'data-platform': 1 },
    };
    return raw;
  };

  test('are normalized and reach the policy', () => {
    const cfg = buildConfig(base());
    expect(cfg.environments.prod!.approval.groups['release-managers']).toEqual(['bob', 'carol']);
  });

  test('members must be approvers, required groups must exist and be satisfiable', () => {
    const notApprover = base();
    notApprover.environments.prod.approval.groups['data-platform'] = ['zed', 'dave'];
    expect(() => buildConfig(notApprover)).toThrow(/groups\.data-platform\.0: "zed" is not in approvers/);
    const unknown = base();
    unknown.environments.prod.approval.requiredFromGroups = { security: 1 };
    expect(() => buildConfig(unknown)).toThrow(/requiredFromGroups\.security: no group "security"/);
    const impossible = base();
    impossible.environments.prod.approval.requiredFromGroups = { 'release-managers': 2 };
    expect(() => buildConfig(impossible)).toThrow(/can never be met when a member requests the run/);
  });
});

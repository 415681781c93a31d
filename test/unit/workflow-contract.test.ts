import {
  approveSignalPayloadSchema,
  formatZodError,
  promotionInputSchema,
  rejectSignalPayloadSchema,
  rollbackInputSchema,
} from '../../contracts/types';

const okPromotion = { environment: 'prod', ref: 'release/2024.06', requestedBy: 'alice' };

function errorOf(
  schema: { safeParse(v: unknown): { success: boolean; error?: any } },
  value: unknown,
): string {
  const r = schema.safeParse(value);
  expect(r.success).toBe(false);
  return formatZodError(r.error);
}

describe('promotionInputSchema', () => {
  test('accepts branch, tag and sha refs', () => {
    for (const ref of ['main', 'release/2024.06', 'v1.2.3', 'feature/x_y-z', 'a1b2c3d']) {
      expect(promotionInputSchema.safeParse({ ...okPromotion, ref }).success).toBe(true);
    }
  });

  test.each([
    ['-uploadpack=evil', 'must not start with "-"'],
    ['--upload-pack=/bin/sh', 'must not start with "-"'],
    ['main..prod', 'must not contain ".."'],
    ['../../etc/passwd', 'must not contain ".."'],
    ['my branch', 'may only contain'],
    ['main;rm -rf /', 'may only contain'],
    ['$(id)', 'may only contain'],
    ['', 'must not be empty'],
  ])('refuses ref %p', (ref, why) => {
    const msg = errorOf(promotionInputSchema, { ...okPromotion, ref });
    expect(msg).toContain('ref: ');
    expect(msg).toContain(why);
  });

  test('unknown extra keys are refused (strict)', () => {
    const msg = errorOf(promotionInputSchema, { ...okPromotion, skipApproval: true });
    expect(msg).toContain('skipApproval');
  });

  test('environment must be a lower-case name', () => {
    expect(errorOf(promotionInputSchema, { ...okPromotion, environment: 'Prod' })).toMatch(/^environment: /);
    expect(errorOf(promotionInputSchema, { ...okPromotion, environment: '../prod' })).toMatch(
      /^environment: /,
    );
  });

  test('requestedBy must not be blank', () => {
    expect(errorOf(promotionInputSchema, { ...okPromotion, requestedBy: '   ' })).toContain('requestedBy');
  });
});

describe('rollbackInputSchema', () => {
  const base = { environment: 'prod', requestedBy: 'bob' };
  test('accepts hex shas of 7 to 40 characters', () => {
    expect(rollbackInputSchema.safeParse({ ...base, commit: 'abcdef1' }).success).toBe(true);
    expect(rollbackInputSchema.safeParse({ ...base, commit: 'a'.repeat(40) }).success).toBe(true);
  });
  test.each(['abcdef', 'a'.repeat(41), 'main', 'ABCDEF1', 'g123456', '-abcdef1'])(
    'refuses commit %p',
    (commit) => {
      expect(errorOf(rollbackInputSchema, { ...base, commit })).toContain('commit: must be a hex commit sha');
    },
  );
  test('commit may be left out (the last known good) and extra keys are refused', () => {
    expect(rollbackInputSchema.safeParse(base).success).toBe(true);
    expect(errorOf(rollbackInputSchema, { ...base, commit: 'abcdef1', ref: 'main' })).toContain('ref');
  });
});

describe('signal payloads', () => {
  test('approve planHash must be 64 lower-case hex characters', () => {
    expect(
      approveSignalPayloadSchema.safeParse({ approver: 'carol', planHash: 'f'.repeat(64) }).success,
    ).toBe(true);
    expect(approveSignalPayloadSchema.safeParse({ approver: 'carol' }).success).toBe(true);
    for (const planHash of ['f'.repeat(63), 'f'.repeat(65), 'g'.repeat(64), 'F'.repeat(64)]) {
      expect(errorOf(approveSignalPayloadSchema, { approver: 'carol', planHash })).toContain(
        'planHash: must be a 64-character sha256',
      );
    }
  });
  test('approver must not be empty', () => {
    expect(errorOf(approveSignalPayloadSchema, { approver: '' })).toContain('approver');
    expect(errorOf(rejectSignalPayloadSchema, { approver: '  ', reason: 'no' })).toContain('approver');
  });
  test('reject payload refuses unknown keys', () => {
    expect(errorOf(rejectSignalPayloadSchema, { approver: 'bob', planHash: 'x' })).toContain('planHash');
  });
});

describe('formatZodError', () => {
  test('joins issues with their key paths', () => {
    const msg = errorOf(promotionInputSchema, { environment: 'Prod', ref: '-x', requestedBy: 'a' });
    expect(msg).toMatch(/environment: .*; ref: must not start with "-"/);
  });
  test('top-level issues are labelled (input)', () => {
    expect(errorOf(promotionInputSchema, 42)).toMatch(/^\(input\): /);
  });
});

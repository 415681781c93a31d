import { parseDuration } from '../../config/duration';

describe('parseDuration', () => {
  test.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['72h', 72 * 3_600_000],
    ['2d', 2 * 86_400_000],
    ['1.5h', 5_400_000],
    [' 15 m ', 900_000],
  ])('%p → %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test('numbers are milliseconds', () => {
    expect(parseDuration(1234)).toBe(1234);
  });

  test.each(['', '10', '3 weeks', '10M', '-5m', 'h', '1h30m', 'abc'])('refuses %p with a hint', (input) => {
    expect(() => parseDuration(input)).toThrow(/is not a duration; use e\.g\./);
  });

  test('zero and negative values are refused', () => {
    expect(() => parseDuration('0s')).toThrow(/must be positive/);
    expect(() => parseDuration('0.0001ms')).toThrow(/must be positive/);
    expect(() => parseDuration(0)).toThrow(/must be positive/);
    expect(() => parseDuration(-10)).toThrow(/must be positive/);
    expect(() => parseDuration(Number.NaN)).toThrow(/must be positive/);
    expect(() => parseDuration(Number.POSITIVE_INFINITY)).toThrow(/must be positive/);
  });
});

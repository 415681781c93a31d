/**
 * Validates flag values with the contract's zod schemas before anything talks to Temporal, and reports
 * problems by flag name (`--plan-hash`) rather than by payload field (`planHash`), since flags are what the
 * user typed.
 */
import type { z } from 'zod';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors';

export function parseFlags<S extends z.ZodType>(
  schema: S,
  input: Record<string, unknown>,
  flagOf: Record<string, string>,
): z.infer<S> {
  // Absent optional flags must not reach the payload as explicit `undefined` keys.
  const cleaned = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const key = issue.path.map(String).join('.');
    const flag = flagOf[key] ?? (key || '(input)');
    const missing = issue.code === 'invalid_type' && cleaned[key] === undefined;
    return missing ? `missing required option ${flag}` : `invalid ${flag}: ${issue.message}`;
  });
  throw new UsageError(problems.join('; '));
}

export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number between 1 and 1000.');
  const n = Number(value);
  if (n < 1 || n > 1000) throw new InvalidArgumentError('must be a whole number between 1 and 1000.');
  return n;
}

/** Workflow ids are free-form in Temporal; refuse only what is certainly a typo. */
export function checkWorkflowId(id: string, flag = 'workflow id'): string {
  if (!id.trim()) throw new UsageError(`invalid ${flag}: must not be empty`);
  if (id.startsWith('-')) throw new UsageError(`invalid ${flag}: must not start with "-"`);
  if (/\s/.test(id)) throw new UsageError(`invalid ${flag}: must not contain whitespace`);
  if (id.length > 255) throw new UsageError(`invalid ${flag}: must be at most 255 characters`);
  return id;
}

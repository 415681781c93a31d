import { badRequest } from './api-error';

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

/**
 * Offset-based paging hidden behind an opaque cursor. Clients must treat cursors
 * as opaque, so encoding the offset keeps the fake CDF simple without leaking it.
 */
export function paginate<T>(all: readonly T[], limitInput: unknown, cursorInput: unknown): Page<T> {
  const limit = parseLimit(limitInput);
  const offset = decodeCursor(cursorInput);
  const items = all.slice(offset, offset + limit);
  const next = offset + limit;
  return next < all.length ? { items, nextCursor: encodeCursor(next) } : { items };
}

function parseLimit(input: unknown): number {
  if (input === undefined || input === null || input === '') return DEFAULT_LIMIT;
  const n = typeof input === 'number' ? input : Number(input);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`fake-cdf: invalid limit ${String(input)}`);
  return Math.min(n, MAX_LIMIT);
}

function encodeCursor(offset: number): string {
  return Buffer.from(`sandbox:${offset}`, 'utf8').toString('base64url');
}

function decodeCursor(input: unknown): number {
  if (input === undefined || input === null || input === '') return 0;
  if (typeof input !== 'string') throw badRequest('fake-cdf: cursor must be a string');
  const match = /^sandbox:(\d+)$/.exec(Buffer.from(input, 'base64url').toString('utf8'));
  if (!match?.[1]) throw badRequest('fake-cdf: invalid cursor');
  return Number(match[1]);
}

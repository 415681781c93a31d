import { z } from 'zod';
import { ApiError, badRequest } from './api-error';
import type { IdResource } from './state-store';

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw badRequest(`fake-cdf: invalid request body: ${z.prettifyError(result.error)}`);
  return result.data;
}

export function itemsBody<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item) });
}

/** `{id}` or `{externalId}`, as accepted by classic byids/delete endpoints. */
export const classicIdentifier = z.union([
  z.object({ id: z.number().int() }),
  z.object({ externalId: z.string() }),
]);
export type ClassicIdentifier = z.infer<typeof classicIdentifier>;

export const classicByIdsBody = z.looseObject({
  items: z.array(classicIdentifier),
  ignoreUnknownIds: z.boolean().optional(),
});

/**
 * Resolves classic identifiers in request order. Unknown ids become a 400 with
 * `missing`, matching CDF, unless the caller opted into ignoring them.
 */
export function resolveClassic(
  store: Record<string, IdResource>,
  ids: readonly ClassicIdentifier[],
  ignoreUnknownIds: boolean,
): IdResource[] {
  const found: IdResource[] = [];
  const missing: ClassicIdentifier[] = [];
  for (const ident of ids) {
    const hit = 'id' in ident ? store[String(ident.id)] : findByExternalId(store, ident.externalId);
    if (hit) found.push(hit);
    else missing.push(ident);
  }
  if (missing.length > 0 && !ignoreUnknownIds) throw badRequest('Ids not found', { missing });
  return found;
}

export function findByExternalId(
  store: Record<string, IdResource>,
  externalId: string,
): IdResource | undefined {
  return Object.values(store).find((r) => r.externalId === externalId);
}

/** Items with `externalId` already present (in the store or earlier in the batch) → 409. */
export function assertNoDuplicateExternalIds(
  store: Record<string, IdResource>,
  externalIds: readonly (string | undefined)[],
): void {
  const seen = new Set<string>();
  const duplicated: { externalId: string }[] = [];
  for (const xid of externalIds) {
    if (xid === undefined) continue;
    if (seen.has(xid) || findByExternalId(store, xid)) duplicated.push({ externalId: xid });
    seen.add(xid);
  }
  if (duplicated.length > 0) {
    throw new ApiError(409, 'Duplicate external ids', { duplicated });
  }
}

/**
 * Applies a classic `update` object (`{field: {set: v}}` / `{field: {setNull: true}}`)
 * in place. Fields outside `allowed` are rejected so typos surface as 400s
 * instead of silently becoming new keys in responses.
 */
export function applyClassicUpdate(
  target: Record<string, unknown>,
  update: Record<string, unknown>,
  allowed: readonly string[],
): void {
  for (const [field, op] of Object.entries(update)) {
    if (!allowed.includes(field)) throw badRequest(`fake-cdf: field ${field} cannot be updated`);
    if (typeof op !== 'object' || op === null) throw badRequest(`fake-cdf: invalid update for ${field}`);
    const o = op as Record<string, unknown>;
    if ('set' in o) target[field] = o.set;
    else if (o.setNull === true) delete target[field];
    else throw badRequest(`fake-cdf: update for ${field} must use set or setNull`);
  }
}

export const classicUpdateBody = z.looseObject({
  items: z.array(
    z.union([
      z.looseObject({ id: z.number().int(), update: z.record(z.string(), z.unknown()) }),
      z.looseObject({ externalId: z.string(), update: z.record(z.string(), z.unknown()) }),
    ]),
  ),
});

export function identOf(item: { id?: unknown; externalId?: unknown }): ClassicIdentifier {
  return typeof item.id === 'number' ? { id: item.id } : { externalId: String(item.externalId) };
}

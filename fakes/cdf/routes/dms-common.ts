import { z } from 'zod';
import { badRequest } from '../api-error';
import { paginate, type Page } from '../pagination';
import type { JsonObject, Resource } from '../state-store';

/** Composite DMS identifiers are stored under a single string key. */
export function dmsKey(id: { space: string; externalId?: string; version?: string }): string {
  return [id.space, id.externalId, id.version].filter((p) => p !== undefined).join('\u0000');
}

// `cdf_*` spaces hold CDF's global system types (e.g. cdf_cdm). They exist in every
// real project, so references to them must not be rejected just because the fake CDF lacks them.
export function isSystemSpace(space: string): boolean {
  return space.startsWith('cdf_');
}

export const spaceId = z.looseObject({ space: z.string().min(1) });
export const containerId = z.looseObject({ space: z.string().min(1), externalId: z.string().min(1) });
export const versionedId = z.looseObject({
  space: z.string().min(1),
  externalId: z.string().min(1),
  version: z.string().min(1),
});

export function requireSpace(spaces: Record<string, Resource>, space: string): void {
  if (!isSystemSpace(space) && !spaces[dmsKey({ space })]) {
    throw badRequest(`Space '${space}' does not exist`, { missing: [{ space }] });
  }
}

/**
 * Upsert that keeps the client's fields verbatim. The Toolkit diffs responses
 * against local YAML, so adding defaults here would make every resource look changed.
 */
export function upsertItem(
  store: Record<string, Resource>,
  key: string,
  fields: JsonObject,
  now: number,
  extras: JsonObject = {},
): Resource {
  const existing = store[key];
  const item: Resource = {
    ...fields,
    ...extras,
    createdTime: existing?.createdTime ?? now,
    lastUpdatedTime: now,
    isGlobal: false,
  };
  store[key] = item;
  return item;
}

export function byIds(store: Record<string, Resource>, keys: readonly string[]): Resource[] {
  // DMS byids never fails for unknown ids; it just leaves them out.
  return keys.flatMap((k) => {
    const hit = store[k];
    return hit ? [hit] : [];
  });
}

export function deleteByIds<T extends JsonObject>(
  store: Record<string, Resource>,
  ids: readonly T[],
  keyOf: (id: T) => string,
  identifierOf: (id: T) => JsonObject,
): { items: JsonObject[] } {
  const deleted: JsonObject[] = [];
  for (const id of ids) {
    const key = keyOf(id);
    if (store[key]) {
      delete store[key];
      deleted.push(identifierOf(id));
    }
  }
  return { items: deleted };
}

export function isTrue(v: string | null): boolean {
  return v === 'true';
}

/**
 * Lists versioned resources; without `allVersions` only the newest version of each
 * (space, externalId) is returned, as CDF does.
 */
export function listDms(
  store: Record<string, Resource>,
  query: URLSearchParams,
  versioned: boolean,
): Page<Resource> {
  const space = query.get('space');
  let items = Object.values(store).filter((r) => space === null || r.space === space);
  if (versioned && !isTrue(query.get('allVersions'))) {
    const latest = new Map<string, Resource>();
    for (const r of items) {
      const k = dmsKey({ space: String(r.space), externalId: String(r.externalId) });
      const current = latest.get(k);
      if (!current || r.createdTime >= current.createdTime) latest.set(k, r);
    }
    items = [...latest.values()];
  }
  return paginate(items, query.get('limit') ?? undefined, query.get('cursor') ?? undefined);
}

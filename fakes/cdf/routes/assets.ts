import { z } from 'zod';
import { ApiError, badRequest } from '../api-error';
import {
  applyClassicUpdate,
  assertNoDuplicateExternalIds,
  classicIdentifier,
  classicUpdateBody,
  findByExternalId,
  identOf,
  parseBody,
  resolveClassic,
  type ClassicIdentifier,
} from '../body';
import { paginate } from '../pagination';
import type { ProjectRoute } from '../route';
import type { IdResource, JsonObject } from '../state-store';

const assetWrite = z.looseObject({
  externalId: z.string().min(1).optional(),
  name: z.string().min(1),
  parentId: z.number().int().optional(),
  parentExternalId: z.string().min(1).optional(),
});

const UPDATABLE_FIELDS = [
  'externalId',
  'name',
  'description',
  'metadata',
  'parentId',
  'parentExternalId',
  'dataSetId',
  'source',
  'labels',
  'geoLocation',
];

/** Parent lookup over stored assets plus the batch being created. */
type Lookup = (ident: ClassicIdentifier) => IdResource | undefined;

function lookupIn(store: Record<string, IdResource>, batch: readonly IdResource[] = []): Lookup {
  return (ident) =>
    'id' in ident
      ? (batch.find((a) => a.id === ident.id) ?? store[String(ident.id)])
      : (batch.find((a) => a.externalId === ident.externalId) ?? findByExternalId(store, ident.externalId));
}

function parentIdent(asset: JsonObject): ClassicIdentifier | undefined {
  if (typeof asset.parentExternalId === 'string') return { externalId: asset.parentExternalId };
  if (typeof asset.parentId === 'number') return { id: asset.parentId };
  return undefined;
}

/** Sets parentId/rootId from whichever parent reference the client sent. */
function linkToParents(assets: IdResource[], lookup: Lookup): void {
  const missing: ClassicIdentifier[] = [];
  for (const asset of assets) {
    const ident = parentIdent(asset);
    if (!ident) {
      delete asset.parentId;
      continue;
    }
    const parent = lookup(ident);
    if (!parent) missing.push(ident);
    else asset.parentId = parent.id;
  }
  if (missing.length > 0) throw badRequest('Reference to unknown parent', { missing });
  for (const asset of assets) asset.rootId = findRoot(asset, lookup);
}

function findRoot(asset: IdResource, lookup: Lookup): number {
  const seen = new Set<number>();
  let current = asset;
  while (typeof current.parentId === 'number') {
    if (seen.has(current.id)) throw badRequest(`Asset hierarchy cycle at id ${current.id}`);
    seen.add(current.id);
    const parent = lookup({ id: current.parentId });
    if (!parent) break;
    current = parent;
  }
  return current.id;
}

function descendantsOf(store: Record<string, IdResource>, ids: ReadonlySet<number>): Set<number> {
  const result = new Set(ids);
  let grew = true;
  while (grew) {
    grew = false;
    for (const a of Object.values(store)) {
      if (typeof a.parentId === 'number' && result.has(a.parentId) && !result.has(a.id)) {
        result.add(a.id);
        grew = true;
      }
    }
  }
  return result;
}

function idSetOf(store: Record<string, IdResource>, idents: unknown): Set<number> | undefined {
  if (!Array.isArray(idents)) return undefined;
  const parsed = z.array(classicIdentifier).safeParse(idents);
  if (!parsed.success) throw badRequest('fake-cdf: invalid id list in filter');
  return new Set(resolveClassic(store, parsed.data, true).map((a) => a.id));
}

function filterAssets(
  store: Record<string, IdResource>,
  filter: JsonObject | undefined,
  dataSetIdsOf: (v: unknown) => Set<number> | undefined,
): IdResource[] {
  const all = Object.values(store);
  if (!filter) return all;
  const parentIds = Array.isArray(filter.parentIds) ? new Set(filter.parentIds as number[]) : undefined;
  const parentXids = Array.isArray(filter.parentExternalIds)
    ? new Set(filter.parentExternalIds as string[])
    : undefined;
  const rootIds = idSetOf(store, filter.assetSubtreeIds ?? filter.rootIds);
  const dataSetIds = dataSetIdsOf(filter.dataSetIds);
  return all.filter((a) => {
    if (parentIds && !(typeof a.parentId === 'number' && parentIds.has(a.parentId))) return false;
    if (parentXids) {
      const parent = typeof a.parentId === 'number' ? store[String(a.parentId)] : undefined;
      if (!parent || !parentXids.has(String(parent.externalId))) return false;
    }
    if (rootIds && !rootIds.has(a.rootId as number) && !rootIds.has(a.id)) return false;
    if (dataSetIds && !dataSetIds.has(a.dataSetId as number)) return false;
    if (typeof filter.name === 'string' && a.name !== filter.name) return false;
    if (
      typeof filter.externalIdPrefix === 'string' &&
      !String(a.externalId ?? '').startsWith(filter.externalIdPrefix)
    ) {
      return false;
    }
    if (typeof filter.root === 'boolean' && (a.parentId === undefined) !== filter.root) return false;
    return true;
  });
}

export const assetRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/assets',
    write: true,
    status: 201,
    handle: ({ state, body, now, nextId }) => {
      const items = parseBody(z.looseObject({ items: z.array(assetWrite) }), body).items;
      assertNoDuplicateExternalIds(
        state.assets,
        items.map((i) => i.externalId),
      );
      const created: IdResource[] = items.map((item) => ({
        ...item,
        id: nextId(),
        createdTime: now,
        lastUpdatedTime: now,
      }));
      linkToParents(created, lookupIn(state.assets, created));
      for (const a of created) state.assets[String(a.id)] = a;
      return { items: created };
    },
  },
  {
    method: 'POST',
    path: '/assets/byids',
    write: false,
    handle: ({ state, body }) => {
      const req = parseBody(
        z.looseObject({ items: z.array(classicIdentifier), ignoreUnknownIds: z.boolean().optional() }),
        body,
      );
      return { items: resolveClassic(state.assets, req.items, req.ignoreUnknownIds ?? false) };
    },
  },
  {
    method: 'POST',
    path: '/assets/update',
    write: true,
    handle: ({ state, body, now }) => {
      const req = parseBody(classicUpdateBody, body);
      const targets = resolveClassic(state.assets, req.items.map(identOf), false);
      const updated = req.items.map((item, i) => {
        const current = targets[i]!;
        const next: JsonObject = { ...current };
        // A new parent reference of one kind supersedes the other kind.
        if ('parentExternalId' in item.update) delete next.parentId;
        if ('parentId' in item.update) delete next.parentExternalId;
        applyClassicUpdate(next, item.update, UPDATABLE_FIELDS);
        // CDF omits empty label lists from responses; the Toolkit sends `labels: {set: []}` on every update.
        if (Array.isArray(next.labels) && next.labels.length === 0) delete next.labels;
        const a: IdResource = {
          ...next,
          id: current.id,
          createdTime: current.createdTime,
          lastUpdatedTime: now,
        };
        state.assets[String(a.id)] = a;
        return a;
      });
      if (req.items.some((item) => 'parentExternalId' in item.update || 'parentId' in item.update)) {
        linkToParents(updated, lookupIn(state.assets));
        // Moving a subtree changes the root of every descendant.
        const moved = descendantsOf(state.assets, new Set(updated.map((a) => a.id)));
        for (const id of moved) {
          const a = state.assets[String(id)];
          if (a) a.rootId = findRoot(a, lookupIn(state.assets));
        }
      }
      return { items: updated };
    },
  },
  {
    method: 'POST',
    path: '/assets/delete',
    write: true,
    handle: ({ state, body }) => {
      const req = parseBody(
        z.looseObject({
          items: z.array(classicIdentifier),
          ignoreUnknownIds: z.boolean().optional(),
          recursive: z.boolean().optional(),
        }),
        body,
      );
      const found = resolveClassic(state.assets, req.items, req.ignoreUnknownIds ?? false);
      const requested = new Set(found.map((a) => a.id));
      const all = descendantsOf(state.assets, requested);
      if (!req.recursive && all.size > requested.size) {
        throw new ApiError(400, 'Asset has children; use recursive=true to delete them too');
      }
      for (const id of all) delete state.assets[String(id)];
      return {};
    },
  },
  {
    method: 'POST',
    path: '/assets/list',
    write: false,
    handle: ({ state, body }) => {
      const req = parseBody(
        z.looseObject({
          filter: z.looseObject({}).optional(),
          limit: z.number().int().optional(),
          cursor: z.string().nullable().optional(),
        }),
        body,
      );
      const items = filterAssets(state.assets, req.filter, (v) => idSetOf(state.dataSets, v));
      return paginate(items, req.limit, req.cursor ?? undefined);
    },
  },
  {
    method: 'GET',
    path: '/assets',
    write: false,
    handle: ({ state, query }) => {
      const filter: JsonObject = {};
      const name = query.get('name');
      const prefix = query.get('externalIdPrefix');
      if (name !== null) filter.name = name;
      if (prefix !== null) filter.externalIdPrefix = prefix;
      const items = filterAssets(state.assets, filter, () => undefined);
      return paginate(items, query.get('limit') ?? undefined, query.get('cursor') ?? undefined);
    },
  },
];

import { z } from 'zod';
import {
  applyClassicUpdate,
  assertNoDuplicateExternalIds,
  classicByIdsBody,
  classicUpdateBody,
  identOf,
  parseBody,
  resolveClassic,
} from '../body';
import { paginate } from '../pagination';
import type { ProjectRoute } from '../route';
import type { IdResource, JsonObject } from '../state-store';

const dataSetWrite = z.looseObject({
  externalId: z.string().min(1).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  writeProtected: z.boolean().optional(),
});

const UPDATABLE_FIELDS = ['externalId', 'name', 'description', 'metadata', 'writeProtected'];

function matches(ds: IdResource, filter: JsonObject | undefined): boolean {
  if (!filter) return true;
  if (
    typeof filter.externalIdPrefix === 'string' &&
    !String(ds.externalId ?? '').startsWith(filter.externalIdPrefix)
  ) {
    return false;
  }
  if (typeof filter.writeProtected === 'boolean' && ds.writeProtected !== filter.writeProtected) return false;
  return true;
}

export const dataSetRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/datasets',
    write: true,
    status: 201,
    handle: ({ state, body, now, nextId }) => {
      const items = parseBody(z.looseObject({ items: z.array(dataSetWrite) }), body).items;
      assertNoDuplicateExternalIds(
        state.dataSets,
        items.map((i) => i.externalId),
      );
      return {
        items: items.map((item) => {
          // CDF always returns these two, so clients compare against them already.
          const ds: IdResource = {
            metadata: {},
            writeProtected: false,
            ...item,
            id: nextId(),
            createdTime: now,
            lastUpdatedTime: now,
          };
          state.dataSets[String(ds.id)] = ds;
          return ds;
        }),
      };
    },
  },
  {
    method: 'POST',
    path: '/datasets/byids',
    write: false,
    handle: ({ state, body }) => {
      const req = parseBody(classicByIdsBody, body);
      return { items: resolveClassic(state.dataSets, req.items, req.ignoreUnknownIds ?? false) };
    },
  },
  {
    method: 'POST',
    path: '/datasets/update',
    write: true,
    handle: ({ state, body, now }) => {
      const req = parseBody(classicUpdateBody, body);
      const targets = resolveClassic(state.dataSets, req.items.map(identOf), false);
      return {
        items: req.items.map((item, i) => {
          const current = targets[i]!;
          const next: JsonObject = { ...current };
          applyClassicUpdate(next, item.update, UPDATABLE_FIELDS);
          const ds: IdResource = {
            ...next,
            id: current.id,
            createdTime: current.createdTime,
            lastUpdatedTime: now,
          };
          state.dataSets[String(ds.id)] = ds;
          return ds;
        }),
      };
    },
  },
  {
    method: 'POST',
    path: '/datasets/list',
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
      const items = Object.values(state.dataSets).filter((ds) => matches(ds, req.filter));
      return paginate(items, req.limit, req.cursor ?? undefined);
    },
  },
];

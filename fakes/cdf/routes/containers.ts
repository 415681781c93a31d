import { z } from 'zod';
import { itemsBody, parseBody } from '../body';
import type { ProjectRoute } from '../route';
import { byIds, containerId, deleteByIds, dmsKey, listDms, requireSpace, upsertItem } from './dms-common';

const containerWrite = z.looseObject({
  space: z.string().min(1),
  externalId: z.string().min(1),
  properties: z.record(z.string(), z.looseObject({ type: z.looseObject({ type: z.string() }) })),
});

export const containerRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/models/containers',
    write: true,
    handle: ({ state, body, now }) => {
      const items = parseBody(itemsBody(containerWrite), body).items;
      for (const item of items) requireSpace(state.spaces, item.space);
      return { items: items.map((item) => upsertItem(state.containers, dmsKey(item), item, now)) };
    },
  },
  {
    method: 'POST',
    path: '/models/containers/byids',
    write: false,
    handle: ({ state, body }) => ({
      items: byIds(state.containers, parseBody(itemsBody(containerId), body).items.map(dmsKey)),
    }),
  },
  {
    method: 'GET',
    path: '/models/containers',
    write: false,
    handle: ({ state, query }) => listDms(state.containers, query, false),
  },
  {
    method: 'POST',
    path: '/models/containers/delete',
    write: true,
    handle: ({ state, body }) =>
      deleteByIds(state.containers, parseBody(itemsBody(containerId), body).items, dmsKey, (id) => ({
        space: id.space,
        externalId: id.externalId,
      })),
  },
  {
    // `cdf clean` asks which views still map a container before deleting it.
    method: 'POST',
    path: '/models/containers/inspect',
    write: false,
    handle: ({ state, body }) => ({
      items: parseBody(itemsBody(containerId), body).items.map((id) => {
        const views = Object.values(state.views)
          .filter((v) =>
            ((v.mappedContainers as Array<{ space: string; externalId: string }> | undefined) ?? []).some(
              (c) => c.space === id.space && c.externalId === id.externalId,
            ),
          )
          .map((v) => ({ space: v.space, externalId: v.externalId, version: v.version, type: 'view' }));
        return {
          space: id.space,
          externalId: id.externalId,
          inspectionResults: { involvedViewCount: views.length, involvedViews: views },
        };
      }),
    }),
  },
];

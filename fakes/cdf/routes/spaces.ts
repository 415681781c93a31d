import { z } from 'zod';
import { itemsBody, parseBody } from '../body';
import type { ProjectRoute } from '../route';
import { byIds, deleteByIds, dmsKey, listDms, spaceId, upsertItem } from './dms-common';

const spaceWrite = z.looseObject({
  space: z.string().min(1),
  name: z.string().nullable().optional(),
  description: z.string().nullable().optional(),
});

export const spaceRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/models/spaces',
    write: true,
    handle: ({ state, body, now }) => ({
      items: parseBody(itemsBody(spaceWrite), body).items.map((item) =>
        upsertItem(state.spaces, dmsKey(item), item, now),
      ),
    }),
  },
  {
    method: 'POST',
    path: '/models/spaces/byids',
    write: false,
    handle: ({ state, body }) => ({
      items: byIds(state.spaces, parseBody(itemsBody(spaceId), body).items.map(dmsKey)),
    }),
  },
  {
    method: 'GET',
    path: '/models/spaces',
    write: false,
    handle: ({ state, query }) => listDms(state.spaces, query, false),
  },
  {
    method: 'POST',
    path: '/models/spaces/delete',
    write: true,
    handle: ({ state, body }) =>
      deleteByIds(state.spaces, parseBody(itemsBody(spaceId), body).items, dmsKey, (id) => ({
        space: id.space,
      })),
  },
];

import { z } from 'zod';
import { badRequest } from '../api-error';
import { itemsBody, parseBody } from '../body';
import type { ProjectRoute } from '../route';
import {
  byIds,
  deleteByIds,
  dmsKey,
  isSystemSpace,
  listDms,
  requireSpace,
  upsertItem,
  versionedId,
} from './dms-common';

const viewRef = z.looseObject({
  space: z.string().min(1),
  externalId: z.string().min(1),
  version: z.string().min(1),
});

const dataModelWrite = z.looseObject({
  space: z.string().min(1),
  externalId: z.string().min(1),
  version: z.string().min(1),
  views: z.array(viewRef).optional(),
});

export const dataModelRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/models/datamodels',
    write: true,
    handle: ({ state, body, now }) => {
      const items = parseBody(itemsBody(dataModelWrite), body).items;
      for (const item of items) {
        requireSpace(state.spaces, item.space);
        const missing = (item.views ?? []).filter((v) => !isSystemSpace(v.space) && !state.views[dmsKey(v)]);
        if (missing.length > 0) {
          throw badRequest(`Data model ${item.space}:${item.externalId} references views that do not exist`, {
            missing: missing.map((v) => ({
              space: v.space,
              externalId: v.externalId,
              version: v.version,
              type: 'view',
            })),
          });
        }
      }
      // Always store references: inline view definitions are not supported by the fake CDF.
      return {
        items: items.map((item) => {
          const fields =
            item.views === undefined
              ? item
              : {
                  ...item,
                  views: item.views.map((v) => ({
                    space: v.space,
                    externalId: v.externalId,
                    version: v.version,
                    type: 'view',
                  })),
                };
          return upsertItem(state.dataModels, dmsKey(item), fields, now);
        }),
      };
    },
  },
  {
    method: 'POST',
    path: '/models/datamodels/byids',
    write: false,
    handle: ({ state, body }) => ({
      items: byIds(state.dataModels, parseBody(itemsBody(versionedId), body).items.map(dmsKey)),
    }),
  },
  {
    method: 'GET',
    path: '/models/datamodels',
    write: false,
    handle: ({ state, query }) => listDms(state.dataModels, query, true),
  },
  {
    method: 'POST',
    path: '/models/datamodels/delete',
    write: true,
    handle: ({ state, body }) =>
      deleteByIds(state.dataModels, parseBody(itemsBody(versionedId), body).items, dmsKey, (id) => ({
        space: id.space,
        externalId: id.externalId,
        version: id.version,
      })),
  },
];

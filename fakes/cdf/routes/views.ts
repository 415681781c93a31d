import { z } from 'zod';
import { badRequest } from '../api-error';
import { itemsBody, parseBody } from '../body';
import type { ProjectRoute } from '../route';
import type { JsonObject, ProjectState } from '../state-store';
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

const containerRef = z.looseObject({ space: z.string(), externalId: z.string() });

const viewWrite = z.looseObject({
  space: z.string().min(1),
  externalId: z.string().min(1),
  version: z.string().min(1),
  properties: z.record(z.string(), z.looseObject({})).optional(),
});
type ViewWrite = z.infer<typeof viewWrite>;

const mappedProperty = z.looseObject({
  container: containerRef,
  containerPropertyIdentifier: z.string(),
});

/**
 * Adds what CDF derives for a view: each container-backed property gets the
 * container property's type, plus the view-level read-only flags.
 */
function resolveView(state: ProjectState, view: ViewWrite): JsonObject {
  const properties: JsonObject = {};
  const mapped = new Map<string, { space: string; externalId: string; type: 'container' }>();
  for (const [name, prop] of Object.entries(view.properties ?? {})) {
    const parsed = mappedProperty.safeParse(prop);
    // Connection properties (edges, reverse direct relations) have no container; echo them.
    if (!parsed.success) {
      properties[name] = prop;
      continue;
    }
    const { container, containerPropertyIdentifier } = parsed.data;
    const stored = state.containers[dmsKey(container)];
    const containerProps = stored?.properties as Record<string, JsonObject> | undefined;
    const containerProp = containerProps?.[containerPropertyIdentifier];
    if (!containerProp && !isSystemSpace(container.space)) {
      throw badRequest(
        `View ${view.space}:${view.externalId}/${view.version} property ${name} maps to ` +
          `${container.space}:${container.externalId}.${containerPropertyIdentifier}, which does not exist`,
        { missing: [{ space: container.space, externalId: container.externalId, type: 'container' }] },
      );
    }
    properties[name] = {
      ...prop,
      ...(containerProp ? { type: containerProp.type } : {}),
      constraintState: {},
    };
    mapped.set(dmsKey(container), {
      space: container.space,
      externalId: container.externalId,
      type: 'container',
    });
  }
  return {
    ...view,
    properties,
    writable: true,
    queryable: true,
    usedFor: 'node',
    isGlobal: false,
    mappedContainers: [...mapped.values()],
  };
}

export const viewRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/models/views',
    write: true,
    handle: ({ state, body, now }) => {
      const items = parseBody(itemsBody(viewWrite), body).items;
      for (const item of items) requireSpace(state.spaces, item.space);
      const resolved = items.map((item) => resolveView(state, item));
      return {
        items: resolved.map((item, i) => upsertItem(state.views, dmsKey(items[i]!), item, now)),
      };
    },
  },
  {
    method: 'POST',
    path: '/models/views/byids',
    write: false,
    handle: ({ state, body }) => ({
      items: byIds(state.views, parseBody(itemsBody(versionedId), body).items.map(dmsKey)),
    }),
  },
  {
    method: 'GET',
    path: '/models/views',
    write: false,
    handle: ({ state, query }) => listDms(state.views, query, true),
  },
  {
    method: 'POST',
    path: '/models/views/delete',
    write: true,
    handle: ({ state, body }) =>
      deleteByIds(state.views, parseBody(itemsBody(versionedId), body).items, dmsKey, (id) => ({
        space: id.space,
        externalId: id.externalId,
        version: id.version,
      })),
  },
];

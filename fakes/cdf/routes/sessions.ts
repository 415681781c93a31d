import { z } from 'zod';
import { parseBody } from '../body';
import type { ProjectRoute } from '../route';
import type { IdResource } from '../state-store';

export const sessionRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/sessions',
    write: true,
    handle: ({ state, body, now, nextId }) => {
      const items = parseBody(z.looseObject({ items: z.array(z.looseObject({})) }), body).items;
      return {
        items: items.map(() => {
          // Secrets in the request (clientSecret) are deliberately not stored.
          const session: IdResource = {
            id: nextId(),
            nonce: 'sandbox-nonce',
            status: 'READY',
            createdTime: now,
            lastUpdatedTime: now,
          };
          state.sessions[String(session.id)] = session;
          return { id: session.id, nonce: session.nonce, status: session.status };
        }),
      };
    },
  },
];

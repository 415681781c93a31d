/**
 * Minimal in-test CDF API for the Toolkit stand-in's end-to-end test, independent of sandbox/server.ts:
 * token/inspect, byids, create/upsert, update and delete for the kinds in the fixture project.
 */
import * as http from 'http';
import { type AddressInfo } from 'net';
import { gunzipSync } from 'zlib';

type Item = Record<string, unknown>;

export interface FakeCdf {
  url: string;
  project: string;
  requests: Array<{ method: string; path: string; gzip: boolean; body: unknown }>;
  store: Map<string, Map<string, Item>>;
  /** Capabilities per ACL; tests remove WRITE to check "Able to deploy: No". */
  acl: Record<string, string[]>;
  /** Path suffix → status to fail with. */
  failures: Map<string, number>;
  /** Path suffixes that never get an answer (client timeouts). */
  hangs: Set<string>;
  close(): Promise<void>;
}

const ID_FIELDS: Record<string, string[]> = {
  spaces: ['space'],
  containers: ['space', 'externalId'],
  views: ['space', 'externalId', 'version'],
  datamodels: ['space', 'externalId', 'version'],
  transformations: ['externalId'],
  assets: ['externalId'],
  datasets: ['externalId'],
};

const key = (kind: string, item: Item): string => JSON.stringify((ID_FIELDS[kind] ?? []).map((f) => item[f]));

export async function startFakeCdf(project = 'sandbox'): Promise<FakeCdf> {
  const store = new Map<string, Map<string, Item>>(Object.keys(ID_FIELDS).map((k) => [k, new Map()]));
  const requests: FakeCdf['requests'] = [];
  const failures = new Map<string, number>();
  const hangs = new Set<string>();
  const acl: Record<string, string[]> = {
    dataModelsAcl: ['READ', 'WRITE'],
    transformationsAcl: ['READ', 'WRITE'],
    assetsAcl: ['READ', 'WRITE'],
    datasetsAcl: ['READ', 'WRITE', 'OWNER'],
  };
  let nextId = 1000;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      const text = raw.length ? (gzip ? gunzipSync(raw) : raw).toString('utf8') : '';
      const body = (text ? JSON.parse(text) : {}) as { items?: Item[] };
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? '', path: url.pathname, gzip, body });
      const send = (status: number, payload: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      for (const suffix of hangs) if (url.pathname.endsWith(suffix)) return;
      for (const [suffix, status] of failures) {
        if (url.pathname.endsWith(suffix))
          return send(status, { error: { code: status, message: 'Injected failure' } });
      }
      if (url.pathname === '/api/v1/token/inspect') {
        return send(200, {
          subject: 'sandbox',
          projects: [{ projectUrlName: project, groups: [1] }],
          capabilities: Object.entries(acl).map(([name, actions]) => ({
            [name]: { actions, scope: { all: {} } },
            projectScope: { allProjects: {} },
          })),
        });
      }
      const prefix = `/api/v1/projects/${project}`;
      if (!url.pathname.startsWith(prefix))
        return send(404, { error: { code: 404, message: 'Unknown project' } });
      const parts = url.pathname.slice(prefix.length).split('/').filter(Boolean);
      if (parts[0] === 'models') parts.shift();
      const [kind = '', action = ''] = parts;
      const items = store.get(kind);
      if (!items) return send(404, { error: { code: 404, message: `No route ${url.pathname}` } });
      const reqItems = body.items ?? [];
      const now = Date.now();
      if (action === 'byids') {
        const found = reqItems.map((i) => items.get(key(kind, i))).filter((i): i is Item => !!i);
        return send(200, { items: found });
      }
      if (action === 'delete') {
        for (const i of reqItems) items.delete(key(kind, i));
        return send(200, {});
      }
      if (action === 'update') {
        const out: Item[] = [];
        for (const u of reqItems) {
          const existing = items.get(key(kind, u));
          if (!existing)
            return send(400, {
              error: { code: 400, message: 'Not found', missing: [{ externalId: u.externalId }] },
            });
          for (const [field, op] of Object.entries((u.update ?? {}) as Record<string, Item>)) {
            if ('setNull' in op) delete existing[field];
            else existing[field] = op.set;
          }
          existing.lastUpdatedTime = now;
          out.push(existing);
        }
        return send(200, { items: out });
      }
      if (action === '') {
        const out: Item[] = [];
        for (const i of reqItems) {
          const k = key(kind, i);
          const prev = items.get(k);
          const isDms = ['spaces', 'containers', 'views', 'datamodels'].includes(kind);
          if (prev && !isDms)
            return send(409, {
              error: { code: 409, message: 'Duplicate', duplicated: [{ externalId: i.externalId }] },
            });
          // Echo the request fields plus read-only fields, as the sandbox should.
          const stored: Item = { ...i, createdTime: prev?.createdTime ?? now, lastUpdatedTime: now };
          if (!isDms) stored.id = (prev?.id as number | undefined) ?? nextId++;
          if (kind === 'transformations') stored.isPublic = true;
          items.set(k, stored);
          out.push(stored);
        }
        return send(200, { items: out });
      }
      return send(404, { error: { code: 404, message: `No route ${url.pathname}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    project,
    requests,
    store,
    acl,
    failures,
    hangs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

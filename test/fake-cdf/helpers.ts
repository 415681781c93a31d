import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { FakeCdfAdmin } from '../../fakes/cdf/admin-client';
import { startFakeCdf, type RunningFakeCdf, type FakeCdfOptions } from '../../fakes/cdf/server';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestFakeCdf {
  server: RunningFakeCdf;
  admin: FakeCdfAdmin;
  logs: LogLine[];
  stateFile: string;
  dir: string;
  /** Project-scoped CDF URL, e.g. `${api}/models/spaces`. */
  api: string;
  restart(overrides?: Partial<FakeCdfOptions>): Promise<void>;
  stop(): Promise<void>;
}

export const PINO_WARN = 40;

export async function startTestFakeCdf(overrides: Partial<FakeCdfOptions> = {}): Promise<TestFakeCdf> {
  const dir = mkdtempSync(join(tmpdir(), 'fake-cdf-test-'));
  const stateFile = join(dir, 'nested', 'state.json');
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  );
  const start = (o: Partial<FakeCdfOptions>) => startFakeCdf({ port: 0, stateFile, logger, ...o });
  const t: TestFakeCdf = {
    server: await start(overrides),
    admin: undefined as unknown as FakeCdfAdmin,
    logs,
    stateFile,
    dir,
    api: '',
    async restart(o = overrides) {
      await t.server.close();
      t.server = await start(o);
      bind();
    },
    async stop() {
      await t.server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const bind = () => {
    t.admin = new FakeCdfAdmin(t.server.url);
    t.api = `${t.server.url}/api/v1/projects/sandbox`;
  };
  bind();
  return t;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string | null;
  gzip?: boolean;
  signal?: AbortSignal;
}

export async function call<T = any>(
  url: string,
  { method, body, token = 'tok', gzip = false, signal }: CallOptions = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | Buffer | undefined;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
    if (gzip) {
      headers['content-encoding'] = 'gzip';
      payload = gzipSync(payload);
    }
  }
  const res = await fetch(url, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** A minimal valid space + container + view + data model set, as the Toolkit would deploy it. */
export async function deployModel(api: string): Promise<void> {
  const ok = async (path: string, body: unknown) => {
    const res = await call(`${api}${path}`, { body });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
  };
  await ok('/models/spaces', { items: [{ space: 'sp', name: 'Space' }] });
  await ok('/models/containers', {
    items: [
      {
        space: 'sp',
        externalId: 'Pump',
        usedFor: 'node',
        properties: { name: { type: { type: 'text' }, nullable: true } },
      },
    ],
  });
  await ok('/models/views', {
    items: [
      {
        space: 'sp',
        externalId: 'Pump',
        version: 'v1',
        properties: {
          name: {
            container: { space: 'sp', externalId: 'Pump', type: 'container' },
            containerPropertyIdentifier: 'name',
          },
        },
      },
    ],
  });
  await ok('/models/datamodels', {
    items: [
      {
        space: 'sp',
        externalId: 'Model',
        version: '1',
        name: 'Model',
        views: [{ space: 'sp', externalId: 'Pump', version: 'v1', type: 'view' }],
      },
    ],
  });
}

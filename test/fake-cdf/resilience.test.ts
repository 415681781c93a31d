import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeCdf } from '../../fakes/cdf/server';
import { call, PINO_WARN, startTestFakeCdf, type TestFakeCdf } from './helpers';

describe('fake-cdf: persistence', () => {
  let t: TestFakeCdf;
  beforeEach(async () => {
    t = await startTestFakeCdf();
  });
  afterEach(() => t.stop());

  it('keeps state across a restart with the same state file', async () => {
    await call(`${t.api}/models/spaces`, { body: { items: [{ space: 'kept' }] } });
    await call(`${t.api}/datasets`, { body: { items: [{ externalId: 'ds', name: 'DS' }] } });
    await t.restart();
    const spaces = await call(`${t.api}/models/spaces/byids`, { body: { items: [{ space: 'kept' }] } });
    expect(spaces.body.items).toEqual([expect.objectContaining({ space: 'kept' })]);
    // Ids keep increasing after a restart, so old and new resources never collide.
    const ds = await call(`${t.api}/datasets/byids`, { body: { items: [{ externalId: 'ds' }] } });
    const created = await call(`${t.api}/datasets`, { body: { items: [{ externalId: 'ds2' }] } });
    expect(created.body.items[0].id).toBeGreaterThan(ds.body.items[0].id);
  });

  it('reset empties and persists the state', async () => {
    await call(`${t.api}/models/spaces`, { body: { items: [{ space: 'gone' }] } });
    await t.admin.reset();
    await t.restart();
    expect((await t.admin.state('sandbox')).spaces).toEqual({});
  });

  it('refuses to start on a corrupt state file and names it', async () => {
    const file = join(t.dir, 'corrupt.json');
    writeFileSync(file, '{"version":1,');
    await expect(startFakeCdf({ port: 0, stateFile: file })).rejects.toThrow(file);
  });
});

describe('fake-cdf: faults and unknown endpoints', () => {
  let t: TestFakeCdf;
  beforeAll(async () => {
    t = await startTestFakeCdf();
  });
  afterAll(() => t.stop());
  afterEach(() => t.admin.clearFaults());

  it('fails the next two matching requests with 503, then succeeds', async () => {
    await t.admin.addFault({
      method: 'POST',
      pathPattern: '^/models/spaces$',
      status: 503,
      count: 2,
      retryAfterSeconds: 1,
    });
    const body = { items: [{ space: 'f' }] };
    const first = await call(`${t.api}/models/spaces`, { body });
    expect(first.status).toBe(503);
    expect(first.body).toEqual({ error: { code: 503, message: 'Service Unavailable (injected fault)' } });
    expect(first.headers.get('retry-after')).toBe('1');
    // A non-matching method is unaffected and does not consume the fault.
    expect((await call(`${t.api}/models/spaces`)).status).toBe(200);
    expect((await call(`${t.api}/models/spaces`, { body })).status).toBe(503);
    expect((await call(`${t.api}/models/spaces`, { body })).status).toBe(200);
  });

  it('delays with latencyMs and then answers normally', async () => {
    await t.admin.addFault({ pathPattern: '^/models/spaces$', latencyMs: 250 });
    const started = Date.now();
    const res = await call(`${t.api}/models/spaces`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('hangs a request without answering, and close() still terminates', async () => {
    const own = await startTestFakeCdf();
    await own.admin.addFault({ pathPattern: 'token/inspect', hang: true, count: -1 });
    await expect(
      call(`${own.server.url}/api/v1/token/inspect`, { signal: AbortSignal.timeout(300) }),
    ).rejects.toThrow();
    const pending = call(`${own.server.url}/api/v1/token/inspect`);
    pending.catch(() => undefined);
    const requests = await own.admin.requests();
    expect(requests.filter((r) => r.path === '/api/v1/token/inspect').every((r) => r.status === null)).toBe(
      true,
    );
    const started = Date.now();
    await own.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(pending).rejects.toThrow();
  });

  it('answers unknown endpoints with 404 JSON and logs a warning', async () => {
    const res = await call(`${t.api}/timeseries/list`, { body: {} });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 404,
        message: 'fake-cdf: unknown endpoint POST /api/v1/projects/sandbox/timeseries/list',
      },
    });
    expect(t.logs).toContainEqual(
      expect.objectContaining({
        level: PINO_WARN,
        method: 'POST',
        path: '/api/v1/projects/sandbox/timeseries/list',
      }),
    );
  });

  it('rejects unknown projects and missing tokens', async () => {
    expect((await call(`${t.server.url}/api/v1/projects/other/models/spaces`)).status).toBe(403);
    const anon = await call(`${t.api}/models/spaces`, { token: null });
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe(401);
  });

  it('never records Authorization headers in the request log', async () => {
    await call(`${t.api}/models/spaces`, { token: 'secret-token-value' });
    expect(JSON.stringify(await t.admin.requests())).not.toContain('secret-token-value');
  });
});

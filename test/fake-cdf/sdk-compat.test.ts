import { CogniteClient } from '@cognite/sdk';
import { call, deployModel, startTestFakeCdf, type TestFakeCdf } from './helpers';

describe('fake-cdf: @cognite/sdk compatibility', () => {
  let t: TestFakeCdf;
  let client: CogniteClient;

  beforeAll(async () => {
    t = await startTestFakeCdf();
    client = new CogniteClient({
      appId: 'test',
      project: 'sandbox',
      baseUrl: t.server.url,
      oidcTokenProvider: async () => 'tok',
    });
  });
  afterAll(() => t.stop());

  it('retrieves a data model upserted via raw HTTP', async () => {
    await deployModel(t.api);
    const models = await client.dataModels.retrieve([{ space: 'sp', externalId: 'Model', version: '1' }]);
    expect(models.items).toHaveLength(1);
    expect(models.items[0]).toMatchObject({
      space: 'sp',
      externalId: 'Model',
      version: '1',
      isGlobal: false,
      views: [{ space: 'sp', externalId: 'Pump', version: 'v1', type: 'view' }],
    });
  });

  it('lists assets with a limit and follows the cursor', async () => {
    const items = Array.from({ length: 7 }, (_, i) => ({ externalId: `a${i}`, name: `A${i}` }));
    expect((await call(`${t.api}/assets`, { body: { items } })).status).toBe(201);
    const page = await client.assets.list({ limit: 5 });
    expect(page.items.map((a) => a.externalId)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(page.nextCursor).toEqual(expect.any(String));
    const all = await client.assets.list({ limit: 5 }).autoPagingToArray({ limit: 100 });
    expect(all).toHaveLength(7);
  });

  it('reads transformation jobs through client.get', async () => {
    await call(`${t.api}/transformations`, {
      body: { items: [{ externalId: 'x', name: 'X', query: 'select 1', destination: { type: 'assets' } }] },
    });
    const res = await client.get<{ items: { status: string; transformationExternalId: string }[] }>(
      '/api/v1/projects/sandbox/transformations/jobs',
      { params: { transformationExternalId: 'x' } },
    );
    expect(res.status).toBe(200);
    expect(res.data.items).toEqual([
      expect.objectContaining({ status: 'Completed', transformationExternalId: 'x' }),
    ]);
  });

  it('lets the SDK retry a 429 fault on assets.list until it succeeds', async () => {
    await t.admin.clearRequests();
    await t.admin.addFault({ method: 'POST', pathPattern: '^/assets/list$', status: 429, count: 2 });
    const page = await client.assets.list({ limit: 1 });
    expect(page.items).toHaveLength(1);
    const statuses = (await t.admin.requests())
      .filter((r) => r.path.endsWith('/assets/list'))
      .map((r) => r.status);
    expect(statuses).toEqual([429, 429, 200]);
    expect(await t.admin.faults()).toEqual([]);
  });
});

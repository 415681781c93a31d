import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { call, deployModel, startTestFakeCdf, type TestFakeCdf } from './helpers';

function rawRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { ...headers, 'content-length': String(body?.length ?? 0) },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('fake-cdf: data modeling endpoints', () => {
  let t: TestFakeCdf;
  beforeAll(async () => {
    t = await startTestFakeCdf();
    await deployModel(t.api);
  });
  afterAll(() => t.stop());

  it('accepts gzip-compressed request bodies', async () => {
    const res = await call(`${t.api}/models/spaces`, {
      body: { items: [{ space: 'gz', description: 'zipped' }] },
      gzip: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.items[0]).toMatchObject({ space: 'gz', description: 'zipped' });
  });

  it('ignores Content-Encoding: gzip on a GET without a body, and decodes a gzipped {} on a GET', async () => {
    const headers = { authorization: 'Bearer tok', 'content-encoding': 'gzip' };
    expect(await rawRequest(`${t.api}/models/spaces`, 'GET', headers)).toBe(200);
    // fetch refuses GET bodies, but the Toolkit sends them, so use node:http directly.
    expect(await rawRequest(`${t.api}/models/spaces`, 'GET', headers, gzipSync('{}'))).toBe(200);
  });

  it('byids returns only the found items for missing ids', async () => {
    const res = await call(`${t.api}/models/views/byids`, {
      body: {
        items: [
          { space: 'sp', externalId: 'Pump', version: 'v1' },
          { space: 'sp', externalId: 'Nope', version: 'v1' },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.items.map((v: { externalId: string }) => v.externalId)).toEqual(['Pump']);
    const none = await call(`${t.api}/models/spaces/byids`, { body: { items: [{ space: 'missing' }] } });
    expect(none).toMatchObject({ status: 200, body: { items: [] } });
  });

  it('echoes container fields verbatim without adding defaults', async () => {
    const res = await call(`${t.api}/models/containers/byids`, {
      body: { items: [{ space: 'sp', externalId: 'Pump' }] },
    });
    expect(Object.keys(res.body.items[0]).sort()).toEqual(
      ['createdTime', 'externalId', 'isGlobal', 'lastUpdatedTime', 'properties', 'space', 'usedFor'].sort(),
    );
    expect(res.body.items[0].properties).toEqual({ name: { type: { type: 'text' }, nullable: true } });
  });

  it('derives view property types and read-only view fields from the mapped container', async () => {
    const res = await call(`${t.api}/models/views/byids?includeInheritedProperties=true`, {
      body: { items: [{ space: 'sp', externalId: 'Pump', version: 'v1' }] },
    });
    expect(res.body.items[0]).toEqual({
      space: 'sp',
      externalId: 'Pump',
      version: 'v1',
      properties: {
        name: {
          container: { space: 'sp', externalId: 'Pump', type: 'container' },
          containerPropertyIdentifier: 'name',
          type: { type: 'text' },
          constraintState: {},
        },
      },
      createdTime: expect.any(Number),
      lastUpdatedTime: expect.any(Number),
      writable: true,
      queryable: true,
      usedFor: 'node',
      isGlobal: false,
      mappedContainers: [{ space: 'sp', externalId: 'Pump', type: 'container' }],
    });
  });

  it('rejects a view mapping a container property that does not exist, leaving state untouched', async () => {
    const res = await call(`${t.api}/models/views`, {
      body: {
        items: [
          {
            space: 'sp',
            externalId: 'Broken',
            version: 'v1',
            properties: {
              x: {
                container: { space: 'sp', externalId: 'Pump', type: 'container' },
                containerPropertyIdentifier: 'x',
              },
            },
          },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 400,
      missing: [{ space: 'sp', externalId: 'Pump', type: 'container' }],
    });
    const state = await t.admin.state('sandbox');
    expect(Object.values(state.views).map((v) => v.externalId)).toEqual(['Pump']);
  });

  it('lists only the latest data model version unless allVersions=true, with cursor paging', async () => {
    await call(`${t.api}/models/datamodels`, {
      body: { items: [{ space: 'sp', externalId: 'Model', version: '2' }] },
    });
    const latest = await call(`${t.api}/models/datamodels?space=sp`);
    expect(latest.body.items.map((m: { version: string }) => m.version)).toEqual(['2']);
    const first = await call(`${t.api}/models/datamodels?space=sp&allVersions=true&limit=1`);
    expect(first.body.items).toHaveLength(1);
    const second = await call(
      `${t.api}/models/datamodels?space=sp&allVersions=true&limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items).toHaveLength(1);
    expect(second.body.nextCursor).toBeUndefined();
    expect(second.body.items[0].version).not.toBe(first.body.items[0].version);
  });

  it('deletes only existing items and reports them', async () => {
    const res = await call(`${t.api}/models/datamodels/delete`, {
      body: {
        items: [
          { space: 'sp', externalId: 'Model', version: '2' },
          { space: 'sp', externalId: 'X', version: '1' },
        ],
      },
    });
    expect(res.body).toEqual({ items: [{ space: 'sp', externalId: 'Model', version: '2' }] });
  });
});

import { call, startTestFakeCdf, type TestFakeCdf } from './helpers';

describe('fake-cdf: auth and token endpoints', () => {
  let t: TestFakeCdf;
  beforeAll(async () => {
    t = await startTestFakeCdf({ projects: ['sandbox', 'prod'] });
  });
  afterAll(() => t.stop());

  it('issues tokens for client credentials, readonly-prefixed for readonly clients', async () => {
    const form = (clientId: string) =>
      fetch(`${t.server.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: 's',
          scope: 'x',
        }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const full = await form('deployer');
    expect(full).toEqual({
      status: 200,
      body: {
        access_token: expect.stringMatching(/^sandbox-deployer-/),
        token_type: 'Bearer',
        expires_in: 3600,
      },
    });
    const ro = await form('readonly-dryrun');
    expect(ro.body.access_token).toMatch(/^readonly/);
    const inspect = await call(`${t.server.url}/api/v1/token/inspect`, {
      token: String(ro.body.access_token),
    });
    expect(JSON.stringify(inspect.body.capabilities)).not.toContain('WRITE');
  });

  it('token/inspect lists every project and full capabilities for normal tokens', async () => {
    const res = await call(`${t.server.url}/api/v1/token/inspect`);
    expect(res.body.subject).toBe('sandbox');
    expect(res.body.projects).toEqual([
      { projectUrlName: 'sandbox', groups: [1] },
      { projectUrlName: 'prod', groups: [1] },
    ]);
    expect(res.body.capabilities).toContainEqual({
      dataModelsAcl: { actions: ['READ', 'WRITE'], scope: { all: {} } },
      projectScope: { allProjects: {} },
    });
    const ro = await call(`${t.server.url}/api/v1/token/inspect`, { token: 'readonly-x' });
    expect(ro.body.capabilities).toContainEqual({
      dataModelsAcl: { actions: ['READ'], scope: { all: {} } },
      projectScope: { allProjects: {} },
    });
    expect(ro.body.capabilities).toContainEqual({
      sessionsAcl: { actions: ['LIST'], scope: { all: {} } },
      projectScope: { allProjects: {} },
    });
  });

  it('lets readonly tokens read but not write', async () => {
    expect((await call(`${t.api}/models/spaces`, { token: 'readonly-x' })).status).toBe(200);
    const write = await call(`${t.api}/models/spaces`, {
      token: 'readonly-x',
      body: { items: [{ space: 'no' }] },
    });
    expect(write.status).toBe(403);
    expect(
      (
        await call(`${t.api}/models/spaces/byids`, {
          token: 'readonly-x',
          body: { items: [{ space: 'no' }] },
        })
      ).body.items,
    ).toEqual([]);
  });

  it('serves project metadata and a 404 for profiles/me', async () => {
    expect((await call(`${t.server.url}/api/v1/projects/prod`)).body).toEqual({
      name: 'prod',
      urlName: 'prod',
      organization: 'sandbox-org',
      userProfilesConfiguration: { enabled: false },
    });
    expect((await call(`${t.api}/profiles/me`)).status).toBe(404);
  });
});

describe('fake-cdf: transformations', () => {
  let t: TestFakeCdf;
  beforeAll(async () => {
    t = await startTestFakeCdf();
  });
  afterAll(() => t.stop());

  const create = (items: unknown[]) => call(`${t.api}/transformations`, { body: { items } });

  it('creates with defaults, hides credentials and auto-runs a Completed job', async () => {
    const res = await create([
      {
        externalId: 'tr-ok',
        name: 'OK',
        query: 'select 1',
        destination: { type: 'assets' },
        sourceOidcCredentials: { clientId: 'a', clientSecret: 'super-secret' },
      },
    ]);
    expect(res.status).toBe(201);
    const item = res.body.items[0];
    expect(item).toMatchObject({
      externalId: 'tr-ok',
      conflictMode: 'upsert',
      isPublic: true,
      owner: { user: 'sandbox' },
      ownerIsCurrentUser: true,
      hasSourceOidcCredentials: true,
      hasDestinationOidcCredentials: false,
    });
    expect(JSON.stringify(await t.admin.state())).not.toContain('super-secret');
    const jobs = await call(`${t.api}/transformations/jobs?transformationExternalId=tr-ok`);
    expect(jobs.body.items).toEqual([
      expect.objectContaining({ status: 'Completed', transformationId: item.id, sourceProject: 'sandbox' }),
    ]);
  });

  it('records a Failed job for SANDBOX_FAIL and exposes it via withJobDetails', async () => {
    await create([
      { externalId: 'tr-bad', name: 'Bad', query: 'select SANDBOX_FAIL', destination: { type: 'assets' } },
    ]);
    const res = await call(`${t.api}/transformations/byids`, {
      body: { items: [{ externalId: 'tr-bad' }], withJobDetails: true },
    });
    expect(res.body.items[0].lastFinishedJob).toMatchObject({
      status: 'Failed',
      error: 'fake-cdf: simulated failure',
    });
  });

  it('rejects duplicate externalIds with 409 and unknown ids with 400 missing', async () => {
    const dup = await create([{ externalId: 'tr-ok', name: 'again' }]);
    expect(dup.status).toBe(409);
    expect(dup.body.error.duplicated).toEqual([{ externalId: 'tr-ok' }]);
    const missing = await call(`${t.api}/transformations/byids`, {
      body: { items: [{ externalId: 'ghost' }] },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.missing).toEqual([{ externalId: 'ghost' }]);
    const ignored = await call(`${t.api}/transformations/byids`, {
      body: { items: [{ externalId: 'ghost' }], ignoreUnknownIds: true },
    });
    expect(ignored.body.items).toEqual([]);
  });

  it('updates with set/setNull, records a new job, and lists newest job first', async () => {
    const res = await call(`${t.api}/transformations/update`, {
      body: {
        items: [
          { externalId: 'tr-ok', update: { query: { set: 'select 2' }, dataSetId: { setNull: true } } },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.items[0].query).toBe('select 2');
    const jobs = await call(`${t.api}/transformations/jobs?transformationExternalId=tr-ok&limit=1`);
    expect(jobs.body.items).toHaveLength(1);
    expect(jobs.body.items[0].query).toBe('select 2');
  });

  it('accepts admin-injected jobs', async () => {
    const job = await t.admin.addTransformationJob('sandbox', 'tr-ok', {
      status: 'Failed',
      finishedTime: Date.now() + 1000,
      error: 'boom',
    });
    expect(job).toMatchObject({ status: 'Failed', error: 'boom', transformationExternalId: 'tr-ok' });
    const jobs = await call(`${t.api}/transformations/jobs?transformationExternalId=tr-ok`);
    expect(jobs.body.items[0].id).toBe(job.id);
  });

  it('rolls back a partially applied batch update', async () => {
    const jobsBefore = (await call(`${t.api}/transformations/jobs`)).body.items.length;
    const res = await call(`${t.api}/transformations/update`, {
      body: {
        items: [
          { externalId: 'tr-ok', update: { name: { set: 'renamed' } } },
          { externalId: 'tr-bad', update: { externalId: { set: 'tr-ok' } } },
        ],
      },
    });
    expect(res.status).toBe(409);
    const after = await call(`${t.api}/transformations/byids`, {
      body: { items: [{ externalId: 'tr-ok' }] },
    });
    expect(after.body.items[0].name).toBe('OK');
    expect((await call(`${t.api}/transformations/jobs`)).body.items).toHaveLength(jobsBefore);
  });

  it('deletes', async () => {
    expect(
      (await call(`${t.api}/transformations/delete`, { body: { items: [{ externalId: 'tr-bad' }] } })).status,
    ).toBe(200);
    const list = await call(`${t.api}/transformations`);
    expect(list.body.items.map((x: { externalId: string }) => x.externalId)).toEqual(['tr-ok']);
  });

  it('does not record jobs when autoRunTransformations is false', async () => {
    const own = await startTestFakeCdf({ autoRunTransformations: false });
    await call(`${own.api}/transformations`, { body: { items: [{ externalId: 'q', name: 'Q' }] } });
    expect((await call(`${own.api}/transformations/jobs`)).body.items).toEqual([]);
    await own.stop();
  });
});

describe('fake-cdf: assets and data sets', () => {
  let t: TestFakeCdf;
  beforeAll(async () => {
    t = await startTestFakeCdf();
  });
  afterAll(() => t.stop());

  it('resolves parentExternalId within the batch and against existing assets', async () => {
    const first = await call(`${t.api}/assets`, {
      body: {
        items: [
          { externalId: 'child', name: 'Child', parentExternalId: 'root' },
          { externalId: 'root', name: 'Root', metadata: { k: 'v' } },
        ],
      },
    });
    expect(first.status).toBe(201);
    const [child, root] = first.body.items;
    expect(root).not.toHaveProperty('parentId');
    expect(root).toMatchObject({ rootId: root.id, metadata: { k: 'v' } });
    expect(child).toMatchObject({ parentId: root.id, rootId: root.id, parentExternalId: 'root' });
    const second = await call(`${t.api}/assets`, {
      body: { items: [{ externalId: 'grandchild', name: 'GC', parentExternalId: 'child' }] },
    });
    expect(second.body.items[0]).toMatchObject({ parentId: child.id, rootId: root.id });
  });

  it('rejects duplicates and unknown parents without partial writes', async () => {
    const dup = await call(`${t.api}/assets`, { body: { items: [{ externalId: 'root', name: 'x' }] } });
    expect(dup.status).toBe(409);
    const orphan = await call(`${t.api}/assets`, {
      body: {
        items: [
          { externalId: 'ok', name: 'ok' },
          { externalId: 'o', name: 'o', parentExternalId: 'nope' },
        ],
      },
    });
    expect(orphan.status).toBe(400);
    expect(orphan.body.error.missing).toEqual([{ externalId: 'nope' }]);
    const list = await call(`${t.api}/assets/list`, { body: { limit: 100 } });
    expect(list.body.items.map((a: { externalId: string }) => a.externalId)).toEqual([
      'child',
      'root',
      'grandchild',
    ]);
  });

  it('re-parents a subtree via update and recomputes rootId for descendants', async () => {
    await call(`${t.api}/assets`, { body: { items: [{ externalId: 'root2', name: 'Root2' }] } });
    const res = await call(`${t.api}/assets/update`, {
      body: {
        items: [
          {
            externalId: 'child',
            update: { parentExternalId: { set: 'root2' }, description: { set: 'moved' } },
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    const byIds = await call(`${t.api}/assets/byids`, {
      body: { items: [{ externalId: 'root2' }, { externalId: 'grandchild' }] },
    });
    const [root2, gc] = byIds.body.items;
    expect(gc.rootId).toBe(root2.id);
  });

  it('supports GET /assets with limit', async () => {
    const res = await call(`${t.api}/assets?limit=2`);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.nextCursor).toEqual(expect.any(String));
  });

  it('creates, retrieves, updates and lists data sets', async () => {
    const created = await call(`${t.api}/datasets`, { body: { items: [{ externalId: 'ds', name: 'DS' }] } });
    expect(created.body.items[0]).toMatchObject({
      externalId: 'ds',
      name: 'DS',
      metadata: {},
      writeProtected: false,
    });
    const updated = await call(`${t.api}/datasets/update`, {
      body: { items: [{ externalId: 'ds', update: { description: { set: 'd' } } }] },
    });
    expect(updated.body.items[0].description).toBe('d');
    const missing = await call(`${t.api}/datasets/byids`, { body: { items: [{ externalId: 'nope' }] } });
    expect(missing.status).toBe(400);
    const list = await call(`${t.api}/datasets/list`, { body: { limit: 10 } });
    expect(list.body.items).toHaveLength(1);
  });

  it('creates sessions', async () => {
    const res = await call(`${t.api}/sessions`, { body: { items: [{ clientId: 'a', clientSecret: 'b' }] } });
    expect(res.body.items).toEqual([{ id: expect.any(Number), nonce: 'sandbox-nonce', status: 'READY' }]);
  });
});

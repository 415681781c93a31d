/** `cdf deploy` and `cdf clean` as in Toolkit 0.8.x deploy_v2 (see toolkit-cli-http-calls.md §3). */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  Crash,
  IDENTIFIER_FIELDS,
  KINDS_BY_FOLDER,
  TOOLKIT_VERSION,
  ToolkitError,
  isPlainObject,
  sourceHash,
} from './common';
import { ApiError, CdfClient, apiCrash, rawRequest } from './http';
import { type SummaryRow, renderPanel, renderSummary } from './render';

export interface DeployOptions {
  buildDir: string;
  dryRun: boolean;
  cdfProject?: string;
  verbose: boolean;
  include: string[];
  forceUpdate: boolean;
}

type Item = Record<string, unknown>;

interface TypeDef {
  kind: string;
  folder: string;
  displayName: string;
  acl: string;
  retrievePath: string;
  retrieveExtra: Item;
  createPath: string;
  createBatch: number;
  /** DMS kinds upsert through the create endpoint; the others use /update with {set}. */
  updatePath?: string;
  deletePath?: string;
  deleteExtra: Item;
}

const TYPES: TypeDef[] = [
  {
    kind: 'DataSet',
    folder: 'data_sets',
    displayName: 'data sets',
    acl: 'datasetsAcl',
    retrievePath: '/datasets/byids',
    retrieveExtra: { ignoreUnknownIds: true },
    createPath: '/datasets',
    createBatch: 10,
    updatePath: '/datasets/update',
    deleteExtra: {},
  },
  {
    kind: 'Space',
    folder: 'data_modeling',
    displayName: 'spaces',
    acl: 'dataModelsAcl',
    retrievePath: '/models/spaces/byids',
    retrieveExtra: {},
    createPath: '/models/spaces',
    createBatch: 100,
    deletePath: '/models/spaces/delete',
    deleteExtra: {},
  },
  {
    kind: 'Container',
    folder: 'data_modeling',
    displayName: 'containers',
    acl: 'dataModelsAcl',
    retrievePath: '/models/containers/byids',
    retrieveExtra: {},
    createPath: '/models/containers',
    createBatch: 50,
    deletePath: '/models/containers/delete',
    deleteExtra: {},
  },
  {
    kind: 'View',
    folder: 'data_modeling',
    displayName: 'views',
    acl: 'dataModelsAcl',
    retrievePath: '/models/views/byids?includeInheritedProperties=false',
    retrieveExtra: {},
    createPath: '/models/views',
    createBatch: 50,
    deletePath: '/models/views/delete',
    deleteExtra: {},
  },
  {
    kind: 'DataModel',
    folder: 'data_modeling',
    displayName: 'data models',
    acl: 'dataModelsAcl',
    retrievePath: '/models/datamodels/byids?inlineViews=false',
    retrieveExtra: {},
    createPath: '/models/datamodels',
    createBatch: 100,
    deletePath: '/models/datamodels/delete',
    deleteExtra: {},
  },
  {
    kind: 'Transformation',
    folder: 'transformations',
    displayName: 'transformations',
    acl: 'transformationsAcl',
    retrievePath: '/transformations/byids',
    retrieveExtra: { ignoreUnknownIds: true, withJobDetails: false },
    createPath: '/transformations',
    createBatch: 20,
    updatePath: '/transformations/update',
    deletePath: '/transformations/delete',
    deleteExtra: { ignoreUnknownIds: true },
  },
  {
    kind: 'Asset',
    folder: 'classic',
    displayName: 'assets',
    acl: 'assetsAcl',
    retrievePath: '/assets/byids',
    retrieveExtra: { ignoreUnknownIds: true },
    createPath: '/assets',
    createBatch: 1000,
    updatePath: '/assets/update',
    deletePath: '/assets/delete',
    deleteExtra: { ignoreUnknownIds: true },
  },
];

interface LocalResource {
  def: TypeDef;
  raw: Item;
  file: string;
  key: string;
  id: Item;
}

function idOf(kind: string, item: Item): Item {
  const id: Item = {};
  for (const f of IDENTIFIER_FIELDS[kind] ?? []) id[f] = item[f];
  return id;
}

function keyOf(kind: string, item: Item): string {
  return JSON.stringify((IDENTIFIER_FIELDS[kind] ?? []).map((f) => String(item[f])));
}

function idDisplay(kind: string, id: Item): string {
  const f = IDENTIFIER_FIELDS[kind] ?? [];
  if (f.length === 1) return String(id[f[0] ?? '']);
  const base = `${String(id.space)}:${String(id.externalId)}`;
  return id.version !== undefined ? `${base}(version=${String(id.version)})` : base;
}

/** Recursive key restriction: extra server-side keys are treated as tolerated defaults. */
function restrictTo(server: unknown, local: unknown): unknown {
  if (isPlainObject(server) && isPlainObject(local)) {
    const out: Item = {};
    for (const k of Object.keys(local)) if (k in server) out[k] = restrictTo(server[k], local[k]);
    return out;
  }
  if (Array.isArray(server) && Array.isArray(local)) return server.map((s, i) => restrictTo(s, local[i]));
  return server;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isPlainObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

/** Line diff in unified style (`-` CDF, `+` local), like toolkit utils.to_diff over sorted YAML dumps. */
export function lineDiff(cdf: unknown, local: unknown): string {
  const a = stringifyYaml(sortKeys(cdf), { lineWidth: 0 }).trimEnd().split('\n');
  const b = stringifyYaml(sortKeys(local), { lineWidth: 0 }).trimEnd().split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const row = lcs[i] as number[];
      row[j] =
        a[i] === b[j] ? (lcs[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(lcs[i + 1]?.[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const out = ['--- ', '+++ ', `@@ -1,${n} +1,${m} @@`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      out.push(` ${a[i]}`);
      i++;
      j++;
    } else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // Removals before additions, as difflib prints them.
      out.push(`-${a[i]}`);
      i++;
    } else {
      out.push(`+${b[j]}`);
      j++;
    }
  }
  return out.join('\n');
}

function readBuild(buildDir: string, include: string[]): { lineage: Item; resources: LocalResource[] } {
  const lineagePath = path.join(buildDir, 'lineage.yaml');
  if (!fs.existsSync(lineagePath)) {
    throw new ToolkitError(
      'ToolkitFileNotFoundError',
      `Could not find ${lineagePath}. Did you forget to run cdf build first?`,
    );
  }
  const lineage = parseYaml(fs.readFileSync(lineagePath, 'utf8')) as Item;
  const changed: string[] = [];
  for (const mod of (lineage.moduleLineage as Item[] | undefined) ?? []) {
    for (const r of (mod.resourceLineage as Item[] | undefined) ?? []) {
      const file = String(r.sourceFile);
      if (!fs.existsSync(file) || sourceHash(file) !== r.sourceHash) changed.push(file);
    }
  }
  if (changed.length) {
    throw new ToolkitValidationError(
      `Source files have changed since the build: ${[...new Set(changed)].join(', ')}. Please rebuild the project with cdf build.`,
    );
  }
  const folders = new Set(TYPES.map((t) => t.folder));
  for (const inc of include) {
    if (!folders.has(inc))
      throw new ToolkitError(
        'ToolkitValueError',
        `Invalid resource folder ${inc} in --include. Valid: ${[...folders].join(', ')}`,
      );
  }
  const resources: LocalResource[] = [];
  for (const folder of Object.keys(KINDS_BY_FOLDER)) {
    if (include.length && !include.includes(folder)) continue;
    const dir = path.join(buildDir, folder);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      const m = /^(.*)\.([A-Za-z]+)\.ya?ml$/.exec(name);
      const def = m
        ? TYPES.find((t) => t.folder === folder && t.kind.toLowerCase() === (m[2] ?? '').toLowerCase())
        : undefined;
      if (!m || !def) continue;
      const file = path.join(dir, name);
      const raw = parseYaml(fs.readFileSync(file, 'utf8')) as unknown;
      if (!isPlainObject(raw))
        throw new ToolkitError('ToolkitYAMLFormatError', `${file} does not hold a mapping`);
      if (def.kind === 'Transformation' && raw.query === undefined) {
        const sql = path.join(dir, `${m[1]}.sql`);
        if (fs.existsSync(sql)) raw.query = fs.readFileSync(sql, 'utf8');
      }
      resources.push({ def, raw, file, key: keyOf(def.kind, raw), id: idOf(def.kind, raw) });
    }
  }
  return { lineage, resources };
}

class ToolkitValidationError extends ToolkitError {
  constructor(msg: string) {
    super('ToolkitValidationError', msg);
  }
}

async function getToken(): Promise<string> {
  const flow = process.env.LOGIN_FLOW || 'client_credentials';
  const timeoutMs = timeout();
  if (flow === 'token') {
    if (!process.env.CDF_TOKEN)
      throw new ToolkitError('ToolkitMissingValueError', 'CDF_TOKEN is required for LOGIN_FLOW=token');
    return process.env.CDF_TOKEN;
  }
  if (flow === 'client_credentials') {
    const { IDP_CLIENT_ID: id, IDP_CLIENT_SECRET: secret, IDP_TOKEN_URL: url } = process.env;
    if (!id || !secret || !url) {
      throw new ToolkitError(
        'ToolkitMissingValueError',
        'IDP_CLIENT_ID, IDP_CLIENT_SECRET and IDP_TOKEN_URL are required for LOGIN_FLOW=client_credentials',
      );
    }
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_id: id,
      client_secret: secret,
    };
    const scopes =
      process.env.IDP_SCOPES ?? (process.env.CDF_URL ? `${process.env.CDF_URL}/.default` : undefined);
    if (scopes) form.scope = scopes.split(',').join(' ');
    if (process.env.IDP_AUDIENCE) form.audience = process.env.IDP_AUDIENCE;
    let res: unknown;
    try {
      res = await rawRequest('POST', url, undefined, timeoutMs, undefined, form);
    } catch (e) {
      if (e instanceof ApiError)
        throw new ToolkitError(
          'AuthenticationError',
          `Failed to get a token from ${url}: ${e.status} ${e.apiMessage}`,
        );
      throw e;
    }
    const token = (res as { access_token?: unknown }).access_token;
    if (typeof token !== 'string')
      throw new ToolkitError('AuthenticationError', `No access_token in the response from ${url}`);
    return token;
  }
  throw new ToolkitError(
    'ToolkitValueError',
    `LOGIN_FLOW=${flow} is not supported by the stand-in (use token or client_credentials)`,
  );
}

function timeout(): number {
  const s = Number(process.env.CDF_CLIENT_TIMEOUT ?? '30');
  return (Number.isFinite(s) && s > 0 ? s : 30) * 1000;
}

async function makeClient(): Promise<CdfClient> {
  const project = process.env.CDF_PROJECT;
  if (!project)
    throw new ToolkitError('ToolkitMissingValueError', 'CDF_PROJECT environment variable is not set');
  const base =
    process.env.CDF_URL ||
    (process.env.CDF_CLUSTER ? `https://${process.env.CDF_CLUSTER}.cognitedata.com` : undefined);
  if (!base)
    throw new ToolkitError(
      'ToolkitMissingValueError',
      'CDF_URL or CDF_CLUSTER environment variable is not set',
    );
  return new CdfClient({
    baseUrl: base.replace(/\/+$/, ''),
    project,
    token: await getToken(),
    timeoutMs: timeout(),
  });
}

/** Actions per ACL for the project, from token/inspect (capabilities without a matching projectScope are ignored). */
async function aclActions(client: CdfClient): Promise<Map<string, Set<string>>> {
  let res: unknown;
  try {
    res = await client.tokenInspect();
  } catch (e) {
    throw e instanceof ApiError ? apiCrash(e) : e;
  }
  const r = res as { projects?: Array<{ projectUrlName?: string }>; capabilities?: Item[] };
  if (!(r.projects ?? []).some((p) => p.projectUrlName === client.project)) {
    throw new Crash(`ValueError: Project ${client.project} not found in inspect response`);
  }
  const out = new Map<string, Set<string>>();
  for (const cap of r.capabilities ?? []) {
    const scope = cap.projectScope as { allProjects?: unknown; projects?: string[] } | undefined;
    if (!scope || !(scope.allProjects !== undefined || (scope.projects ?? []).includes(client.project)))
      continue;
    for (const [k, v] of Object.entries(cap)) {
      if (k === 'projectScope' || !isPlainObject(v)) continue;
      const set = out.get(k) ?? new Set<string>();
      for (const a of (v.actions as string[] | undefined) ?? []) set.add(a);
      out.set(k, set);
    }
  }
  return out;
}

function validateProject(opts: DeployOptions, lineage: Item, envProject: string): void {
  if (opts.cdfProject !== undefined) {
    if (opts.cdfProject !== envProject) {
      throw new ToolkitValidationError(
        `The CDF project '${opts.cdfProject}' given with --cdf-project does not match the project of the credentials '${envProject}'.`,
      );
    }
    return;
  }
  const built = lineage.cdfProject;
  if (typeof built === 'string' && built !== envProject) {
    throw new ToolkitValidationError(
      `The build was made for CDF project '${built}', but the credentials are for '${envProject}'.`,
    );
  }
  if (built === null || built === undefined) {
    // The real CLI prompts here; the stand-in never reads stdin.
    throw new ToolkitValidationError(
      'The build has no CDF project recorded; pass --cdf-project (the stand-in never prompts).',
    );
  }
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** dataSetExternalId → dataSetId, as TransformationIO/AssetIO.load_resource do through the SDK lookup. */
class DataSetLookup {
  private byXid = new Map<string, number>();
  private byId = new Map<number, string>();
  constructor(private readonly client: CdfClient) {}

  async load(xids: string[]): Promise<void> {
    const missing = [...new Set(xids)].filter((x) => !this.byXid.has(x));
    if (!missing.length) return;
    let items: Item[];
    try {
      items = await this.client.postItems('/datasets/byids', {
        items: missing.map((externalId) => ({ externalId })),
        ignoreUnknownIds: true,
      });
    } catch (e) {
      throw e instanceof ApiError ? apiCrash(e) : e;
    }
    for (const it of items) {
      if (typeof it.externalId === 'string' && typeof it.id === 'number') {
        this.byXid.set(it.externalId, it.id);
        this.byId.set(it.id, it.externalId);
      }
    }
  }

  id(xid: string): number | undefined {
    return this.byXid.get(xid);
  }

  xid(id: unknown): string | undefined {
    return typeof id === 'number' ? this.byId.get(id) : undefined;
  }
}

function toRequest(
  r: LocalResource,
  lookup: DataSetLookup,
  dryRun: boolean,
  warn: (s: string) => void,
): Item {
  const req: Item = { ...r.raw };
  if (typeof req.dataSetExternalId === 'string') {
    const id = lookup.id(req.dataSetExternalId);
    if (id === undefined && !dryRun)
      warn(`Data set ${req.dataSetExternalId} does not exist; dataSetId is set to null.`);
    req.dataSetId = id ?? (dryRun ? -1 : null);
    delete req.dataSetExternalId;
  }
  if (r.def.kind === 'Transformation') {
    req.conflictMode ??= 'upsert';
    req.ignoreNullFields ??= true;
  }
  return req;
}

/** Server item as the local YAML would spell it (dataSetId back to dataSetExternalId). */
function dumpServer(server: Item, local: Item, lookup: DataSetLookup): Item {
  const s: Item = { ...server };
  if ('dataSetExternalId' in local && 'dataSetId' in s) {
    s.dataSetExternalId = lookup.xid(s.dataSetId) ?? null;
    delete s.dataSetId;
  }
  return restrictTo(s, local) as Item;
}

function updateBody(req: Item, _kind: string): Item {
  const update: Item = {};
  for (const [k, v] of Object.entries(req)) {
    if (k === 'externalId' || k === 'id') continue;
    update[k] = v === null ? { setNull: true } : { set: v };
  }
  return { externalId: req.externalId, update };
}

async function send(
  client: CdfClient,
  p: string,
  items: Item[],
  batch: number,
  action: 'create' | 'update',
  type: TypeDef,
): Promise<void> {
  for (const chunk of chunks(items, batch)) {
    try {
      await client.post(p, { items: chunk });
    } catch (e) {
      if (e instanceof ApiError) {
        throw new ToolkitError(
          action === 'create' ? 'ResourceCreationError' : 'ResourceUpdateError',
          `Failed to ${action} ${chunk.length} ${type.displayName} due to API error: ${e.status} ${e.apiMessage}`,
        );
      }
      throw e;
    }
  }
}

async function retrieve(client: CdfClient, def: TypeDef, ids: Item[]): Promise<Item[]> {
  const found: Item[] = [];
  for (const chunk of chunks(ids, 100)) {
    try {
      found.push(...(await client.postItems(def.retrievePath, { items: chunk, ...def.retrieveExtra })));
    } catch (e) {
      throw e instanceof ApiError ? apiCrash(e) : e;
    }
  }
  return found;
}

function setupPanel(
  op: 'deploy' | 'clean',
  project: string,
  buildDir: string,
  resources: LocalResource[],
): string {
  const types = new Set(resources.map((r) => r.def.kind));
  const dirs = new Set(resources.map((r) => r.def.folder));
  const lines = [
    `Target project: '${project}'`,
    `Toolkit version: ${TOOLKIT_VERSION}`,
    `Build path: ${path.relative(process.cwd(), buildDir) || '.'}/`,
    '',
    'Processed build directory:',
    `  ✓ ${dirs.size} resource directories`,
    `  ✓ ${resources.length} resource files`,
    '',
  ];
  if (resources.length === 0) lines.push(`No resources to ${op}.`);
  else
    lines.push(
      'Plan:',
      `  ✓ ${types.size} resource types to ${op}`,
      `  ✓ ${resources.length} resource files to ${op}`,
    );
  return renderPanel(`Setting up ${op} operation`, lines);
}

export async function runDeploy(opts: DeployOptions, out: (s: string) => void): Promise<void> {
  const buildDir = path.resolve(opts.buildDir);
  const { lineage, resources } = readBuild(buildDir, opts.include);
  const client = await makeClient();
  validateProject(opts, lineage, client.project);
  out(setupPanel('deploy', client.project, buildDir, resources));

  const lookup = new DataSetLookup(client);
  const rows: SummaryRow[] = [];
  let acls: Map<string, Set<string>> | undefined;
  for (const def of TYPES) {
    const locals = resources.filter((r) => r.def === def);
    if (!locals.length) continue;
    acls ??= await aclActions(client);
    const actions = acls.get(def.acl) ?? new Set<string>();
    if (!actions.has('READ')) {
      throw new ToolkitError(
        'AuthorizationError',
        `Missing READ access (${def.acl}) needed to deploy ${def.displayName} to '${client.project}'.`,
      );
    }
    const missingWrite = !actions.has('WRITE');
    if (missingWrite && !opts.dryRun) {
      throw new ToolkitError(
        'AuthorizationError',
        `Missing WRITE access (${def.acl}) needed to deploy ${def.displayName} to '${client.project}'.`,
      );
    }
    const xids = locals.map((l) => l.raw.dataSetExternalId).filter((x): x is string => typeof x === 'string');
    await lookup.load(xids);

    const server = await retrieve(
      client,
      def,
      locals.map((l) => l.id),
    );
    const serverByKey = new Map(server.map((s) => [keyOf(def.kind, s), s]));
    const toCreate: Item[] = [];
    const toUpdate: Item[] = [];
    let unchanged = 0;
    for (const l of locals) {
      const s = serverByKey.get(l.key);
      const req = toRequest(l, lookup, opts.dryRun, (w) => out(`WARNING: ${w}\n`));
      if (!s) {
        toCreate.push(req);
        continue;
      }
      const cdfDict = dumpServer(s, l.raw, lookup);
      if (!opts.forceUpdate && deepEqual(cdfDict, l.raw)) {
        unchanged++;
        continue;
      }
      toUpdate.push(req);
      if (opts.verbose) {
        out(
          renderPanel(
            `${def.displayName}: ${idDisplay(def.kind, l.id)}`,
            lineDiff(cdfDict, l.raw).split('\n'),
            { expand: false },
          ),
        );
      }
    }
    if (!opts.dryRun) {
      if (toCreate.length) await send(client, def.createPath, toCreate, def.createBatch, 'create', def);
      if (toUpdate.length) {
        if (def.updatePath) {
          await send(
            client,
            def.updatePath,
            toUpdate.map((u) => updateBody(u, def.kind)),
            def.createBatch,
            'update',
            def,
          );
        } else {
          await send(client, def.createPath, toUpdate, def.createBatch, 'update', def);
        }
      }
    }
    rows.push({
      resource: def.displayName,
      created: toCreate.length,
      updated: toUpdate.length,
      deleted: 0,
      unchanged,
      skipped: 0,
      missingWriteAcl: missingWrite,
    });
  }
  out(renderSummary(rows, 'deploy', opts.dryRun));
  out(opts.dryRun ? 'Finished dry-run.\n' : 'Finished deploying.\n');
}

export async function runClean(opts: DeployOptions, out: (s: string) => void): Promise<void> {
  const buildDir = path.resolve(opts.buildDir);
  const { lineage, resources } = readBuild(buildDir, opts.include);
  const client = await makeClient();
  validateProject(opts, lineage, client.project);
  out(setupPanel('clean', client.project, buildDir, resources));
  const rows: SummaryRow[] = [];
  let acls: Map<string, Set<string>> | undefined;
  for (const def of [...TYPES].reverse()) {
    const locals = resources.filter((r) => r.def === def);
    if (!locals.length) continue;
    acls ??= await aclActions(client);
    const actions = acls.get(def.acl) ?? new Set<string>();
    if (!actions.has('READ')) {
      throw new ToolkitError(
        'AuthorizationError',
        `Missing READ access (${def.acl}) needed to clean ${def.displayName} in '${client.project}'.`,
      );
    }
    const missingWrite = !actions.has('WRITE');
    if (missingWrite && !opts.dryRun) {
      throw new ToolkitError(
        'AuthorizationError',
        `Missing WRITE access (${def.acl}) needed to clean ${def.displayName} in '${client.project}'.`,
      );
    }
    const server = await retrieve(
      client,
      def,
      locals.map((l) => l.id),
    );
    const existing = locals.filter((l) => server.some((s) => keyOf(def.kind, s) === l.key));
    // Data sets cannot be deleted in CDF.
    const skipped = def.deletePath ? 0 : existing.length;
    const toDelete = def.deletePath ? existing : [];
    if (!opts.dryRun && def.deletePath && toDelete.length) {
      for (const chunk of chunks(toDelete, 100)) {
        try {
          await client.post(def.deletePath, { items: chunk.map((l) => l.id), ...def.deleteExtra });
        } catch (e) {
          if (e instanceof ApiError) {
            throw new ToolkitError(
              'ResourceDeleteError',
              `Failed to delete ${chunk.length} ${def.displayName} due to API error: ${e.status} ${e.apiMessage}`,
            );
          }
          throw e;
        }
      }
    }
    if (!toDelete.length && !skipped) continue;
    rows.push({
      resource: def.displayName,
      created: 0,
      updated: 0,
      deleted: toDelete.length,
      unchanged: 0,
      skipped,
      missingWriteAcl: missingWrite,
    });
  }
  out(renderSummary(rows, 'clean', opts.dryRun));
  out(opts.dryRun ? 'Finished dry-run.\n' : 'Finished cleaning.\n');
}

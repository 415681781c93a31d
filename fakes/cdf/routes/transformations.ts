import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../api-error';
import {
  applyClassicUpdate,
  assertNoDuplicateExternalIds,
  classicIdentifier,
  classicUpdateBody,
  identOf,
  parseBody,
  resolveClassic,
} from '../body';
import { paginate } from '../pagination';
import type { ProjectRoute, RouteContext } from '../route';
import type { IdResource, JobStatus, JsonObject, ProjectState, TransformationJob } from '../state-store';

// Credentials are write-only in CDF: they are never echoed, only reflected as has*Credentials flags.
const SOURCE_CREDENTIAL_FIELDS = ['sourceOidcCredentials', 'sourceNonce', 'sourceApiKey'];
const DESTINATION_CREDENTIAL_FIELDS = ['destinationOidcCredentials', 'destinationNonce', 'destinationApiKey'];
const CREDENTIAL_FIELDS = [...SOURCE_CREDENTIAL_FIELDS, ...DESTINATION_CREDENTIAL_FIELDS];

const UPDATABLE_FIELDS = [
  'externalId',
  'name',
  'query',
  'destination',
  'conflictMode',
  'ignoreNullFields',
  'isPublic',
  'dataSetId',
  'tags',
  ...CREDENTIAL_FIELDS,
];

export const SIMULATED_FAILURE_MARKER = 'SANDBOX_FAIL';

const transformationWrite = z.looseObject({
  externalId: z.string().min(1),
  name: z.string().min(1),
  query: z.string().optional(),
  destination: z.unknown().optional(),
  conflictMode: z.string().optional(),
  ignoreNullFields: z.boolean().optional(),
  isPublic: z.boolean().optional(),
  dataSetId: z.number().int().nullable().optional(),
});

const byIdsBody = z.looseObject({
  items: z.array(classicIdentifier),
  ignoreUnknownIds: z.boolean().optional(),
  withJobDetails: z.boolean().optional(),
});

const jobInput = z.object({
  status: z.enum(['Completed', 'Failed', 'Running', 'Created']),
  startedTime: z.number().int().optional(),
  finishedTime: z.number().int().optional(),
  error: z.string().optional(),
});
export type JobInput = z.infer<typeof jobInput>;

/**
 * Removes credential fields from the echoed shape, recording only their presence.
 * `setNull` in an update arrives here as a field that was deleted, hence `wasTouched`.
 */
function stripCredentials(
  target: JsonObject,
  present: { source: boolean; destination: boolean },
  wasTouched: (field: string) => boolean = (f) => f in target,
): void {
  const has = (f: string) => target[f] !== null && target[f] !== undefined;
  for (const f of SOURCE_CREDENTIAL_FIELDS) if (wasTouched(f)) present.source = has(f);
  for (const f of DESTINATION_CREDENTIAL_FIELDS) if (wasTouched(f)) present.destination = has(f);
  for (const f of CREDENTIAL_FIELDS) delete target[f];
}

function withJobDetails(state: ProjectState, t: IdResource): IdResource {
  const jobs = jobsFor(state, t.id);
  const lastFinishedJob = jobs.find((j) => j.status === 'Completed' || j.status === 'Failed');
  const runningJob = jobs.find((j) => j.status === 'Running' || j.status === 'Created');
  return {
    ...t,
    ...(lastFinishedJob ? { lastFinishedJob } : {}),
    ...(runningJob ? { runningJob } : {}),
  };
}

function jobsFor(state: ProjectState, transformationId: number): TransformationJob[] {
  return state.transformationJobs
    .filter((j) => j.transformationId === transformationId)
    .sort((a, b) => b.createdTime - a.createdTime || b.id - a.id);
}

export function recordJob(
  ctx: Pick<RouteContext, 'state' | 'project' | 'now' | 'nextId'>,
  t: IdResource,
  input: JobInput,
): TransformationJob {
  const finished = input.status === 'Completed' || input.status === 'Failed';
  const startedTime = input.startedTime ?? (input.status === 'Created' ? undefined : ctx.now);
  const finishedTime = input.finishedTime ?? (finished ? ctx.now : undefined);
  const job: TransformationJob = {
    id: ctx.nextId(),
    uuid: randomUUID(),
    transformationId: t.id,
    transformationExternalId: String(t.externalId),
    sourceProject: ctx.project,
    destinationProject: ctx.project,
    destination: t.destination,
    conflictMode: t.conflictMode,
    query: t.query,
    ignoreNullFields: t.ignoreNullFields,
    status: input.status,
    createdTime: Math.min(ctx.now, startedTime ?? ctx.now, finishedTime ?? ctx.now),
    ...(startedTime !== undefined ? { startedTime } : {}),
    ...(finishedTime !== undefined ? { finishedTime } : {}),
    lastSeenTime: finishedTime ?? ctx.now,
    ...(input.error !== undefined ? { error: input.error } : {}),
  };
  ctx.state.transformationJobs.push(job);
  return job;
}

/** Stands in for the CDF scheduler so post-deploy checks see a finished run. */
function simulateRun(ctx: RouteContext, t: IdResource): void {
  if (!ctx.autoRunTransformations) return;
  const fails = [t.name, t.query].some((v) => typeof v === 'string' && v.includes(SIMULATED_FAILURE_MARKER));
  recordJob(
    ctx,
    t,
    fails ? { status: 'Failed', error: 'fake-cdf: simulated failure' } : { status: 'Completed' },
  );
}

function filterTransformations(items: IdResource[], filter: JsonObject | undefined): IdResource[] {
  if (!filter) return items;
  return items.filter((t) => {
    if (typeof filter.isPublic === 'boolean' && t.isPublic !== filter.isPublic) return false;
    if (typeof filter.nameRegex === 'string' && !new RegExp(filter.nameRegex).test(String(t.name)))
      return false;
    if (typeof filter.destinationType === 'string') {
      const dest = t.destination as JsonObject | undefined;
      if (dest?.type !== filter.destinationType) return false;
    }
    if (Array.isArray(filter.dataSetIds)) {
      const ids = (filter.dataSetIds as JsonObject[]).map((d) => d.id);
      if (!ids.includes(t.dataSetId)) return false;
    }
    return true;
  });
}

export const transformationRoutes: ProjectRoute[] = [
  {
    method: 'POST',
    path: '/transformations',
    write: true,
    status: 201,
    handle: (ctx) => {
      const items = parseBody(z.looseObject({ items: z.array(transformationWrite) }), ctx.body).items;
      assertNoDuplicateExternalIds(
        ctx.state.transformations,
        items.map((i) => i.externalId),
      );
      const created = items.map((item) => {
        const fields: JsonObject = { ...item };
        if (fields.destination !== undefined) fields.destination = withoutNulls(fields.destination);
        const creds = { source: false, destination: false };
        stripCredentials(fields, creds);
        const t: IdResource = {
          ...fields,
          id: ctx.nextId(),
          conflictMode: item.conflictMode ?? 'upsert',
          isPublic: item.isPublic ?? true,
          ignoreNullFields: item.ignoreNullFields ?? false,
          owner: { user: 'sandbox' },
          ownerIsCurrentUser: true,
          hasSourceOidcCredentials: creds.source,
          hasDestinationOidcCredentials: creds.destination,
          createdTime: ctx.now,
          lastUpdatedTime: ctx.now,
        };
        ctx.state.transformations[String(t.id)] = t;
        simulateRun(ctx, t);
        return t;
      });
      return { items: created };
    },
  },
  {
    method: 'POST',
    path: '/transformations/byids',
    write: false,
    handle: ({ state, body }) => {
      const req = parseBody(byIdsBody, body);
      const found = resolveClassic(state.transformations, req.items, req.ignoreUnknownIds ?? false);
      return { items: req.withJobDetails ? found.map((t) => withJobDetails(state, t)) : found };
    },
  },
  {
    method: 'POST',
    path: '/transformations/update',
    write: true,
    handle: (ctx) => {
      const req = parseBody(classicUpdateBody, ctx.body);
      const targets = resolveClassic(ctx.state.transformations, req.items.map(identOf), false);
      const updated = req.items.map((item, i) => {
        const current = targets[i]!;
        const next: JsonObject = { ...current };
        applyClassicUpdate(next, item.update, UPDATABLE_FIELDS);
        if (next.destination !== undefined) next.destination = withoutNulls(next.destination);
        const creds = {
          source: current.hasSourceOidcCredentials === true,
          destination: current.hasDestinationOidcCredentials === true,
        };
        stripCredentials(next, creds, (f) => f in item.update);
        if (next.externalId !== current.externalId) {
          const clash = Object.values(ctx.state.transformations).find(
            (t) => t.id !== current.id && t.externalId === next.externalId,
          );
          if (clash) {
            throw new ApiError(409, 'Duplicate external ids', {
              duplicated: [{ externalId: next.externalId }],
            });
          }
        }
        const t: IdResource = {
          ...next,
          id: current.id,
          hasSourceOidcCredentials: creds.source,
          hasDestinationOidcCredentials: creds.destination,
          createdTime: current.createdTime,
          lastUpdatedTime: ctx.now,
        };
        ctx.state.transformations[String(t.id)] = t;
        simulateRun(ctx, t);
        return t;
      });
      return { items: updated };
    },
  },
  {
    method: 'POST',
    path: '/transformations/delete',
    write: true,
    handle: ({ state, body }) => {
      const req = parseBody(
        z.looseObject({ items: z.array(classicIdentifier), ignoreUnknownIds: z.boolean().optional() }),
        body,
      );
      const found = resolveClassic(state.transformations, req.items, req.ignoreUnknownIds ?? false);
      const ids = new Set(found.map((t) => t.id));
      for (const id of ids) delete state.transformations[String(id)];
      state.transformationJobs = state.transformationJobs.filter((j) => !ids.has(j.transformationId));
      return {};
    },
  },
  {
    method: 'GET',
    path: '/transformations',
    write: false,
    handle: ({ state, query }) => {
      const all = Object.values(state.transformations);
      const page = paginate(all, query.get('limit') ?? undefined, query.get('cursor') ?? undefined);
      if (query.get('withJobDetails') === 'true')
        page.items = page.items.map((t) => withJobDetails(state, t));
      return page;
    },
  },
  {
    method: 'POST',
    path: '/transformations/filter',
    write: false,
    handle: ({ state, body }) => {
      const req = parseBody(
        z.looseObject({
          filter: z.looseObject({}).optional(),
          limit: z.number().int().optional(),
          cursor: z.string().nullable().optional(),
        }),
        body,
      );
      const items = filterTransformations(Object.values(state.transformations), req.filter);
      return paginate(items, req.limit, req.cursor ?? undefined);
    },
  },
  {
    method: 'POST',
    path: '/transformations/run',
    write: true,
    handle: (ctx) => {
      const ident = parseBody(classicIdentifier, ctx.body);
      const [t] = resolveClassic(ctx.state.transformations, [ident], false);
      const status: JobStatus = ctx.autoRunTransformations ? 'Completed' : 'Created';
      const fails = [t!.name, t!.query].some(
        (v) => typeof v === 'string' && v.includes(SIMULATED_FAILURE_MARKER),
      );
      return fails && ctx.autoRunTransformations
        ? recordJob(ctx, t!, { status: 'Failed', error: 'fake-cdf: simulated failure' })
        : recordJob(ctx, t!, { status });
    },
  },
  {
    method: 'GET',
    path: '/transformations/jobs',
    write: false,
    handle: ({ state, query }) => {
      const xid = query.get('transformationExternalId');
      const idParam = query.get('transformationId');
      const jobs = state.transformationJobs
        .filter((j) => xid === null || j.transformationExternalId === xid)
        .filter((j) => idParam === null || j.transformationId === Number(idParam))
        .sort((a, b) => b.createdTime - a.createdTime || b.id - a.id);
      return paginate(jobs, query.get('limit') ?? undefined, query.get('cursor') ?? undefined);
    },
  },
];

export { jobInput };

export function addJobForAdmin(
  ctx: Pick<RouteContext, 'state' | 'project' | 'now' | 'nextId'>,
  externalId: string,
  body: unknown,
): TransformationJob {
  const input = parseBody(jobInput, body);
  const t = Object.values(ctx.state.transformations).find((x) => x.externalId === externalId);
  if (!t) throw new ApiError(404, `fake-cdf: no transformation ${externalId}`, { missing: [{ externalId }] });
  return recordJob(ctx, t, input);
}

/** CDF does not store null members of a destination; the Toolkit sends them (autoCreate, edgeType) on update. */
function withoutNulls(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as JsonObject).filter(([, v]) => v !== null));
}

import { ApiError } from '../api-error';
import type { FaultRegistry } from '../faults';
import type { RequestLog } from '../request-log';
import type { StateStore } from '../state-store';
import { addJobForAdmin } from './transformations';

export interface AdminDeps {
  store: StateStore;
  faults: FaultRegistry;
  requestLog: RequestLog;
}

export interface AdminRequest {
  method: string;
  /** Path below `/_fake-cdf`, e.g. `/faults`. */
  path: string;
  query: URLSearchParams;
  body: unknown;
}

const JOBS_PATH = /^\/projects\/([^/]+)\/transformations\/([^/]+)\/jobs$/;

/**
 * Control plane for tests. Deliberately unauthenticated and exempt from faults so
 * a test can always inspect and repair the fake CDF it is breaking.
 */
export function handleAdmin(deps: AdminDeps, req: AdminRequest): unknown {
  const { store, faults, requestLog } = deps;
  const route = `${req.method} ${req.path}`;
  switch (route) {
    case 'GET /health':
      return { ok: true };
    case 'GET /state': {
      const project = req.query.get('project');
      const snapshot = store.snapshot();
      if (project === null) return snapshot;
      const p = snapshot.projects[project];
      if (!p) throw new ApiError(404, `fake-cdf: unknown project ${project}`);
      return p;
    }
    case 'POST /reset':
      store.reset();
      return { ok: true };
    case 'GET /faults':
      return { items: faults.list() };
    case 'POST /faults':
      return { id: faults.add(req.body).id };
    case 'DELETE /faults':
      faults.clear();
      return { ok: true };
    case 'GET /requests':
      return { items: requestLog.list() };
    case 'DELETE /requests':
      requestLog.clear();
      return { ok: true };
  }
  const jobs = req.method === 'POST' ? JOBS_PATH.exec(req.path) : null;
  if (jobs?.[1] && jobs[2]) {
    const project = decodeURIComponent(jobs[1]);
    if (!store.hasProject(project)) throw new ApiError(404, `fake-cdf: unknown project ${project}`);
    const job = addJobForAdmin(
      { state: store.project(project), project, now: Date.now(), nextId: () => store.nextId() },
      decodeURIComponent(jobs[2]),
      req.body,
    );
    store.persist();
    return job;
  }
  throw new ApiError(404, `fake-cdf: unknown admin endpoint ${req.method} /_fake-cdf${req.path}`);
}

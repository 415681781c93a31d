import type { AccessLevel } from './auth';
import type { ProjectState } from './state-store';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteContext {
  project: string;
  access: AccessLevel;
  state: ProjectState;
  body: unknown;
  query: URLSearchParams;
  now: number;
  nextId(): number;
  autoRunTransformations: boolean;
}

/** A CDF endpoint below `/api/v1/projects/{project}`. */
export interface ProjectRoute {
  method: HttpMethod;
  /** Exact path relative to the project root, e.g. `/models/spaces/byids`. */
  path: string;
  /** Write routes are refused for readonly tokens and trigger a state flush. */
  write: boolean;
  status?: number;
  handle(ctx: RouteContext): unknown;
}

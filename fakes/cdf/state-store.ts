import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';

export type JsonObject = Record<string, unknown>;

/** A stored resource in the exact shape it is returned to clients. */
export type Resource = JsonObject & { createdTime: number; lastUpdatedTime: number };
export type IdResource = Resource & { id: number };

export type JobStatus = 'Completed' | 'Failed' | 'Running' | 'Created';

export interface TransformationJob {
  id: number;
  uuid: string;
  transformationId: number;
  transformationExternalId: string;
  sourceProject: string;
  destinationProject: string;
  destination: unknown;
  conflictMode: unknown;
  query: unknown;
  ignoreNullFields: unknown;
  status: JobStatus;
  createdTime: number;
  startedTime?: number;
  finishedTime?: number;
  lastSeenTime: number;
  error?: string;
}

export interface ProjectState {
  /** DMS resources keyed by their composite identifier (see `dmsKey`). */
  spaces: Record<string, Resource>;
  containers: Record<string, Resource>;
  views: Record<string, Resource>;
  dataModels: Record<string, Resource>;
  /** Classic resources keyed by numeric id (as a string: JSON object keys). */
  transformations: Record<string, IdResource>;
  transformationJobs: TransformationJob[];
  dataSets: Record<string, IdResource>;
  assets: Record<string, IdResource>;
  sessions: Record<string, IdResource>;
}

export interface SandboxState {
  version: 1;
  nextId: number;
  projects: Record<string, ProjectState>;
}

export function emptyProject(): ProjectState {
  return {
    spaces: {},
    containers: {},
    views: {},
    dataModels: {},
    transformations: {},
    transformationJobs: [],
    dataSets: {},
    assets: {},
    sessions: {},
  };
}

const PROJECT_KEYS = Object.keys(emptyProject()) as (keyof ProjectState)[];

/**
 * Owns the fake CDF's persistent state. Every mutation is flushed synchronously
 * (tmp file + rename) so a crash or kill never leaves a half-written file and a
 * restarted sandbox sees exactly what clients were told succeeded.
 */
export class StateStore {
  private state: SandboxState;

  constructor(
    private readonly file: string,
    private readonly projectNames: readonly string[],
  ) {
    this.state = this.load();
    this.ensureProjects();
  }

  get projects(): readonly string[] {
    return this.projectNames;
  }

  hasProject(name: string): boolean {
    return this.projectNames.includes(name);
  }

  project(name: string): ProjectState {
    const p = this.state.projects[name];
    if (!p) throw new Error(`fake-cdf: project ${name} is not configured`);
    return p;
  }

  /** Replaces a project's state wholesale; used to roll back a failed mutation. */
  restoreProject(name: string, snapshot: ProjectState): void {
    this.state.projects[name] = snapshot;
  }

  nextId(): number {
    const id = this.state.nextId;
    this.state.nextId += 1;
    return id;
  }

  snapshot(): SandboxState {
    return structuredClone(this.state);
  }

  reset(): void {
    this.state = { version: 1, nextId: 1, projects: {} };
    this.ensureProjects();
    this.persist();
  }

  persist(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2));
    renameSync(tmp, this.file);
  }

  private ensureProjects(): void {
    for (const name of this.projectNames) {
      const existing = this.state.projects[name];
      // Fill in collections added after the file was written, so old files keep loading.
      this.state.projects[name] = { ...emptyProject(), ...existing };
    }
  }

  private load(): SandboxState {
    if (!existsSync(this.file)) return { version: 1, nextId: 1, projects: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      throw new Error(
        `fake-cdf: state file ${this.file} is corrupt (not valid JSON): ${(err as Error).message}`,
      );
    }
    const problem = describeShapeProblem(parsed);
    if (problem) throw new Error(`fake-cdf: state file ${this.file} is corrupt: ${problem}`);
    return parsed as SandboxState;
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeShapeProblem(v: unknown): string | undefined {
  if (!isObject(v)) return 'top level is not an object';
  if (v.version !== 1) return `unsupported version ${JSON.stringify(v.version)}`;
  if (typeof v.nextId !== 'number' || !Number.isInteger(v.nextId)) return 'nextId is not an integer';
  if (!isObject(v.projects)) return 'projects is not an object';
  for (const [name, project] of Object.entries(v.projects)) {
    if (!isObject(project)) return `project ${name} is not an object`;
    for (const key of PROJECT_KEYS) {
      const value = project[key];
      if (value === undefined) continue;
      const ok = key === 'transformationJobs' ? Array.isArray(value) : isObject(value);
      if (!ok) return `project ${name}.${key} has the wrong type`;
    }
  }
  return undefined;
}

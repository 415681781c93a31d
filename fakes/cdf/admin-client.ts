import type { Fault, FaultSpec } from './faults';
import type { RequestLogEntry } from './request-log';
import type { JobStatus, ProjectState, SandboxState, TransformationJob } from './state-store';

export interface AddJobInput {
  status: JobStatus;
  startedTime?: number;
  finishedTime?: number;
  error?: string;
}

/** Typed client for the fake CDF's `/_fake-cdf` control plane, for tests and scripts. */
export class FakeCdfAdmin {
  private readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  state(): Promise<SandboxState>;
  state(project: string): Promise<ProjectState>;
  state(project?: string): Promise<SandboxState | ProjectState> {
    const query = project === undefined ? '' : `?project=${encodeURIComponent(project)}`;
    return this.call('GET', `/state${query}`);
  }

  async reset(): Promise<void> {
    await this.call('POST', '/reset');
  }

  async health(): Promise<boolean> {
    return (await this.call<{ ok: boolean }>('GET', '/health')).ok;
  }

  async addFault(fault: FaultSpec): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/faults', fault)).id;
  }

  async faults(): Promise<Fault[]> {
    return (await this.call<{ items: Fault[] }>('GET', '/faults')).items;
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', '/faults');
  }

  async requests(): Promise<RequestLogEntry[]> {
    return (await this.call<{ items: RequestLogEntry[] }>('GET', '/requests')).items;
  }

  async clearRequests(): Promise<void> {
    await this.call('DELETE', '/requests');
  }

  addTransformationJob(project: string, externalId: string, job: AddJobInput): Promise<TransformationJob> {
    return this.call(
      'POST',
      `/projects/${encodeURIComponent(project)}/transformations/${encodeURIComponent(externalId)}/jobs`,
      job,
    );
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}/_fake-cdf${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`fake CDF admin ${method} ${path} failed: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }
}

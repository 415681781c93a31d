export interface RequestLogEntry {
  time: string;
  method: string;
  path: string;
  project?: string;
  /** `null` while a request is hung by a fault and has not been answered. */
  status: number | null;
  durationMs?: number;
  faultId?: string;
}

/**
 * Bounded history of requests for tests and debugging. Only method, path and
 * outcome are kept: headers and bodies may carry credentials.
 */
export class RequestLog {
  private entries: RequestLogEntry[] = [];

  constructor(private readonly capacity = 500) {}

  add(entry: RequestLogEntry): RequestLogEntry {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return entry;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.entries = [];
  }
}

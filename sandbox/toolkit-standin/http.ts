/** The stand-in's CDF HTTP client: gzipped JSON like the Toolkit's httpx client, no retries. */
import { gzipSync } from 'zlib';
import { Crash } from './common';

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly apiMessage: string,
  ) {
    super(`${status} ${apiMessage}`);
  }
}

export interface CdfClientConfig {
  baseUrl: string;
  project: string;
  token: string;
  timeoutMs: number;
}

function networkCrash(e: unknown): Crash {
  const err = e as { name?: string; cause?: { code?: string; name?: string } };
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || err.cause?.name === 'TimeoutError') {
    return new Crash('httpx.ReadTimeout: timed out');
  }
  // Node reports refused connections either directly or inside an AggregateError (IPv4 + IPv6 attempts).
  const inner = (err.cause as { errors?: Array<{ code?: string }> } | undefined)?.errors ?? [];
  const code = err.cause?.code ?? inner.find((x) => x.code)?.code;
  if (code === 'ECONNREFUSED') return new Crash('httpx.ConnectError: [Errno 111] Connection refused');
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') {
    return new Crash('httpx.RemoteProtocolError: Server disconnected without sending a response.');
  }
  return new Crash(`httpx.ConnectError: ${code ?? (e as Error).message}`);
}

export async function rawRequest(
  method: 'GET' | 'POST',
  url: string,
  token: string | undefined,
  timeoutMs: number,
  body?: unknown,
  form?: Record<string, string>,
): Promise<unknown> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'x-cdp-app': 'cognite-toolkit-standin',
  };
  let payload: Buffer | string | undefined;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else {
    headers['content-type'] = 'application/json';
    // The real client sets Content-Encoding on every request, body or not.
    headers['content-encoding'] = 'gzip';
    if (body !== undefined) payload = gzipSync(Buffer.from(JSON.stringify(body)));
  }
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method, headers, body: payload, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (e) {
    throw networkCrash(e);
  }
  if (res.status < 200 || res.status >= 300) {
    let message = text.slice(0, 500) || res.statusText;
    try {
      const parsed = JSON.parse(text) as { error?: { message?: string } };
      if (parsed.error?.message) message = parsed.error.message;
    } catch {
      /* non-JSON error body: keep the raw text */
    }
    throw new ApiError(res.status, message);
  }
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Crash(`json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0) (${url})`);
  }
}

export class CdfClient {
  constructor(private readonly cfg: CdfClientConfig) {}

  get project(): string {
    return this.cfg.project;
  }

  url(p: string): string {
    return `${this.cfg.baseUrl}/api/v1/projects/${encodeURIComponent(this.cfg.project)}${p}`;
  }

  tokenInspect(): Promise<unknown> {
    return rawRequest('GET', `${this.cfg.baseUrl}/api/v1/token/inspect`, this.cfg.token, this.cfg.timeoutMs);
  }

  post(p: string, body: unknown): Promise<unknown> {
    return rawRequest('POST', this.url(p), this.cfg.token, this.cfg.timeoutMs, body);
  }

  async postItems(p: string, body: unknown): Promise<Array<Record<string, unknown>>> {
    const res = (await this.post(p, body)) as { items?: unknown };
    if (!Array.isArray(res.items)) {
      throw new Crash(`pydantic_core._pydantic_core.ValidationError: response from ${p} has no "items" list`);
    }
    return res.items as Array<Record<string, unknown>>;
  }
}

/** Python-style traceback tail for an uncaught ToolkitAPIError from a retrieve. */
export function apiCrash(e: ApiError): Crash {
  return new Crash(
    `cognite_toolkit._cdf_tk.client.http_client._exception.ToolkitAPIError: ${e.status} ${e.apiMessage}`,
  );
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { badRequest } from './api-error';

async function readRaw(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Reads and decodes a request body. The Toolkit sets `Content-Encoding: gzip`
 * even on GETs without a body, so the header alone must not trigger gunzip.
 */
export async function readBody(req: IncomingMessage): Promise<unknown> {
  let raw = await readRaw(req);
  if (raw.length === 0) return undefined;
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding.includes('gzip')) {
    try {
      raw = gunzipSync(raw);
    } catch {
      throw badRequest('fake-cdf: body declared gzip but could not be decompressed');
    }
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('fake-cdf: request body is not valid JSON');
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

import { createHash } from 'crypto';
import * as fs from 'fs';

/** Mirrors cognite_toolkit ToolkitError subclasses: printed as "  ERROR (<name>): <msg>", exit 1. */
export class ToolkitError extends Error {
  constructor(
    public readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Click usage errors: exit 2 with the usage line on stderr. */
export class UsageError extends Error {
  constructor(
    public readonly usage: string,
    message: string,
  ) {
    super(message);
  }
}

/** Non-Toolkit exceptions (httpx, ToolkitAPIError from retrieves): Python traceback on stderr, exit 1. */
export class Crash extends Error {
  constructor(public readonly lastLine: string) {
    super(lastLine);
  }
}

export const TOOLKIT_VERSION = '0.8.167';

export interface ResourceKind {
  folder: string;
  kind: string;
}

/** Folder → kinds the stand-in understands (build_v2/_module_parser.py, resource_ios folder_name/kind). */
export const KINDS_BY_FOLDER: Record<string, string[]> = {
  data_modeling: ['Space', 'Container', 'View', 'DataModel'],
  transformations: ['Transformation'],
  classic: ['Asset'],
  data_sets: ['DataSet'],
};
export const FOLDER_ALIASES: Record<string, string> = { data_models: 'data_modeling' };

/** sha256 of the bytes with CRLF→LF, first 8 hex chars (BuildLineage sourceHash). */
export function sourceHash(file: string): string {
  const text = fs.readFileSync(file).toString('latin1').replace(/\r\n/g, '\n');
  return createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex').slice(0, 8);
}

/** Identifier fields per kind, in the order used for file names and lineage. */
export const IDENTIFIER_FIELDS: Record<string, string[]> = {
  Space: ['space'],
  Container: ['space', 'externalId'],
  View: ['space', 'externalId', 'version'],
  DataModel: ['space', 'externalId', 'version'],
  Transformation: ['externalId'],
  Asset: ['externalId'],
  DataSet: ['externalId'],
};

/** Reads `[section] key = "value"` pairs; enough TOML for cdf.toml. */
export function readSimpleToml(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      section = (sec[1] ?? '').trim();
      continue;
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.+)$/.exec(line);
    if (kv) {
      const value = (kv[2] ?? '')
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .replace(/^'(.*)'$/, '$1');
      (out[section] ??= {})[kv[1] ?? ''] = value;
    }
  }
  return out;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

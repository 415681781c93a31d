/**
 * Keeps docs/configuration.md honest.
 *
 * `configSchema` is private to worker/config.ts, so its keys cannot be walked at run time. Instead SCHEMA_KEYS below
 * is checked against the schema by the compiler: `SchemaKeys` derives every dotted key from `RawConfig`
 * (= z.input<typeof configSchema>), and `npx tsc --noEmit` (part of `npm test`) fails when the schema has a key
 * this list lacks, or the list names a key the schema does not have. At run time the test checks that every key of
 * that list, every key used in config/local.yaml and deploy/config/promotion.yaml, and every key of the doc's own
 * example is documented in a table of the doc, that the doc's example is a valid configuration, and that the
 * defaults the doc states are the ones the schema applies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../config/load-config';
import { type RawConfig } from '../../config/schema';
import { parseDuration } from '../../config/duration';
import { minimalRawConfig } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC_PATH = path.join(ROOT, 'docs', 'configuration.md');
const EXAMPLE_FILES = ['config/local.yaml', 'deploy/config/promotion.yaml'];

// ---- compile-time: dotted keys of the schema ------------------------------------------------------------------

type Scalar = string | number | boolean | bigint | symbol | null | undefined;
type Join<P extends string, K extends string> = P extends '' ? K : `${P}.${K}`;
type Defined<T> = Exclude<T, undefined | null>;

/** Keys below a value at `P` (not `P` itself). Objects: their keys; lists of objects: `P[].key`; maps of objects: `P.<name>.key`. */
type KeysBelow<T, P extends string> = T extends Scalar
  ? never
  : T extends readonly (infer E)[]
    ? Defined<E> extends Scalar
      ? never
      : KeysBelow<Defined<E>, `${P}[]`>
    : string extends keyof T
      ? Defined<T[string & keyof T]> extends Scalar
        ? never // a map of scalars (toolkit.env, headersEnv) is one key
        : KeysBelow<Defined<T[string & keyof T]>, Join<P, '<name>'>>
      : { [K in keyof T & string]-?: Join<P, K> | KeysBelow<Defined<T[K]>, Join<P, K>> }[keyof T & string];

type SchemaKeys = KeysBelow<Defined<RawConfig>, ''>;

const SCHEMA_KEYS = [
  'temporal',
  'temporal.address',
  'temporal.namespace',
  'temporal.taskQueue',
  'temporal.uiUrl',
  'repository',
  'repository.url',
  'repository.projectDir',
  'repository.organizationDir',
  'dataDir',
  'toolkit',
  'toolkit.profile',
  'toolkit.executable',
  'toolkit.custom',
  'toolkit.custom.build',
  'toolkit.custom.diff',
  'toolkit.custom.apply',
  'toolkit.custom.clean',
  'toolkit.timeouts',
  'toolkit.timeouts.build',
  'toolkit.timeouts.diff',
  'toolkit.timeouts.apply',
  'toolkit.env',
  'toolkit.disableTelemetry',
  'environments',
  'environments.<name>.cdfProject',
  'environments.<name>.baseUrl',
  'environments.<name>.cluster',
  'environments.<name>.configFile',
  'environments.<name>.credentials',
  'environments.<name>.credentials.flow',
  'environments.<name>.credentials.tokenEnv',
  'environments.<name>.credentials.clientIdEnv',
  'environments.<name>.credentials.clientSecretEnv',
  'environments.<name>.credentials.tokenUrl',
  'environments.<name>.credentials.scopes',
  'environments.<name>.credentials.audience',
  'environments.<name>.approval',
  'environments.<name>.approval.timeout',
  'environments.<name>.approval.approvers',
  'environments.<name>.approval.requiredApprovals',
  'environments.<name>.approval.allowSelfApproval',
  'environments.<name>.approval.rollbackRequiresApproval',
  'environments.<name>.smoke',
  'environments.<name>.smoke.dataModels',
  'environments.<name>.smoke.dataModels[].space',
  'environments.<name>.smoke.dataModels[].externalId',
  'environments.<name>.smoke.dataModels[].version',
  'environments.<name>.smoke.minAssets',
  'environments.<name>.smoke.transformations',
  'environments.<name>.smoke.transformations[].externalId',
  'environments.<name>.smoke.transformations[].window',
  'environments.<name>.alerts',
  'environments.<name>.alerts[].type',
  'environments.<name>.alerts[].name',
  'environments.<name>.alerts[].urlEnv',
  'environments.<name>.alerts[].headersEnv',
  'environments.<name>.rollback',
  'environments.<name>.rollback.removeLeftovers',
] as const;

type Listed = (typeof SCHEMA_KEYS)[number];
// A compile error on one of these lines names the key to add to (or remove from) SCHEMA_KEYS and the doc.
const _noSchemaKeyMissing: [Exclude<SchemaKeys, Listed>] extends [never]
  ? true
  : Exclude<SchemaKeys, Listed> = true;
const _noListedKeyUnknown: [Exclude<Listed, SchemaKeys>] extends [never]
  ? true
  : Exclude<Listed, SchemaKeys> = true;

// ---- run time -------------------------------------------------------------------------------------------------

interface DocRow {
  key: string;
  type: string;
  default: string;
}

/** Rows of the tables under "## Keys" whose first cell is one backticked dotted key. */
function documentedRows(markdown: string): DocRow[] {
  const start = markdown.indexOf('\n## Keys');
  if (start < 0) throw new Error('docs/configuration.md has no "## Keys" section');
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows: DocRow[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim());
    const m = /^`([^`]+)`$/.exec(cells[0] ?? '');
    if (!m) continue;
    rows.push({ key: m[1]!, type: cells[1] ?? '', default: cells[2] ?? '' });
  }
  return rows;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Leaf keys of a parsed YAML config in the doc's notation: environment names become <name>, list items []. */
export function flattenConfigKeys(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    const objects = value.filter(isObject);
    if (objects.length === 0) return prefix ? [prefix] : [];
    return objects.flatMap((item) => flattenConfigKeys(item, `${prefix}[]`));
  }
  if (isObject(value)) {
    const keys = Object.entries(value).flatMap(([k, v]) => {
      const segment = prefix === 'environments' ? '<name>' : k;
      return flattenConfigKeys(v, prefix ? `${prefix}.${segment}` : segment);
    });
    return keys.length === 0 && prefix ? [prefix] : keys;
  }
  return prefix ? [prefix] : [];
}

/**
 * A key is documented when the doc lists it, or lists an ancestor that has no documented children (a map such as
 * toolkit.env whose entries are free-form).
 */
export function undocumentedKeys(keys: Iterable<string>, documented: ReadonlySet<string>): string[] {
  const hasChildren = (k: string): boolean =>
    [...documented].some((d) => d.startsWith(`${k}.`) || d.startsWith(`${k}[]`));
  const ok = (key: string): boolean => {
    if (documented.has(key)) return true;
    for (let cut = key.lastIndexOf('.'); cut > 0; cut = key.lastIndexOf('.', cut - 1)) {
      const ancestor = key.slice(0, cut).replace(/\[\]$/, '');
      if (documented.has(ancestor)) return !hasChildren(ancestor);
    }
    return false;
  };
  return [...new Set(keys)].filter((k) => !ok(k)).sort();
}

function exampleYaml(markdown: string): string {
  const start = markdown.indexOf('## Complete annotated example');
  const m = /```yaml\n([\s\S]*?)```/.exec(markdown.slice(start));
  if (start < 0 || !m)
    throw new Error('docs/configuration.md has no "## Complete annotated example" yaml block');
  return m[1]!;
}

const doc = readFileSync(DOC_PATH, 'utf8');
const rows = documentedRows(doc);
const documented = new Set(rows.map((r) => r.key));

describe('docs/configuration.md', () => {
  test('documents every key of the config schema', () => {
    const missing = [...SCHEMA_KEYS].filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });

  test('documents no key the schema does not have', () => {
    const known = new Set<string>(SCHEMA_KEYS);
    expect([...documented].filter((k) => !known.has(k))).toEqual([]);
  });

  test.each(EXAMPLE_FILES)('documents every key used in %s', (file) => {
    const raw: unknown = parseYaml(readFileSync(path.join(ROOT, file), 'utf8'));
    const keys = flattenConfigKeys(raw);
    expect(keys.length).toBeGreaterThan(20);
    expect(undocumentedKeys(keys, documented)).toEqual([]);
  });

  test('the checker catches an undocumented key in an example file', () => {
    const raw = parseYaml(`
temporal: { address: x, foo: 1 }
toolkit: { env: { HTTPS_PROXY: http://proxy } }
environments:
  prod:
    rollback: { removeLeftovers: true, bogus: 1 }
    alerts: [{ type: webhook, urlEnv: X, headersEnv: { Authorization: Y }, extra: 2 }]
`);
    expect(undocumentedKeys(flattenConfigKeys(raw), documented)).toEqual([
      'environments.<name>.alerts[].extra',
      'environments.<name>.rollback.bogus',
      'temporal.foo',
    ]);
  });

  test('the complete example is a valid configuration and uses only documented keys', () => {
    const raw: unknown = parseYaml(exampleYaml(doc));
    expect(undocumentedKeys(flattenConfigKeys(raw), documented)).toEqual([]);
    // Every section of the schema appears in the example.
    const used = new Set(flattenConfigKeys(raw));
    for (const section of [
      'temporal.address',
      'repository.url',
      'dataDir',
      'toolkit.timeouts.apply',
      'toolkit.env',
    ]) {
      expect([...used].some((k) => k.startsWith(section))).toBe(true);
    }
    expect(() => parseConfig(raw, '/etc/cdf-promotion/promotion.yaml')).not.toThrow();
  });

  test('the examples in the repository are valid configurations', () => {
    for (const file of EXAMPLE_FILES) {
      const raw: unknown = parseYaml(readFileSync(path.join(ROOT, file), 'utf8'));
      expect(() => parseConfig(raw, path.join(ROOT, file))).not.toThrow();
    }
  });

  test('the defaults in the tables are the ones the schema applies', () => {
    const source = '/srv/promo/etc/promotion.yaml';
    const cfg = parseConfig(minimalRawConfig(), source) as unknown as Record<string, unknown>;
    const lookup = (key: string): unknown =>
      key
        .replace('environments.<name>', 'environments.prod')
        .split('.')
        .reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), cfg);
    let checked = 0;
    for (const row of rows) {
      const m = /^`([^`]*)`$/.exec(row.default);
      if (!m || row.key.includes('[]') || m[1]!.includes('<')) continue;
      const stated = m[1]!;
      const actual = lookup(row.key);
      const expected: unknown = row.type.startsWith('duration')
        ? parseDuration(stated)
        : row.type.includes('(path)')
          ? path.resolve(path.dirname(source), stated)
          : typeof actual === 'object'
            ? JSON.parse(stated)
            : typeof actual === 'number' || typeof actual === 'boolean'
              ? JSON.parse(stated)
              : stated;
      expect({ key: row.key, value: actual }).toEqual({ key: row.key, value: expected });
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});

/**
 * Keeps docs/configuration.md honest.
 *
 * The dotted keys of the worker configuration are derived at run time by walking the exported zod schema
 * (`configSchema` in config/schema.ts), in the doc's notation: list items are `[]`, the entries of a map of objects
 * are `<name>` (`environments.<name>.alerts[].type`), and a map of scalars (`toolkit.env`, `headersEnv`) is one key.
 * The test checks that the doc's tables list exactly those keys, that every key used in config/local.yaml,
 * deploy/config/promotion.yaml and the doc's own example is documented, that the doc's example is a valid
 * configuration, that the defaults the doc states are the ones the schema declares (zod `.default()` values) and the
 * ones parsing applies, and that the doc marks as required exactly the keys the schema requires.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseConfig } from '../../config/load-config';
import { configSchema } from '../../config/schema';
import { parseDuration } from '../../config/duration';
import { exampleConfigWithDemoKeys, minimalRawConfig } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const DOC_PATH = path.join(ROOT, 'docs', 'configuration.md');
const EXAMPLE_FILES = ['config/local.yaml', 'deploy/config/promotion.yaml'];

// ---- the schema's dotted keys ---------------------------------------------------------------------------------

export interface SchemaKeyInfo {
  /** The key may be left out of the file (zod `.optional()`, `.default()` or `.prefault()`). */
  optional: boolean;
  /** What `.default()` supplies when the key is left out. It is an output value (durations in milliseconds). */
  default?: { value: unknown };
  /** What `.prefault()` parses when the key is left out. It is an input value. */
  prefault?: { value: unknown };
}

const join = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

/** The first `.default()` or `.prefault()` met while unwrapping the schema of one key. */
function declaredDefault(schema: z.core.$ZodType): Pick<SchemaKeyInfo, 'default' | 'prefault'> {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'default':
      return { default: { value: def.defaultValue } };
    case 'prefault':
      return { prefault: { value: def.defaultValue } };
    case 'optional':
    case 'nullable':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return declaredDefault(def.innerType);
    case 'lazy':
      return declaredDefault(def.getter());
    case 'pipe':
      return declaredDefault(def.in);
    default:
      return {};
  }
}

/**
 * Every dotted key of a zod (v4) schema, read from its definitions (`_zod.def`): the keys of objects, of the element
 * of arrays (`key[].child`), of the value of records (`key.<name>.child`) and of every option of (discriminated)
 * unions, seen through optional, nullable, default, prefault, pipe/transform and similar wrappers. Refinements are
 * checks in zod 4, not wrappers, so they need no handling.
 */
export function schemaKeys(schema: z.core.$ZodType): Map<string, SchemaKeyInfo> {
  const keys = new Map<string, SchemaKeyInfo>();
  const onPath = new Set<z.core.$ZodType>(); // guards recursive (lazy) schemas

  const add = (key: string, child: z.core.$ZodType): void => {
    const info: SchemaKeyInfo = { optional: child._zod.optin !== undefined, ...declaredDefault(child) };
    const seen = keys.get(key);
    // A key several union options share is required when one of them requires it.
    if (seen) seen.optional &&= info.optional;
    else keys.set(key, info);
  };

  const below = (node: z.core.$ZodType, prefix: string): void => {
    if (onPath.has(node)) return;
    onPath.add(node);
    const def = (node as z.core.$ZodTypes)._zod.def;
    switch (def.type) {
      case 'object':
        for (const [name, child] of Object.entries(def.shape)) {
          add(join(prefix, name), child);
          below(child, join(prefix, name));
        }
        break;
      case 'array':
        below(def.element, `${prefix}[]`);
        break;
      case 'record':
        // A map of objects documents the keys of its entries; a map of scalars adds nothing below itself.
        below(def.valueType, join(prefix, '<name>'));
        break;
      case 'union': // also discriminatedUnion
        for (const option of def.options) below(option, prefix);
        break;
      case 'intersection':
        below(def.left, prefix);
        below(def.right, prefix);
        break;
      case 'pipe': // also .transform() and z.preprocess()
        below(def.in, prefix);
        below(def.out, prefix);
        break;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
      case 'promise':
        below(def.innerType, prefix);
        break;
      case 'lazy':
        below(def.getter(), prefix);
        break;
      default: // scalars, literals, enums, transforms: nothing below
        break;
    }
    onPath.delete(node);
  };

  below(schema, '');
  return keys;
}

/** Schema keys the doc does not list, and keys the doc lists that the schema does not have. */
export function compareKeys(
  schema: Iterable<string>,
  documented: Iterable<string>,
): { missing: string[]; unknown: string[] } {
  const inSchema = new Set(schema);
  const inDoc = new Set(documented);
  return {
    missing: [...inSchema].filter((k) => !inDoc.has(k)).sort(),
    unknown: [...inDoc].filter((k) => !inSchema.has(k)).sort(),
  };
}

// ---- the doc ---------------------------------------------------------------------------------------------------

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

/** Maps whose keys are names the user chooses: the doc writes them as <name>. */
const NAMED_MAPS = new Set(['environments', 'people']);

/** Leaf keys of a parsed YAML config in the doc's notation: environment and person names become <name>, list items []. */
export function flattenConfigKeys(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    const objects = value.filter(isObject);
    if (objects.length === 0) return prefix ? [prefix] : [];
    return objects.flatMap((item) => flattenConfigKeys(item, `${prefix}[]`));
  }
  if (isObject(value)) {
    const keys = Object.entries(value).flatMap(([k, v]) => {
      const segment = NAMED_MAPS.has(prefix) ? '<name>' : k;
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
const schema = schemaKeys(configSchema);

/** A default stated in the doc, e.g. `10m`, `{}`, `true`, read as the kind of value `like` is. */
function statedValue(row: DocRow, stated: string, like: unknown): unknown {
  if (row.type.startsWith('duration')) return parseDuration(stated);
  return typeof like === 'string' ? stated : JSON.parse(stated);
}

describe('the schema walker', () => {
  test("finds nested keys of the config schema in the doc's notation", () => {
    for (const key of [
      'temporal.address',
      'dataDir',
      'toolkit.timeouts.apply',
      'toolkit.custom.diff',
      'toolkit.env',
      'environments',
      'environments.<name>.credentials.flow',
      'environments.<name>.credentials.tokenEnv',
      'environments.<name>.credentials.clientSecretEnv',
      'environments.<name>.approval.requiredApprovals',
      'environments.<name>.smoke.dataModels[].space',
      'environments.<name>.smoke.transformations[].window',
      'environments.<name>.alerts[].type',
      'environments.<name>.alerts[].headersEnv',
      'environments.<name>.rollback.removeLeftovers',
    ]) {
      expect({ key, found: schema.has(key) }).toEqual({ key, found: true });
    }
    // Maps of scalars and lists of scalars are one key each; `environments.<name>` itself is not a key.
    const below = (k: string): string[] =>
      [...schema.keys()].filter((s) => s.startsWith(`${k}.`) || s.startsWith(`${k}[]`));
    expect(below('toolkit.env')).toEqual([]);
    expect(below('environments.<name>.alerts[].headersEnv')).toEqual([]);
    expect(below('environments.<name>.approval.approvers')).toEqual([]);
    expect(schema.has('environments.<name>')).toBe(false);
    expect(schema.size).toBeGreaterThan(50);
  });

  test('reads defaults and optionality from the schema', () => {
    expect(schema.get('toolkit.timeouts.apply')).toEqual({ optional: true, default: { value: 3_600_000 } });
    expect(schema.get('toolkit')).toEqual({ optional: true, prefault: { value: {} } });
    expect(schema.get('environments.<name>.credentials.tokenEnv')).toEqual({ optional: false });
    expect(schema.get('environments.<name>.credentials.scopes')).toEqual({ optional: true });
  });

  test('walks every kind of zod node and reports a key missing from the doc', () => {
    const synthetic = z
      .object({
        a: z
          .object({ b: z.string(), c: z.number().default(3) })
          .strict()
          .prefault({ b: 'x' }),
        list: z
          .array(z.object({ x: z.string() }).transform((o) => o.x))
          .nullable()
          .optional(),
        tags: z.array(z.string()),
        vars: z.record(z.string(), z.string()).default({}),
        items: z.record(
          z.string(),
          z.object({
            auth: z.discriminatedUnion('kind', [
              z.object({ kind: z.literal('p'), p: z.string(), shared: z.string() }),
              z.object({ kind: z.literal('q'), q: z.string().optional(), shared: z.string().optional() }),
            ]),
            either: z.union([z.object({ u: z.string() }), z.object({ v: z.number() })]).optional(),
          }),
        ),
        d: z
          .union([z.string(), z.number()])
          .transform((v) => Number(v))
          .default(5),
        pre: z.preprocess((v) => v, z.object({ inner: z.boolean() })),
        both: z.intersection(z.object({ l: z.string() }), z.object({ r: z.string() })),
        late: z.lazy(() => z.object({ deep: z.string() })),
      })
      .strict()
      .refine(() => true);
    const keys = schemaKeys(synthetic);
    expect([...keys.keys()].sort()).toEqual([
      'a',
      'a.b',
      'a.c',
      'both',
      'both.l',
      'both.r',
      'd',
      'items',
      'items.<name>.auth',
      'items.<name>.auth.kind',
      'items.<name>.auth.p',
      'items.<name>.auth.q',
      'items.<name>.auth.shared',
      'items.<name>.either',
      'items.<name>.either.u',
      'items.<name>.either.v',
      'late',
      'late.deep',
      'list',
      'list[].x',
      'pre',
      'pre.inner',
      'tags',
      'vars',
    ]);
    expect(keys.get('a')).toEqual({ optional: true, prefault: { value: { b: 'x' } } });
    expect(keys.get('a.b')).toEqual({ optional: false });
    expect(keys.get('a.c')).toEqual({ optional: true, default: { value: 3 } });
    expect(keys.get('d')).toEqual({ optional: true, default: { value: 5 } });
    expect(keys.get('list')).toEqual({ optional: true });
    expect(keys.get('items.<name>.auth.shared')).toEqual({ optional: false });

    // A doc that lacks one key and lists one the schema does not have.
    const doc = [...keys.keys()].filter((k) => k !== 'items.<name>.auth.q').concat('a.typo');
    expect(compareKeys(keys.keys(), doc)).toEqual({ missing: ['items.<name>.auth.q'], unknown: ['a.typo'] });
  });
});

describe('docs/configuration.md', () => {
  test('documents every key of the config schema', () => {
    expect(compareKeys(schema.keys(), documented).missing).toEqual([]);
  });

  test('documents no key the schema does not have', () => {
    expect(compareKeys(schema.keys(), documented).unknown).toEqual([]);
  });

  test('marks as required exactly the keys the schema requires', () => {
    const mismatched = rows
      .filter((row) => schema.has(row.key))
      .filter((row) => row.default.startsWith('required') !== !schema.get(row.key)!.optional)
      .map((row) => `${row.key}: doc says "${row.default}"`);
    expect(mismatched).toEqual([]);
  });

  test('the defaults in the tables are the ones the schema declares', () => {
    const byKey = new Map(rows.map((r) => [r.key, r]));
    let checked = 0;
    for (const [key, info] of schema) {
      if (!info.default) continue;
      const row = byKey.get(key);
      const m = /^`([^`]*)`$/.exec(row?.default ?? '');
      // Every zod `.default()` is stated in the doc as one backticked value.
      expect({ key, stated: m ? 'backticked' : row?.default }).toEqual({ key, stated: 'backticked' });
      const declared = info.default.value;
      expect({ key, value: declared }).toEqual({ key, value: statedValue(row!, m![1]!, declared) });
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
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
      // Laid out as in the repository, with the demo keys the local config's allowedSignersFile names.
      expect(() => parseConfig(raw, exampleConfigWithDemoKeys(file))).not.toThrow();
    }
  });

  test('the defaults in the tables are the ones parsing applies', () => {
    const source = '/srv/promo/etc/promotion.yaml';
    const cfg = parseConfig(minimalRawConfig(), source) as unknown as Record<string, unknown>;
    // A person listed without any of their keys: what parsing fills in is the documented default.
    const withPerson = parseConfig({ ...minimalRawConfig(), people: { alice: {} } }, source);
    const lookup = (key: string): unknown =>
      key
        .replace('environments.<name>', 'environments.prod')
        .replace('people.<name>', 'people.alice')
        .split('.')
        .reduce<unknown>(
          (v, k) => (isObject(v) ? v[k] : undefined),
          key.startsWith('people.<name>') ? withPerson : cfg,
        );
    let checked = 0;
    for (const row of rows) {
      const m = /^`([^`]*)`$/.exec(row.default);
      if (!m || row.key.includes('[]') || m[1]!.includes('<')) continue;
      const stated = m[1]!;
      const actual = lookup(row.key);
      const expected: unknown = row.type.includes('(path)')
        ? path.resolve(path.dirname(source), stated)
        : statedValue(row, stated, actual);
      expect({ key: row.key, value: actual }).toEqual({ key: row.key, value: expected });
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });
});

/** `cdf build` as in Toolkit 0.8.x build_v2: resource files → build/<folder>/…, lineage.yaml, insights. */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  FOLDER_ALIASES,
  IDENTIFIER_FIELDS,
  KINDS_BY_FOLDER,
  ToolkitError,
  isPlainObject,
  readSimpleToml,
  sourceHash,
} from './common';
import { renderPanel } from './render';

export interface BuildOptions {
  organizationDir?: string;
  configYaml?: string;
  buildDir?: string;
  modules: string[];
  insightFormat: 'csv' | 'json';
  verbose: boolean;
}

interface Insight {
  insightType: string;
  code: string | null;
  sourceFile: string | null;
  message: string;
  fix: string | null;
}

interface ModuleInfo {
  id: string; // "modules/demo_module"
  name: string;
  dir: string;
  resourceDirs: Array<{ folder: string; dir: string }>;
}

function walkDirs(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory()) continue;
    const full = path.join(dir, e.name);
    out.push(full, ...walkDirs(full));
  }
  return out;
}

function findModules(orgDir: string): ModuleInfo[] {
  const modulesRoot = path.join(orgDir, 'modules');
  if (!fs.existsSync(modulesRoot)) return [];
  const byDir = new Map<string, ModuleInfo>();
  for (const d of walkDirs(modulesRoot)) {
    const base = path.basename(d);
    const folder = FOLDER_ALIASES[base] ?? base;
    if (!KINDS_BY_FOLDER[folder]) continue;
    const moduleDir = path.dirname(d);
    // A resource folder directly under modules/ has no module around it.
    if (moduleDir === modulesRoot) continue;
    let m = byDir.get(moduleDir);
    if (!m) {
      m = {
        id: path.relative(orgDir, moduleDir).split(path.sep).join('/'),
        name: path.basename(moduleDir),
        dir: moduleDir,
        resourceDirs: [],
      };
      byDir.set(moduleDir, m);
    }
    m.resourceDirs.push({ folder, dir: d });
  }
  return [...byDir.values()].sort((a, b) => a.id.localeCompare(b.id));
}

function selectModules(all: ModuleInfo[], selection: string[]): ModuleInfo[] {
  const picked = new Set<ModuleInfo>();
  const unknown: string[] = [];
  for (const raw of selection) {
    const sel = raw.replace(/\\/g, '/');
    let hits: ModuleInfo[];
    if (sel.includes('/')) {
      const prefix = sel.replace(/\/+$/, '');
      hits = all.filter((m) => m.id === prefix || m.id.startsWith(`${prefix}/`));
    } else {
      hits = all.filter((m) => m.name === sel);
    }
    if (hits.length === 0) unknown.push(raw);
    hits.forEach((h) => picked.add(h));
  }
  if (unknown.length) {
    throw new ToolkitValueErrorLike(`Selected modules do not exist: ${unknown.join(', ')}`);
  }
  return all.filter((m) => picked.has(m));
}

class ToolkitValueErrorLike extends ToolkitError {
  constructor(msg: string) {
    super('ToolkitValueError', msg);
  }
}

/** Variables apply hierarchically: top level, then `modules`, then each path segment down to the module. */
function variablesFor(variables: unknown, moduleId: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let node: unknown = variables;
  const take = (n: unknown): void => {
    if (!isPlainObject(n)) return;
    for (const [k, v] of Object.entries(n)) if (!isPlainObject(v)) out[k] = v;
  };
  take(node);
  for (const seg of moduleId.split('/')) {
    node = isPlainObject(node) ? node[seg] : undefined;
    take(node);
  }
  return out;
}

function substitute(text: string, vars: Record<string, unknown>): { text: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const out = text.replace(/\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g, (whole, name: string) => {
    if (!(name in vars)) {
      unresolved.push(name);
      return whole;
    }
    const v = vars[name];
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
  return { text: out, unresolved };
}

function identifierFileName(kind: string, id: Record<string, string>): string {
  return (IDENTIFIER_FIELDS[kind] ?? []).map((f) => id[f]).join('.');
}

function utcTimestamp(d: Date): string {
  return `${d.toISOString().replace(/\.\d{3}Z$/, '')}+00:00`;
}

export function runBuild(opts: BuildOptions, out: (s: string) => void): void {
  const started = Date.now();
  const cwd = process.cwd();
  const tomlPath = path.join(cwd, 'cdf.toml');
  const toml = fs.existsSync(tomlPath) ? readSimpleToml(fs.readFileSync(tomlPath, 'utf8')) : {};
  const orgSetting = opts.organizationDir ?? toml.cdf?.default_organization_dir ?? '.';
  const orgDir = path.resolve(cwd, orgSetting);
  if (!fs.existsSync(orgDir) || !fs.statSync(orgDir).isDirectory()) {
    throw new ToolkitError(
      'ToolkitNotADirectoryError',
      `Organization directory ${orgSetting} does not exist.`,
    );
  }
  const configSetting = opts.configYaml ?? toml.cdf?.default_config_yaml;
  let config: Record<string, unknown> = {};
  if (configSetting) {
    const configPath = path.resolve(cwd, configSetting);
    if (!fs.existsSync(configPath)) {
      throw new ToolkitError('ToolkitValueError', `Config file ${configSetting} does not exist.`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(fs.readFileSync(configPath, 'utf8'));
    } catch (e) {
      throw new ToolkitError(
        'ToolkitValueError',
        `Config file ${configSetting} is not valid YAML: ${(e as Error).message}`,
      );
    }
    if (!isPlainObject(parsed))
      throw new ToolkitError('ToolkitValueError', `Config file ${configSetting} is not a mapping.`);
    config = parsed;
  }
  const environment = isPlainObject(config.environment) ? config.environment : {};
  const selected = Array.isArray(environment.selected) ? environment.selected.map(String) : [];
  const selection = opts.modules.length ? opts.modules : selected;
  if (selection.length === 0) {
    // The real CLI opens a checkbox prompt here; the stand-in never prompts.
    throw new ToolkitError(
      'ToolkitValueError',
      'No modules selected. Pass -m/--modules or a config YAML with environment.selected (the stand-in never prompts).',
    );
  }
  const modules = selectModules(findModules(orgDir), selection);
  if (modules.length === 0) throw new ToolkitError('ToolkitValueError', 'No modules selected.');

  const buildDir = path.resolve(cwd, opts.buildDir ?? 'build');
  fs.rmSync(buildDir, { recursive: true, force: true });
  fs.mkdirSync(buildDir, { recursive: true });

  const allInsights: Insight[] = [];
  const moduleLineage: Array<Record<string, unknown>> = [];
  let resourceCount = 0;
  const kindsSeen = new Set<string>();

  modules.forEach((mod, moduleIdx) => {
    const vars = variablesFor(config.variables, mod.id);
    const insights: Insight[] = [];
    const lineage: Array<Record<string, unknown>> = [];
    const pending: Array<() => void> = [];
    let failure: string | undefined;
    const fail = (status: string): void => {
      failure ??= status;
    };

    for (const { folder, dir } of mod.resourceDirs) {
      const kinds = KINDS_BY_FOLDER[folder] ?? [];
      for (const fileName of fs.readdirSync(dir).sort()) {
        const file = path.join(dir, fileName);
        if (!fs.statSync(file).isFile()) continue;
        if (/\.sql$/i.test(fileName)) continue;
        const m = /^(.*)\.ya?ml$/i.exec(fileName);
        const stemFull = m?.[1] ?? '';
        const kind = kinds.find(
          (k) =>
            stemFull.toLowerCase().endsWith(`.${k.toLowerCase()}`) ||
            stemFull.toLowerCase() === k.toLowerCase(),
        );
        if (!m || !kind) {
          insights.push({
            insightType: 'IgnoredFileWarning',
            code: null,
            sourceFile: file,
            message: `File ${fileName} is not a recognised resource file in ${folder} and was ignored.`,
            fix: null,
          });
          continue;
        }
        const stem = stemFull.slice(0, stemFull.length - kind.length).replace(/\.$/, '') || kind;
        const raw = fs.readFileSync(file, 'utf8');
        const { text, unresolved } = substitute(raw, vars);
        if (unresolved.length) {
          insights.push({
            insightType: 'ConsistencyError',
            code: 'UNRESOLVED-VARIABLES',
            sourceFile: file,
            message: `Unresolved variables in ${fileName}: ${[...new Set(unresolved)].join(', ')}`,
            fix: 'Define the variables in the config YAML under variables.',
          });
          fail('FAILED: ConsistencyError');
          continue;
        }
        let doc: unknown;
        try {
          doc = parseYaml(text);
        } catch (e) {
          insights.push({
            insightType: 'FileReadError',
            code: 'INVALID-YAML',
            sourceFile: file,
            message: `Failed to parse ${fileName}: ${(e as Error).message.split('\n')[0]}`,
            fix: null,
          });
          fail('FAILED: ModelSyntaxError');
          continue;
        }
        const items = Array.isArray(doc) ? doc : [doc];
        items.forEach((item, itemIdx) => {
          if (!isPlainObject(item)) {
            insights.push({
              insightType: 'ModelSyntaxWarning',
              code: 'NOT-A-MAPPING',
              sourceFile: file,
              message: `${fileName} item ${itemIdx + 1} is not a mapping`,
              fix: null,
            });
            fail('FAILED: ModelSyntaxError');
            return;
          }
          const id: Record<string, string> = {};
          const missing: string[] = [];
          for (const f of IDENTIFIER_FIELDS[kind] ?? []) {
            const v = item[f];
            if (typeof v === 'string' || typeof v === 'number') id[f] = String(v);
            else missing.push(f);
          }
          if (missing.length) {
            insights.push({
              insightType: 'ModelSyntaxWarning',
              code: 'MISSING-REQUIRED-FIELD',
              sourceFile: file,
              message: `${kind} in ${fileName} is missing required field(s): ${missing.join(', ')}`,
              fix: null,
            });
            fail('FAILED: ModelSyntaxError');
            return;
          }
          let query: string | undefined;
          const resource: Record<string, unknown> = { ...item };
          if (kind === 'Transformation') {
            const queryFile = typeof resource.queryFile === 'string' ? resource.queryFile : undefined;
            const candidates = queryFile
              ? [path.resolve(dir, queryFile)]
              : [`${stem}.sql`, `${stemFull}.sql`, `${id.externalId}.sql`].map((n) => path.join(dir, n));
            const sqlFile = candidates.find((c) => fs.existsSync(c));
            if (sqlFile) {
              const sub = substitute(fs.readFileSync(sqlFile, 'utf8'), vars);
              if (sub.unresolved.length) {
                insights.push({
                  insightType: 'ConsistencyError',
                  code: 'UNRESOLVED-VARIABLES',
                  sourceFile: sqlFile,
                  message: `Unresolved variables in ${path.basename(sqlFile)}: ${sub.unresolved.join(', ')}`,
                  fix: null,
                });
                fail('FAILED: ConsistencyError');
                return;
              }
              query = sub.text;
              delete resource.queryFile;
            } else if (queryFile) {
              insights.push({
                insightType: 'FileReadError',
                code: 'MISSING-QUERY-FILE',
                sourceFile: file,
                message: `Query file ${queryFile} does not exist`,
                fix: null,
              });
              fail('FAILED: ModelSyntaxError');
              return;
            } else if (typeof resource.query !== 'string') {
              insights.push({
                insightType: 'ModelSyntaxWarning',
                code: 'MISSING-QUERY',
                sourceFile: file,
                message: `Transformation ${id.externalId} has no query and no .sql file`,
                fix: null,
              });
              fail('FAILED: ModelSyntaxError');
              return;
            }
            if (!('dataSetExternalId' in resource)) {
              insights.push({
                insightType: 'Recommendation',
                code: 'AUTH-001',
                sourceFile: file,
                message: `Transformation ${id.externalId} has no dataSetExternalId; consider scoping it to a data set.`,
                fix: 'Add dataSetExternalId.',
              });
            }
          }
          const base = `${moduleIdx + 1}-${stem}-${identifierFileName(kind, id)}`;
          const builtFile = path.join(buildDir, folder, `${base}.${kind}.yaml`);
          pending.push(() => {
            fs.mkdirSync(path.dirname(builtFile), { recursive: true });
            fs.writeFileSync(builtFile, stringifyYaml(resource, { lineWidth: 0 }));
            if (query !== undefined) fs.writeFileSync(path.join(buildDir, folder, `${base}.sql`), query);
          });
          kindsSeen.add(kind);
          lineage.push({
            sourceFile: file,
            sourceHash: sourceHash(file),
            type: { resource_folder: folder, kind },
            builtFile,
            identifier: id,
          });
        });
      }
    }
    if (!failure) {
      pending.forEach((p) => p());
      resourceCount += lineage.length;
    }
    allInsights.push(...insights);
    const summary: Record<string, number> = {};
    for (const i of insights) summary[i.insightType] = (summary[i.insightType] ?? 0) + 1;
    moduleLineage.push({
      moduleId: mod.id,
      modulePath: mod.dir,
      insightsSummary: summary,
      resourceLineage: failure ? [] : lineage,
      status: failure ?? 'SUCCESS',
    });
  });

  const failed = moduleLineage.filter((m) => m.status !== 'SUCCESS').length;
  const insightsSummary: Record<string, number> = {};
  for (const i of allInsights) insightsSummary[i.insightType] = (insightsSummary[i.insightType] ?? 0) + 1;
  const relBuild = path.relative(orgDir, buildDir);
  const lineageDoc = {
    timestamp: utcTimestamp(new Date()),
    duration: Math.round((Date.now() - started) / 10) / 100,
    organizationDir: orgDir,
    buildDir:
      relBuild && !relBuild.startsWith('..') && !path.isAbsolute(relBuild)
        ? relBuild.split(path.sep).join('/')
        : buildDir,
    cdfProject: process.env.CDF_PROJECT || null,
    modulesSummary: { processed: modules.length, succeeded: modules.length - failed, failed },
    insightsSummary,
    moduleLineage,
  };
  // PyYAML quotes the timestamp (it would otherwise load as a datetime) and does not indent sequences.
  const lineageText = stringifyYaml(lineageDoc, {
    lineWidth: 0,
    indentSeq: false,
    singleQuote: true,
  }).replace(/^timestamp: (.*)$/m, (_m, ts: string) => `timestamp: '${ts.replace(/^'|'$/g, '')}'`);
  fs.writeFileSync(path.join(buildDir, 'lineage.yaml'), lineageText);
  if (opts.insightFormat === 'json') {
    fs.writeFileSync(path.join(buildDir, 'insights.json'), JSON.stringify(allInsights, null, 2) + '\n');
  } else {
    const q = (s: string | null): string => `"${(s ?? '').replace(/\r\n?/g, '\n').replace(/"/g, '""')}"`;
    const lines = ['"insight_type","code","source_file","message","fix"'];
    for (const i of allInsights)
      lines.push([i.insightType, i.code, i.sourceFile, i.message, i.fix].map(q).join(','));
    fs.writeFileSync(path.join(buildDir, 'insights.csv'), lines.join('\n') + '\n');
  }

  out(
    renderPanel('Loading modules', [
      `Directory: ${orgDir}`,
      `Selection: ${selection.join(', ')}`,
      `Loaded: ${modules.length} modules`,
      ...(opts.verbose ? modules.map((m) => `  ○ ${m.id}`) : []),
    ]),
  );
  if (allInsights.length) {
    out(
      renderPanel(
        'Build Insights',
        allInsights.map((i) => `${i.insightType}${i.code ? ` [${i.code}]` : ''}: ${i.message}`),
      ),
    );
  }
  const severity: Record<string, number> = {
    FailedValidation: 60,
    FileReadError: 60,
    ModelSyntaxWarning: 40,
    ConsistencyError: 30,
    IgnoredFileWarning: 20,
    Recommendation: 10,
  };
  const maxSeverity = Math.max(0, ...allInsights.map((i) => severity[i.insightType] ?? 0), failed ? 60 : 0);
  const lines = [
    `✓ ${modules.length} modules`,
    `✓ ${resourceCount} resources of ${kindsSeen.size} different types.`,
  ];
  for (const [type, count] of Object.entries(insightsSummary)) {
    const s = severity[type] ?? 0;
    lines.push(`${s <= 15 ? '✓' : s <= 35 ? '!' : '✗'} ${count} ${type}`);
  }
  lines.push('');
  if (maxSeverity <= 15)
    lines.push('✓ Ready to deploy.', 'No critical errors found. You can proceed with deployment.');
  else if (maxSeverity <= 35 && !failed)
    lines.push(
      '! Proceed with caution.',
      'There are model syntax warnings. Deployment may fail for some resources.',
    );
  else
    lines.push(
      '✗ Do not proceed to deploy.',
      'There are critical errors that must be fixed before deployment.',
    );
  const display = path.relative(cwd, buildDir) || '.';
  out(renderPanel(`Built to directory ${display.endsWith('/') ? display : `${display}/`}`, lines));
}

/**
 * Reads what Cognite Toolkit 0.8.x `cdf build` leaves in the build directory: `lineage.yaml` and
 * `insights.json` / `insights.csv`.
 *
 * `cdf build` exits 0 even when modules failed (build_v2.py `_display_build_summary` only prints
 * "Do not proceed to deploy."), so these files are the only reliable build verdict.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class BuildReportError extends Error {
  override name = 'BuildReportError';
}

export interface BuildInsight {
  insightType: string;
  code?: string;
  sourceFile?: string;
  message: string;
  fix?: string;
}

export interface BuildReport {
  modulesProcessed: number;
  modulesSucceeded: number;
  modulesFailed: number;
  insightsSummary: Record<string, number>;
  criticalInsights: Array<{ insightType: string; code?: string; sourceFile?: string; message: string }>;
  cdfProject: string | null;
  resources: Array<{
    kind: string;
    resourceFolder: string;
    identifier: Record<string, string>;
    sourceFile: string;
    builtFile: string;
  }>;
  /** Modules whose lineage status is not SUCCESS, with that status ("FAILED: ModelSyntaxError", ...). */
  failedModules: Array<{ moduleId: string; status: string }>;
}

export type InsightSeverity = 'error' | 'warning' | 'info';

/**
 * How serious an insight is, from its type name: insights.json carries no severity, and the names change
 * between Toolkit versions (0.8.271 writes FileReadError / ConsistencyError, 0.9.28 writes Error for both).
 * Error-level means "do not deploy":
 * - any name that says error, failure, invalid or fatal (Error, FileReadError, FailedValidation, ...);
 *   ConsistencyError only gets "Proceed with caution." from 0.8.x, but it covers unresolved variables and
 *   missing dependencies, which would deploy broken configuration;
 * - ModelSyntaxWarning, after which the Toolkit itself prints "Do not proceed to deploy.".
 * Recommendations, hints and other warnings do not stop a deploy.
 */
export function insightSeverity(insightType: string): InsightSeverity {
  if (insightType === 'ModelSyntaxWarning') return 'error';
  if (/error|fail|invalid|fatal|critical/i.test(insightType)) return 'error';
  if (/warn/i.test(insightType)) return 'warning';
  return 'info';
}

const countMap = z.record(z.string(), z.number().int().nonnegative());

// Identifier values are strings for every kind we deploy; numbers (e.g. a version written as 1) are
// stringified rather than rejected because YAML loses the distinction.
const identifierValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

const resourceLineageSchema = z.object({
  sourceFile: z.string(),
  sourceHash: z.string(),
  type: z.object({ resource_folder: z.string(), kind: z.string() }),
  builtFile: z.string(),
  identifier: z.record(z.string(), identifierValue),
});

const moduleLineageSchema = z.object({
  moduleId: z.string(),
  modulePath: z.string(),
  insightsSummary: countMap.nullish(),
  resourceLineage: z.array(resourceLineageSchema).nullish(),
  status: z.string(),
});

const lineageSchema = z.object({
  timestamp: z.string().optional(),
  duration: z.number().optional(),
  organizationDir: z.string(),
  buildDir: z.string(),
  cdfProject: z.string().nullable(),
  modulesSummary: z.object({
    processed: z.number().int().nonnegative(),
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
  }),
  insightsSummary: countMap.nullish(),
  moduleLineage: z.array(moduleLineageSchema).nullish(),
});

export type BuildLineage = z.infer<typeof lineageSchema>;

function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * The Toolkit writes lineage with PyYAML (YAML 1.1), which leaves `05177946` or `1234e567` unquoted because to
 * it they are strings; a YAML 1.2 reader turns them into 5177946 and Infinity. Hashes and identifier values
 * are therefore taken from a failsafe parse (every scalar a string) of the same text.
 */
function keepRawStrings(typed: unknown, raw: unknown): unknown {
  const t = typed as { moduleLineage?: Array<{ resourceLineage?: Array<Record<string, unknown>> }> } | null;
  const r = raw as typeof t;
  t?.moduleLineage?.forEach((m, i) =>
    m?.resourceLineage?.forEach((res, j) => {
      const rawRes = r?.moduleLineage?.[i]?.resourceLineage?.[j];
      if (!res || !rawRes) return;
      if (typeof rawRes.sourceHash === 'string') res.sourceHash = rawRes.sourceHash;
      if (rawRes.identifier && typeof rawRes.identifier === 'object') res.identifier = rawRes.identifier;
    }),
  );
  return typed;
}

export function parseLineageDocument(yamlText: string): BuildLineage {
  let doc: unknown;
  try {
    doc = keepRawStrings(parseYaml(yamlText), parseYaml(yamlText, { schema: 'failsafe' }));
  } catch (e) {
    throw new BuildReportError(`lineage.yaml is not valid YAML: ${(e as Error).message}`);
  }
  const parsed = lineageSchema.safeParse(doc);
  if (!parsed.success) {
    throw new BuildReportError(
      `lineage.yaml does not have the expected shape: ${describeZodError(parsed.error)}`,
    );
  }
  return parsed.data;
}

export function parseLineage(yamlText: string): Omit<BuildReport, 'criticalInsights'> {
  const l = parseLineageDocument(yamlText);
  const modules = l.moduleLineage ?? [];
  return {
    modulesProcessed: l.modulesSummary.processed,
    modulesSucceeded: l.modulesSummary.succeeded,
    modulesFailed: l.modulesSummary.failed,
    insightsSummary: { ...(l.insightsSummary ?? {}) },
    cdfProject: l.cdfProject,
    resources: modules.flatMap((m) =>
      (m.resourceLineage ?? []).map((r) => ({
        kind: r.type.kind,
        resourceFolder: r.type.resource_folder,
        identifier: r.identifier,
        sourceFile: r.sourceFile,
        builtFile: r.builtFile,
      })),
    ),
    failedModules: modules
      .filter((m) => m.status !== 'SUCCESS')
      .map((m) => ({ moduleId: m.moduleId, status: m.status })),
  };
}

// Two shapes are seen in the wild: camelCase with one sourceFile (0.8.167 source) and snake_case with a
// source_files list (what 0.8.271 writes). Both are accepted and normalised.
const insightJsonSchema = z.array(
  z.union([
    z.object({
      insightType: z.string().min(1),
      code: z.string().nullish(),
      sourceFile: z.string().nullish(),
      message: z.string(),
      fix: z.string().nullish(),
    }),
    z
      .object({
        insight_type: z.string().min(1),
        code: z.string().nullish(),
        source_files: z.array(z.string()).nullish(),
        source_file: z.string().nullish(),
        message: z.string(),
        fix: z.string().nullish(),
      })
      .transform((i) => ({
        insightType: i.insight_type,
        code: i.code,
        sourceFile: i.source_file ?? (i.source_files?.length ? i.source_files.join(', ') : undefined),
        message: i.message,
        fix: i.fix,
      })),
  ]),
);

function clean(i: {
  insightType: string;
  code?: string | null;
  sourceFile?: string | null;
  message: string;
  fix?: string | null;
}): BuildInsight {
  const out: BuildInsight = { insightType: i.insightType, message: i.message };
  if (i.code) out.code = i.code;
  if (i.sourceFile) out.sourceFile = i.sourceFile;
  if (i.fix) out.fix = i.fix;
  return out;
}

export function parseInsightsJson(text: string): BuildInsight[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new BuildReportError(`insights.json is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = insightJsonSchema.safeParse(doc);
  if (!parsed.success) {
    throw new BuildReportError(
      `insights.json does not have the expected shape: ${describeZodError(parsed.error)}`,
    );
  }
  return parsed.data.map(clean);
}

/** RFC 4180 reader; the Toolkit quotes every field (csv.unix_dialect) and messages may hold newlines. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const src = text.replace(/\r\n/g, '\n');
  while (i < src.length) {
    const ch = src[i] as string;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        const next = src[i + 1];
        if (next !== undefined && next !== ',' && next !== '\n') {
          throw new BuildReportError(
            `insights.csv: unexpected character after a closing quote in record ${rows.length + 1}`,
          );
        }
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      if (field !== '') throw new BuildReportError(`insights.csv: stray quote in record ${rows.length + 1}`);
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += ch;
    }
    i++;
  }
  if (quoted) throw new BuildReportError('insights.csv: unterminated quoted field');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const CSV_HEADER = ['insight_type', 'code', 'source_file', 'message', 'fix'];

export function parseInsightsCsv(text: string): BuildInsight[] {
  const rows = readCsv(text);
  const header = rows.shift();
  if (!header || header.join(',') !== CSV_HEADER.join(',')) {
    throw new BuildReportError(
      `insights.csv has an unexpected header "${(header ?? []).join(',')}"; expected "${CSV_HEADER.join(',')}"`,
    );
  }
  return rows.map((r, idx) => {
    if (r.length !== CSV_HEADER.length) {
      throw new BuildReportError(
        `insights.csv record ${idx + 2} has ${r.length} fields; expected ${CSV_HEADER.length}`,
      );
    }
    const [insightType = '', code, sourceFile, message = '', fix] = r;
    if (!insightType) throw new BuildReportError(`insights.csv record ${idx + 2} has no insight_type`);
    return clean({ insightType, code, sourceFile, message, fix });
  });
}

export function isCriticalInsight(i: { insightType: string }): boolean {
  return insightSeverity(i.insightType) === 'error';
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function readInsights(buildDir: string): Promise<BuildInsight[]> {
  const json = await readIfExists(path.join(buildDir, 'insights.json'));
  if (json !== undefined) return parseInsightsJson(json);
  const csv = await readIfExists(path.join(buildDir, 'insights.csv'));
  if (csv !== undefined) return parseInsightsCsv(csv);
  throw new BuildReportError(`Neither insights.json nor insights.csv exists in ${buildDir}`);
}

export async function readBuildReport(buildDir: string): Promise<BuildReport> {
  const lineageText = await readIfExists(path.join(buildDir, 'lineage.yaml'));
  if (lineageText === undefined) {
    throw new BuildReportError(`${path.join(buildDir, 'lineage.yaml')} does not exist; did cdf build run?`);
  }
  const lineage = parseLineage(lineageText);
  const insights = await readInsights(buildDir);
  const criticalInsights = insights
    .filter(isCriticalInsight)
    .map(({ insightType, code, sourceFile, message }) => {
      const out: BuildReport['criticalInsights'][number] = { insightType, message };
      if (code !== undefined) out.code = code;
      if (sourceFile !== undefined) out.sourceFile = sourceFile;
      return out;
    });
  // A failed module always counts, even when the insight that caused it is not in our critical list.
  for (const m of lineage.failedModules) {
    if (m.status.startsWith('FAILED')) {
      criticalInsights.push({
        insightType: 'ModuleFailed',
        sourceFile: m.moduleId,
        message: `Module ${m.moduleId}: ${m.status}`,
      });
    }
  }
  return { ...lineage, criticalInsights };
}

/** Why a build must not be deployed, or undefined when it may be. Names each insight's file and message. */
export function buildRefusal(report: BuildReport): string | undefined {
  if (report.modulesFailed === 0 && report.criticalInsights.length === 0) return undefined;
  // A failed module is also listed as its own insight; its bare status ("FAILED: Error") says less than the
  // insight that caused it, so it goes last.
  const ordered = [
    ...report.criticalInsights.filter((i) => i.insightType !== 'ModuleFailed'),
    ...report.criticalInsights.filter((i) => i.insightType === 'ModuleFailed'),
  ];
  const insights = ordered.slice(0, 5).map((i) => {
    const where = i.sourceFile && i.insightType !== 'ModuleFailed' ? ` in ${i.sourceFile}` : '';
    const message = i.message
      .replace(/\[\/?[a-z ]*\]/g, '')
      .replace(/\s*\n\s*/g, ' ')
      .slice(0, 300);
    return `${i.insightType}${i.code ? ` ${i.code}` : ''}${where}: ${message}`;
  });
  return (
    `build failed: ${report.modulesFailed} module(s) failed, ${report.criticalInsights.length} critical insight(s)` +
    (insights.length ? `; ${insights.join('; ')}` : '')
  );
}

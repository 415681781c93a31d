/**
 * Parses the console output of Cognite Toolkit 0.8.x `cdf deploy --dry-run` and `cdf deploy`.
 *
 * The Toolkit has no machine-readable deploy output, so the rich "Deploy summary" panel is the only
 * source of the plan. The parser is deliberately strict: a plan we misread could be approved and applied,
 * so anything that does not look exactly like the known layout throws PlanParseError instead of
 * degrading to "no changes".
 *
 * Layout (cognite_toolkit/_cdf_tk/commands/deploy_v2/command.py `_display_results`, ui.py):
 * a rich ROUNDED panel (padding 1,2) holding a box.SIMPLE table without edges (cell padding 0,1),
 * header row, a `────` rule, one row per resource type, a blank section break and an `All` row when
 * there is more than one type. When the console is narrower than the table, rich wraps header words
 * onto several lines (bottom-aligned), wraps multi-word cells (`data` / `models`) and truncates single
 * words with `…` (`Resou…`, `conta…`).
 */
import { createHash } from 'node:crypto';
import type { ResourceChangeCounts } from '../../contracts/types';
import { lastLine } from './output-lines';

export type { ResourceChangeCounts };

export class PlanParseError extends Error {
  override name = 'PlanParseError';
}

export interface ResourceDiff {
  title: string;
  /** The diff's text; with `diffBodies: 'sha256'` only its digest, `sha256:<hex>` (diffDigest). */
  body: string;
}

export interface ParsedDryRun {
  resources: ResourceChangeCounts[];
  totals: Omit<ResourceChangeCounts, 'resource'>;
  /** No create, update or delete anywhere. */
  empty: boolean;
  /** False if any row says "No" (the token lacks WRITE for that type). */
  ableToDeploy: boolean;
  /** The Toolkit printed the "No resources were deployed." panel instead of a table. */
  noResources: boolean;
  /** `--verbose` panels titled "<type>: <identifier>" holding a CDF-vs-local diff. */
  resourceDiffs: ResourceDiff[];
}

export interface DeployedResourceCounts {
  resource: string;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  total: number;
}

export interface ParsedDeploy {
  resources: DeployedResourceCounts[];
}

const DRY_RUN_TITLE = 'Deploy summary (dry run)';
const DEPLOY_TITLE = 'Deploy summary';
const NO_RESOURCES_TEXT = 'No resources were deployed.';

const DRY_RUN_COLUMNS = [
  'Resource',
  'Would create',
  'Would update',
  'Would delete',
  'Unchanged',
  'Skipped',
  'Total',
  'Able to deploy',
] as const;
const DEPLOY_COLUMNS = [
  'Resource',
  'Created',
  'Updated',
  'Deleted',
  'Unchanged',
  'Skipped',
  'Total',
] as const;

/**
 * CRUD `display_name`s of Toolkit 0.8.167 (resource_ios/_resource_ios/*.py). Needed only to undo
 * rich's `…` truncation of resource names on narrow consoles; a truncated name that does not map to
 * exactly one of these is an error rather than a guess.
 */
export const KNOWN_RESOURCE_DISPLAY_NAMES: readonly string[] = [
  '3D models',
  'Streamlit apps',
  'all-scoped groups',
  'app versions',
  'apps',
  'assets',
  'cognite files',
  'containers',
  'data models',
  'data product versions',
  'data products',
  'data sets',
  'edges',
  'events',
  'extraction pipeline configs',
  'extraction pipelines',
  'file content',
  'file metadata',
  'function schedules',
  'functions',
  'graph QL schemas',
  'groups',
  'hosted extractor destinations',
  'hosted extractor jobs',
  'hosted extractor mappings',
  'hosted extractor sources',
  'infield CDM location configs',
  'infield configs',
  'infield location configs',
  'labels',
  'location filters',
  'nodes',
  'raw databases',
  'raw rows',
  'raw tables',
  'relationships',
  'resource view mapping',
  'resource-scoped groups',
  'robotics data postprocessing',
  'robotics frames',
  'robotics locations',
  'robotics maps',
  'robotics robot capabilities',
  'rule set versions',
  'rule sets',
  'search config',
  'security categories',
  'sequence rows',
  'sequences',
  'signal sinks',
  'signal subscriptions',
  'simulator model revisions',
  'simulator models',
  'simulator routine revisions',
  'simulator routines',
  'spaces',
  'streams',
  'time series',
  'timeseries datapoints',
  'timeseries subscriptions',
  'transformation external data sources',
  'transformation notifications',
  'transformation schedules',
  'transformations',
  'views',
  'workflow triggers',
  'workflow versions',
  'workflows',
];

// CSI (colours, cursor moves) and OSC (hyperlinks, titles) sequences; rich emits both under a TTY.
const ANSI_PATTERN = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}

interface Panel {
  title: string;
  /** Lines between the side borders, padding included, trailing spaces removed. */
  body: string[];
  startLine: number;
}

function normalise(text: string): string[] {
  return stripAnsi(text).replace(/\r\n?/g, '\n').split('\n');
}

/**
 * Finds rich ROUNDED panels one normalised line at a time (no ANSI, no line breaks), so a plan of any size can be
 * read as it streams by: only the open panel's lines are held. The first malformed panel is kept as `error`
 * (and the rest ignored), for the caller to throw once the whole output is in.
 */
class PanelScanner {
  private open: (Panel & { rawTitle: string }) | undefined;
  private lineNo = 0;
  error: PlanParseError | undefined;

  constructor(private readonly onPanel: (panel: Panel) => void) {}

  line(text: string): void {
    this.lineNo += 1;
    if (this.error) return;
    const line = text.trimEnd();
    const open = this.open;
    if (open) {
      if (line.startsWith('╰')) {
        this.open = undefined;
        this.onPanel({ title: open.title, body: open.body, startLine: open.startLine });
      } else if (!line.startsWith('│')) this.fail(open);
      // Only the outer borders are stripped; a `│` inside the content stays.
      else open.body.push(line.slice(1).replace(/│$/, '').trimEnd());
      return;
    }
    const m = /^╭─(?: (.*?) )?─*╮$/.exec(line);
    if (m) this.open = { title: (m[1] ?? '').trim(), rawTitle: m[1] ?? '', body: [], startLine: this.lineNo };
  }

  end(): void {
    if (this.open && !this.error) this.fail(this.open);
  }

  private fail(open: { rawTitle: string; startLine: number }): void {
    this.open = undefined;
    this.error = new PlanParseError(
      `Panel "${open.rawTitle}" starting on line ${open.startLine} is not closed by a ╰ border`,
    );
  }
}

/** Finds every rich ROUNDED panel in the output. */
export function findPanels(text: string): Panel[] {
  const panels: Panel[] = [];
  const scanner = new PanelScanner((p) => panels.push(p));
  for (const line of normalise(text)) scanner.line(line);
  scanner.end();
  if (scanner.error) throw scanner.error;
  return panels;
}

function panelText(panel: Panel): string {
  return panel.body
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join(' ');
}

/** The first `ERROR (X): ...` line, quoted in errors so a failed command is not reported as a format problem. */
function toolkitErrorLine(text: string): string | undefined {
  return normalise(text)
    .map((l) => l.trim())
    .find((l) => /^ERROR \([A-Za-z]+\):/.test(l));
}

function missingPanelError(text: string, what: string): PlanParseError {
  const err = toolkitErrorLine(text);
  const last = lastLine(stripAnsi(text));
  const hint = err
    ? ` The Toolkit reported: "${err}".`
    : last
      ? ` Last output line: "${last.slice(0, 200)}".`
      : ' The output was empty.';
  return new PlanParseError(`No ${what} found in the Toolkit output.${hint}`);
}

interface TableRow {
  cells: string[];
}

interface ParsedTable {
  rows: TableRow[];
  all?: TableRow;
}

function headerMatches(got: string, expected: string): boolean {
  const g = got.split(' ').filter(Boolean);
  const e = expected.split(' ');
  if (g.length !== e.length) return false;
  return g.every((word, i) => {
    const want = e[i] ?? '';
    if (word === want) return true;
    if (word.endsWith('…')) return want.startsWith(word.slice(0, -1)) && want.length >= word.length;
    return false;
  });
}

function resolveResourceName(name: string): string {
  if (!name.includes('…')) return name;
  // Truncation only cuts words, so every visible word must be a prefix (or copy) of the real one.
  const words = name.split(' ');
  const candidates = KNOWN_RESOURCE_DISPLAY_NAMES.filter(
    (known) => headerMatches(name, known) && known.split(' ').length === words.length,
  );
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  throw new PlanParseError(
    `Resource name "${name}" was truncated by a narrow console and ${
      candidates.length === 0 ? 'matches no known resource type' : `is ambiguous (${candidates.join(', ')})`
    }; run the Toolkit with COLUMNS=200`,
  );
}

/**
 * Reads the table inside a summary panel. Column boundaries come from the character positions that
 * are blank on every header and row line, which works for both the plain and the wrapped rendering.
 */
function parseSummaryTable(panel: Panel, expectedColumns: readonly string[]): ParsedTable {
  const body = panel.body;
  const ruleIdx = body.findIndex((l) => /^\s*─{3,}\s*$/.test(l));
  if (ruleIdx < 0) {
    throw new PlanParseError(
      `Panel "${panel.title}" has no table header rule (────); body: ${panelText(panel).slice(0, 300)}`,
    );
  }
  const ruleLine = body[ruleIdx] ?? '';
  const indent = ruleLine.indexOf('─');
  const tableWidth = ruleLine.trim().length;
  const tableEnd = indent + tableWidth;

  const header: string[] = [];
  for (let i = ruleIdx - 1; i >= 0 && (body[i] ?? '').trim() !== ''; i--) header.unshift(body[i] ?? '');
  if (header.length === 0)
    throw new PlanParseError(`Panel "${panel.title}" has no table header above the rule`);

  // Rows run until the first non-blank line that is indented less than the table (a hint or
  // "Skipped resources" section of the same panel).
  const rowLines: Array<string | null> = [];
  for (let i = ruleIdx + 1; i < body.length; i++) {
    const line = body[i] ?? '';
    if (line.trim() === '') {
      rowLines.push(null);
      continue;
    }
    const lead = line.length - line.trimStart().length;
    if (lead < indent) break;
    rowLines.push(line);
  }
  const content = [...header, ...rowLines.filter((l): l is string => l !== null)];
  for (const line of content) {
    const lead = line.length - line.trimStart().length;
    if (lead < indent || line.length > tableEnd) {
      throw new PlanParseError(
        `Line "${line.trim()}" in panel "${panel.title}" lies outside the table columns`,
      );
    }
  }

  const occupied: boolean[] = new Array<boolean>(tableEnd).fill(false);
  for (const line of content) {
    for (let c = 0; c < line.length; c++) if (line[c] !== ' ') occupied[c] = true;
  }
  // Cells are separated by at least 3 blanks (padding + divider + padding); words inside a cell by one.
  const spans: Array<[number, number]> = [];
  let start = -1;
  let blanks = 0;
  for (let c = indent; c <= tableEnd; c++) {
    if (c < tableEnd && occupied[c]) {
      if (start < 0) start = c;
      blanks = 0;
    } else if (start >= 0) {
      blanks++;
      if (blanks >= 2 || c === tableEnd) {
        spans.push([start, c - blanks + 1]);
        start = -1;
        blanks = 0;
      }
    }
  }
  const cut = (line: string, [a, b]: [number, number]): string => line.slice(a, b).trim();

  const headers = spans.map((span) =>
    header
      .map((l) => cut(l, span))
      .filter(Boolean)
      .join(' '),
  );
  const columnsOk =
    headers.length === expectedColumns.length &&
    headers.every((h, i) => headerMatches(h, expectedColumns[i] ?? ''));
  if (!columnsOk) {
    throw new PlanParseError(
      `Unexpected columns in panel "${panel.title}": [${headers.join(' | ')}]; expected [${expectedColumns.join(' | ')}]`,
    );
  }

  const rows: TableRow[] = [];
  let all: TableRow | undefined;
  let previous: TableRow | undefined;
  let sawSectionBreak = false;
  for (const line of rowLines) {
    if (line === null) {
      if (rows.length > 0) sawSectionBreak = true;
      previous = undefined;
      continue;
    }
    const cells = spans.map((span) => cut(line, span));
    const [first, ...rest] = cells;
    if (rest.every((c) => c === '')) {
      // A wrapped resource name ("data" / "models"): continues the row above.
      if (!previous || !first)
        throw new PlanParseError(`Unexpected table line "${line.trim()}" in panel "${panel.title}"`);
      previous.cells[0] = `${previous.cells[0] ?? ''} ${first}`;
      continue;
    }
    if (rest.some((c) => c === '') || !first) {
      throw new PlanParseError(`Table row "${line.trim()}" in panel "${panel.title}" has empty cells`);
    }
    const row: TableRow = { cells };
    if (first === 'All' && sawSectionBreak) {
      if (all) throw new PlanParseError(`Panel "${panel.title}" has two "All" rows`);
      all = row;
    } else {
      if (all || sawSectionBreak)
        throw new PlanParseError(
          `Unexpected row "${line.trim()}" after the "All" section in panel "${panel.title}"`,
        );
      rows.push(row);
    }
    previous = row;
  }
  if (rows.length === 0) throw new PlanParseError(`Panel "${panel.title}" has a table without resource rows`);
  for (const row of rows) row.cells[0] = resolveResourceName(row.cells[0] ?? '');
  const names = rows.map((r) => r.cells[0]);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PlanParseError(`Resource "${dup}" appears twice in panel "${panel.title}"`);
  if (rows.length > 1 && !all) {
    throw new PlanParseError(
      `Panel "${panel.title}" lists ${rows.length} resource types but has no "All" totals row`,
    );
  }
  return { rows, all };
}

function toCount(cell: string | undefined, column: string, resource: string): number {
  if (cell === undefined || !/^\d+$/.test(cell)) {
    throw new PlanParseError(`Non-numeric "${column}" value "${cell ?? ''}" for resource "${resource}"`);
  }
  return Number(cell);
}

function toYesNo(cell: string | undefined, resource: string): boolean {
  if (cell === 'Yes') return true;
  if (cell === 'No') return false;
  throw new PlanParseError(
    `Unexpected "Able to deploy" value "${cell ?? ''}" for resource "${resource}" (expected Yes or No)`,
  );
}

function dryRunCounts(row: TableRow): ResourceChangeCounts {
  const [resource = '', c, u, d, un, sk, t, able] = row.cells;
  const counts: ResourceChangeCounts = {
    resource,
    create: toCount(c, 'Would create', resource),
    update: toCount(u, 'Would update', resource),
    delete: toCount(d, 'Would delete', resource),
    unchanged: toCount(un, 'Unchanged', resource),
    skipped: toCount(sk, 'Skipped', resource),
    total: toCount(t, 'Total', resource),
    ableToDeploy: toYesNo(able, resource),
  };
  const sum = counts.create + counts.update + counts.delete + counts.unchanged + counts.skipped;
  if (sum !== counts.total) {
    throw new PlanParseError(`Counts for "${resource}" add up to ${sum} but Total says ${counts.total}`);
  }
  return counts;
}

const DIFF_TITLE = /^[A-Za-z0-9][A-Za-z0-9 ()_-]*: \S/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ERROR_LINE = /^ERROR \([A-Za-z]+\):/;
/** How many of the last non-blank lines are kept for the "last output line" of an error. */
const KEPT_TAIL_LINES = 64;

function diffBody(panel: Panel): string {
  const lines = panel.body.map((l) => (l.startsWith('  ') ? l.slice(2) : l.trimStart()));
  while (lines.length && lines[0]?.trim() === '') lines.shift();
  while (lines.length && lines[lines.length - 1]?.trim() === '') lines.pop();
  return lines.join('\n');
}

/**
 * What two plans' diffs are compared by: a body's sha256, so a plan parsed with `diffBodies: 'sha256'` (which
 * holds only that) compares with one that holds the text.
 */
export function diffDigest(body: string): string {
  return DIGEST.test(body) ? body : `sha256:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
}

function isNoResourcesPanel(p: Panel): boolean {
  return (p.title === DEPLOY_TITLE || p.title === DRY_RUN_TITLE) && panelText(p) === NO_RESOURCES_TEXT;
}

/**
 * A copy of `s` that holds only its own characters. V8 makes a substring a view into the string it was cut from:
 * a diff's title kept from a line of a 64 KB chunk of output would keep the whole chunk, and all the titles of a
 * large plan would keep all of its text.
 */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

export interface DryRunParserOptions {
  /**
   * `text` (the default) keeps each verbose diff's text in `resourceDiffs`; `sha256` keeps only its digest
   * (`sha256:<hex>`, see diffDigest), which is all a comparison of two plans needs: a large plan's diffs are
   * then not held in memory a second time.
   */
  diffBodies?: 'text' | 'sha256';
}

/**
 * parseDryRunOutput fed as the output arrives: `write` takes any piece of the text (lines may be cut anywhere),
 * `end` gives the result or throws the PlanParseError the whole text would have. Holds the open panel, the
 * diffs' titles (and bodies or digests) and a few last lines, never the text.
 */
export class DryRunParser {
  private partial = '';
  private readonly scanner = new PanelScanner((p) => this.panel(p));
  private readonly diffs: ResourceDiff[] = [];
  private summary: Panel | undefined;
  private summaries = 0;
  private sawDeploy = false;
  private errorLine: string | undefined;
  private readonly tail: string[] = [];

  constructor(private readonly options: DryRunParserOptions = {}) {}

  write(chunk: string): void {
    const text = this.partial ? this.partial + chunk : chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.rawLine(text.slice(start, nl), true);
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  end(): ParsedDryRun {
    this.rawLine(this.partial, false);
    this.partial = '';
    this.scanner.end();
    if (this.scanner.error) throw this.scanner.error;
    return this.result();
  }

  /** One line of the raw text, without its `\n`; `terminated` when it had one. */
  private rawLine(raw: string, terminated: boolean): void {
    let line = stripAnsi(raw);
    if (terminated && line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim()) {
      this.tail.push(line);
      if (this.tail.length > KEPT_TAIL_LINES) this.tail.shift();
    }
    // As normalise() does: a lone \r (a progress bar redrawing) also ends a line.
    for (const piece of line.includes('\r') ? line.split('\r') : [line]) {
      if (this.errorLine === undefined && ERROR_LINE.test(piece.trim())) this.errorLine = piece.trim();
      this.scanner.line(piece);
    }
  }

  private panel(p: Panel): void {
    if (p.title === DEPLOY_TITLE) this.sawDeploy = true;
    if (p.title === DRY_RUN_TITLE || isNoResourcesPanel(p)) {
      this.summaries += 1;
      this.summary ??= p;
      return;
    }
    // Only the diffs before the summary belong to the plan.
    if (this.summary || !DIFF_TITLE.test(p.title)) return;
    const body = diffBody(p);
    this.diffs.push({
      title: ownCopy(p.title),
      body: this.options.diffBodies === 'sha256' ? diffDigest(body) : ownCopy(body),
    });
  }

  private missingPanel(what: string): PlanParseError {
    const last = lastLine(this.tail.join('\n'));
    const hint = this.errorLine
      ? ` The Toolkit reported: "${this.errorLine}".`
      : last
        ? ` Last output line: "${last.slice(0, 200)}".`
        : ' The output was empty.';
    return new PlanParseError(`No ${what} found in the Toolkit output.${hint}`);
  }

  private result(): ParsedDryRun {
    const summary = this.summary;
    if (!summary) {
      if (this.sawDeploy) {
        throw new PlanParseError('Found a real "Deploy summary" panel where a dry-run summary was expected');
      }
      throw this.missingPanel(`"${DRY_RUN_TITLE}" or "${NO_RESOURCES_TEXT}" panel`);
    }
    if (this.summaries > 1) {
      throw new PlanParseError(`Found ${this.summaries} deploy summary panels; expected exactly one`);
    }
    const diffs = this.diffs;
    if (isNoResourcesPanel(summary)) {
      return {
        resources: [],
        totals: { create: 0, update: 0, delete: 0, unchanged: 0, skipped: 0, total: 0, ableToDeploy: true },
        empty: true,
        ableToDeploy: true,
        noResources: true,
        resourceDiffs: diffs,
      };
    }

    const table = parseSummaryTable(summary, DRY_RUN_COLUMNS);
    const resources = table.rows.map(dryRunCounts);
    let totals: Omit<ResourceChangeCounts, 'resource'>;
    if (table.all) {
      const { resource: _all, ...rest } = dryRunCounts(table.all);
      totals = rest;
      const keys = ['create', 'update', 'delete', 'unchanged', 'skipped', 'total'] as const;
      for (const k of keys) {
        const sum = resources.reduce((acc, r) => acc + r[k], 0);
        if (sum !== totals[k])
          throw new PlanParseError(`The "All" row says ${totals[k]} for ${k} but the rows add up to ${sum}`);
      }
      if (totals.ableToDeploy !== resources.every((r) => r.ableToDeploy)) {
        throw new PlanParseError('The "All" row\'s "Able to deploy" disagrees with the resource rows');
      }
    } else {
      const { resource: _only, ...rest } = resources[0] as ResourceChangeCounts;
      totals = rest;
    }
    return {
      resources,
      totals,
      empty: totals.create + totals.update + totals.delete === 0,
      ableToDeploy: totals.ableToDeploy,
      noResources: false,
      resourceDiffs: diffs,
    };
  }
}

export function parseDryRunOutput(text: string, options: DryRunParserOptions = {}): ParsedDryRun {
  const parser = new DryRunParser(options);
  parser.write(text);
  return parser.end();
}

export function parseDeployOutput(text: string): ParsedDeploy {
  const panels = findPanels(text);
  if (panels.some((p) => p.title === DRY_RUN_TITLE)) {
    throw new PlanParseError('Found a dry-run summary where the summary of a real deploy was expected');
  }
  const summaries = panels.filter((p) => p.title === DEPLOY_TITLE);
  if (summaries.length === 0) throw missingPanelError(text, `"${DEPLOY_TITLE}" panel`);
  if (summaries.length > 1)
    throw new PlanParseError(`Found ${summaries.length} "${DEPLOY_TITLE}" panels; expected one`);
  const summary = summaries[0] as Panel;
  if (isNoResourcesPanel(summary)) return { resources: [] };

  const table = parseSummaryTable(summary, DEPLOY_COLUMNS);
  const toRow = (row: TableRow): DeployedResourceCounts => {
    const [resource = '', c, u, d, un, sk, t] = row.cells;
    const r: DeployedResourceCounts = {
      resource,
      created: toCount(c, 'Created', resource),
      updated: toCount(u, 'Updated', resource),
      deleted: toCount(d, 'Deleted', resource),
      unchanged: toCount(un, 'Unchanged', resource),
      skipped: toCount(sk, 'Skipped', resource),
      total: toCount(t, 'Total', resource),
    };
    const sum = r.created + r.updated + r.deleted + r.unchanged + r.skipped;
    if (sum !== r.total)
      throw new PlanParseError(`Counts for "${resource}" add up to ${sum} but Total says ${r.total}`);
    return r;
  };
  const resources = table.rows.map(toRow);
  if (table.all) {
    const all = toRow(table.all);
    const keys = ['created', 'updated', 'deleted', 'unchanged', 'skipped', 'total'] as const;
    for (const k of keys) {
      const sum = resources.reduce((acc, r) => acc + r[k], 0);
      if (sum !== all[k])
        throw new PlanParseError(`The "All" row says ${all[k]} for ${k} but the rows add up to ${sum}`);
    }
  }
  return { resources };
}

const CLEAN_DRY_RUN_TITLE = 'Clean summary (dry run)';
const CLEAN_DRY_RUN_COLUMNS = [
  'Resource',
  'Would create',
  'Would update',
  'Would delete',
  'Unchanged',
  'Skipped',
  'Total',
  'Able to clean',
] as const;

export interface ParsedCleanDryRun {
  resources: Array<{ resource: string; delete: number; total: number; ableToClean: boolean }>;
  totalDelete: number;
}

/** The "Clean summary (dry run)" table of `cdf clean --dry-run`: what a clean would delete. */
export function parseCleanDryRunOutput(text: string): ParsedCleanDryRun {
  const panels = findPanels(text);
  const summaries = panels.filter((p) => p.title === CLEAN_DRY_RUN_TITLE);
  if (summaries.length !== 1) {
    if (summaries.length === 0 && panels.some((p) => panelText(p) === 'No resources were cleaned.')) {
      return { resources: [], totalDelete: 0 };
    }
    throw summaries.length === 0
      ? missingPanelError(text, `"${CLEAN_DRY_RUN_TITLE}" panel`)
      : new PlanParseError(`Found ${summaries.length} clean summary panels; expected one`);
  }
  const table = parseSummaryTable(summaries[0] as Panel, CLEAN_DRY_RUN_COLUMNS);
  const resources = table.rows.map((row) => {
    const [resource = '', , , d, , , t, able] = row.cells;
    if (able !== 'Yes' && able !== 'No') {
      throw new PlanParseError(`Unexpected "Able to clean" value "${able ?? ''}" for resource "${resource}"`);
    }
    return {
      resource,
      delete: toCount(d, 'Would delete', resource),
      total: toCount(t, 'Total', resource),
      ableToClean: able === 'Yes',
    };
  });
  return { resources, totalDelete: resources.reduce((acc, r) => acc + r.delete, 0) };
}

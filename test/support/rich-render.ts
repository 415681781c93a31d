/**
 * Just enough of rich's Panel/Table rendering to print what Toolkit 0.8.x prints, character for
 * character for the summary tables (the parser in activities/toolkit is tested against both this and
 * real captures). ToolkitPanel = ROUNDED box, padding (1, 2), preceded by an empty line;
 * ToolkitTable = box.SIMPLE, show_edge=False, cell padding (0, 1), placed with Padding(1, 0, 1, 2).
 */

export function consoleWidth(): number {
  const c = Number(process.env.COLUMNS);
  // 200 is the width the worker runs the real CLI with.
  return Number.isInteger(c) && c >= 20 ? c : 200;
}

export interface Column {
  header: string;
  justify: 'left' | 'right';
}

// Python's round() rounds half to even; rich's ratio_reduce relies on it.
function pyRound(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (Math.abs(diff - 0.5) < 1e-9) return f % 2 === 0 ? f : f + 1;
  return Math.round(x);
}

function ratioReduce(total: number, ratios: number[], maximums: number[], values: number[]): number[] {
  const r = ratios.map((ratio, i) => ((maximums[i] ?? 0) ? ratio : 0));
  let totalRatio = r.reduce((a, b) => a + b, 0);
  if (!totalRatio) return [...values];
  let remaining = total;
  return values.map((value, i) => {
    const ratio = r[i] ?? 0;
    if (ratio && totalRatio > 0) {
      const distributed = Math.min(maximums[i] ?? 0, pyRound((ratio * remaining) / totalRatio));
      remaining -= distributed;
      totalRatio -= ratio;
      return value - distributed;
    }
    return value;
  });
}

/** rich Table._collapse_widths followed by the "reduce evenly" last resort. */
function fitWidths(widths: number[], maxWidth: number): number[] {
  let w = [...widths];
  let total = w.reduce((a, b) => a + b, 0);
  let excess = total - maxWidth;
  while (total && excess > 0) {
    const maxCol = Math.max(...w);
    const second = Math.max(0, ...w.map((x) => (x !== maxCol ? x : 0)));
    const diff = maxCol - second;
    const ratios = w.map((x) => (x === maxCol ? 1 : 0));
    if (!diff) break;
    w = ratioReduce(
      excess,
      ratios,
      w.map(() => Math.min(excess, diff)),
      w,
    );
    total = w.reduce((a, b) => a + b, 0);
    excess = total - maxWidth;
  }
  if (total > maxWidth) {
    w = ratioReduce(
      total - maxWidth,
      w.map(() => 1),
      w,
      w,
    );
  }
  return w;
}

/** Greedy word wrap; a word longer than the width gets its own line, cut with "…" (overflow=ellipsis). */
export function wrapText(text: string, width: number): string[] {
  if (width <= 0) return [''];
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let current = '';
    for (const word of para.split(' ').filter((w) => w !== '')) {
      if (current && current.length + 1 + word.length <= width) {
        current += ` ${word}`;
        continue;
      }
      if (current) lines.push(current);
      current = word.length > width ? `${word.slice(0, Math.max(0, width - 1))}…` : word;
    }
    lines.push(current);
  }
  return lines;
}

function justify(text: string, width: number, how: 'left' | 'right'): string {
  return how === 'right' ? text.padStart(width) : text.padEnd(width);
}

/**
 * Renders a table; `sectionBefore` is the row index preceded by a section break (the "All" row).
 * Returns lines without the surrounding Padding.
 */
export function renderTable(
  columns: Column[],
  rows: string[][],
  maxWidth: number,
  sectionBefore?: number,
): string[] {
  const natural = columns.map(
    (c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? '').length)) + 2,
  );
  const dividers = columns.length - 1;
  const widths = fitWidths(natural, maxWidth - dividers);
  const inner = widths.map((w) => Math.max(0, w - 2));
  const tableWidth = widths.reduce((a, b) => a + b, 0) + dividers;

  const renderRow = (cells: string[], vertical: 'top' | 'bottom'): string[] => {
    const wrapped = columns.map((_, i) => wrapText(cells[i] ?? '', inner[i] ?? 0));
    const height = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let line = 0; line < height; line++) {
      const parts = columns.map((c, i) => {
        const w = wrapped[i] ?? [];
        const offset = vertical === 'bottom' ? height - w.length : 0;
        const text = w[line - offset] ?? '';
        return ` ${justify(text, inner[i] ?? 0, c.justify)} `;
      });
      out.push(parts.join(' '));
    }
    return out;
  };

  // rich bottom-aligns wrapped header cells (see the width-80 sample: "Able" sits above "to deploy").
  const lines = [
    ...renderRow(
      columns.map((c) => c.header),
      'bottom',
    ),
    '─'.repeat(tableWidth),
  ];
  rows.forEach((row, idx) => {
    if (idx === sectionBefore) lines.push(' '.repeat(tableWidth));
    lines.push(...renderRow(row, 'top'));
  });
  return lines;
}

/** Table as a panel detail: Padding((1, 0, 1, 2)). */
export function tableDetail(
  columns: Column[],
  rows: string[][],
  panelWidth: number,
  sectionBefore?: number,
): string[] {
  const available = panelWidth - 2 - 4 - 2;
  return ['', ...renderTable(columns, rows, available, sectionBefore).map((l) => `  ${l}`), ''];
}

function hardWrap(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const out: string[] = [];
  // Keep the indentation of the wrapped line so sections stay readable.
  const indent = line.length - line.trimStart().length;
  const words = wrapText(line.trim(), Math.max(10, width - indent));
  for (const w of words) out.push(' '.repeat(indent) + w);
  return out;
}

/** A rich ROUNDED panel with a left-aligned title; `expand=false` shrinks it to its content. */
export function renderPanel(
  title: string,
  content: string[],
  opts: { width?: number; expand?: boolean } = {},
): string {
  const consoleW = opts.width ?? consoleWidth();
  let width = consoleW;
  if (opts.expand === false) {
    const longest = Math.max(0, ...content.map((l) => l.length));
    width = Math.min(consoleW, Math.max(longest + 6, title.length + 6));
  }
  const innerText = width - 6;
  const body = content.flatMap((l) => hardWrap(l.trimEnd(), innerText));
  const out: string[] = [''];
  const dashes = Math.max(0, width - title.length - 5);
  out.push(title ? `╭─ ${title} ${'─'.repeat(dashes)}╮` : `╭${'─'.repeat(width - 2)}╮`);
  const blank = `│${' '.repeat(width - 2)}│`;
  out.push(blank);
  for (const l of body) out.push(`│  ${l.padEnd(innerText)}  │`);
  out.push(blank);
  out.push(`╰${'─'.repeat(width - 2)}╯`);
  return out.join('\n') + '\n';
}

export interface SummaryRow {
  resource: string;
  created: number;
  updated: number;
  deleted: number;
  unchanged: number;
  skipped: number;
  missingWriteAcl: boolean;
}

/** DeployV2Command._display_results: "<Op> summary[ (dry run)]" with one row per type plus "All". */
export function renderSummary(
  rows: SummaryRow[],
  operation: 'deploy' | 'clean',
  dryRun: boolean,
  width = consoleWidth(),
): string {
  const op = operation === 'deploy' ? 'Deploy' : 'Clean';
  if (rows.length === 0) {
    return renderPanel(`${op} summary`, [`No resources were ${operation}ed.`], { width });
  }
  const columns: Column[] = [
    { header: 'Resource', justify: 'left' },
    ...(dryRun ? ['Would create', 'Would update', 'Would delete'] : ['Created', 'Updated', 'Deleted']).map(
      (header) => ({ header, justify: 'right' as const }),
    ),
    { header: 'Unchanged', justify: 'right' },
    { header: 'Skipped', justify: 'right' },
    { header: 'Total', justify: 'right' },
    ...(dryRun ? [{ header: `Able to ${operation}`, justify: 'right' as const }] : []),
  ];
  const toCells = (r: SummaryRow): string[] => {
    const total = r.created + r.updated + r.deleted + r.unchanged + r.skipped;
    const cells = [r.resource, r.created, r.updated, r.deleted, r.unchanged, r.skipped, total].map(String);
    if (dryRun) cells.push(r.missingWriteAcl ? 'No' : 'Yes');
    return cells;
  };
  const cells = rows.map(toCells);
  let sectionBefore: number | undefined;
  if (rows.length > 1) {
    const all: SummaryRow = {
      resource: 'All',
      created: rows.reduce((a, r) => a + r.created, 0),
      updated: rows.reduce((a, r) => a + r.updated, 0),
      deleted: rows.reduce((a, r) => a + r.deleted, 0),
      unchanged: rows.reduce((a, r) => a + r.unchanged, 0),
      skipped: rows.reduce((a, r) => a + r.skipped, 0),
      missingWriteAcl: rows.some((r) => r.missingWriteAcl),
    };
    sectionBefore = cells.length;
    cells.push(toCells(all));
  }
  return renderPanel(
    `${op} summary${dryRun ? ' (dry run)' : ''}`,
    tableDetail(columns, cells, width, sectionBefore),
    { width },
  );
}

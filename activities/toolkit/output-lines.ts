/** Picking the line of Toolkit output that says the most, for failure messages and results. */

const BOX_DRAWING = /[│╭╮╰╯─]/g;

export interface LastLineOptions {
  /** Prefer the last line matching this (e.g. an error line) over the very last line. */
  prefer?: RegExp;
  maxLength?: number;
}

/** The last non-empty line, with rich's box-drawing characters removed. */
export function lastLine(text: string, options: LastLineOptions = {}): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.replace(BOX_DRAWING, '').trim())
    .filter(Boolean);
  const preferred = options.prefer ? [...lines].reverse().find((l) => options.prefer!.test(l)) : undefined;
  const line = preferred ?? lines[lines.length - 1] ?? '';
  return options.maxLength ? line.slice(0, options.maxLength) : line;
}

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

/**
 * The last lines of a command's output that is not kept whole (a plan streamed to a file): enough for a failure's
 * message and output tail (the last 40 lines), bounded in lines and characters whatever the output's size.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private chars = 0;
  private open = '';

  constructor(
    private readonly maxLines = 200,
    private readonly maxChars = 64 * 1024,
  ) {}

  /** A piece of output: whole lines with their `\n`, and possibly a last line without one. */
  push(text: string): void {
    const pieces = `${this.open}${text}`.split('\n');
    this.open = pieces.pop() ?? '';
    for (const line of pieces) {
      this.lines.push(line);
      this.chars += line.length + 1;
    }
    while (this.lines.length > this.maxLines || (this.chars > this.maxChars && this.lines.length > 1))
      this.chars -= (this.lines.shift() ?? '').length + 1;
    if (this.open.length > this.maxChars) this.open = this.open.slice(-this.maxChars);
  }

  /** The kept end of the output, as the output itself ends (with or without a last `\n`). */
  text(): string {
    return this.lines.length ? `${this.lines.join('\n')}\n${this.open}` : this.open;
  }
}

/**
 * Markdown for the Temporal UI (current details, a run's static details): text a requester or a tool controls is
 * made inert, so no link, image, HTML or table break can be injected into what approvers read.
 */

/** Markdown-inert text on one line: every character markdown or HTML could act on is backslash-escaped. */
export function mdText(value: string, max = 300): string {
  const one = value.replace(/[\r\n\t]+/g, ' ').slice(0, max);
  return one.replace(/[\\`*_{}[\]()<>#+\-.!|~&]/g, (c) => `\\${c}`);
}

/** Inline code for ids, hashes and commands: backticks inside are replaced, so the span cannot be closed early. */
export function mdCode(value: string, max = 500): string {
  return `\`${value
    .replace(/[\r\n]+/g, ' ')
    .replace(/`/g, "'")
    .slice(0, max)}\``;
}

/**
 * Cuts text to what a channel accepts. Receivers refuse or truncate long fields (PagerDuty's summary: 1024
 * characters), and the whole text is always behind the run link.
 */
export function clip(text: string, max: number, marker = '… (cut; the whole text is in the run)'): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - marker.length));
  // Never leave half of a surrogate pair (an emoji, say) at the end: it is not valid text on its own.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}${marker}`;
}

/** One line: PagerDuty shows the summary as an incident's title, where line breaks are lost or shown raw. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

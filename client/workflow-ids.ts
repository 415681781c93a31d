/**
 * Generated workflow ids say what a run is at a glance in the UI and in `list`:
 * `<kind>-<environment>-<ref or commit>-<UTC timestamp>`.
 */

/** UTC `yyyymmddThhmmss`: sortable, and free of characters that need quoting in a shell. */
export function utcStamp(date: Date = new Date()): string {
  return date.toISOString().replace(/[-:]/g, '').slice(0, 15);
}

export function sanitizeRef(ref: string, max = 40): string {
  const cleaned = ref
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return cleaned || 'ref';
}

export function promotionWorkflowId(environment: string, ref: string, now?: Date): string {
  return `promotion-${environment}-${sanitizeRef(ref)}-${utcStamp(now)}`;
}

export function rollbackWorkflowId(environment: string, commit: string, now?: Date): string {
  // A commit sha, or the last-known-good placeholder: both are already safe in an id.
  return `rollback-${environment}-${/^[0-9a-f]+$/.test(commit) ? commit.slice(0, 12) : sanitizeRef(commit)}-${utcStamp(now)}`;
}

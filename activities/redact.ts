/** Replaces every occurrence of the given secret values. Used on any text that leaves the activity. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***');
  }
  return out;
}

/**
 * redact() for output read one line at a time (a plan streamed to a file): the secrets are sorted once, and a
 * secret that spans lines (none of the Toolkit's credentials do) has each of its lines masked, since no single
 * line holds it whole.
 */
export function lineRedactor(secrets: readonly string[]): (line: string) => string {
  const parts = secrets.flatMap((s) => (/[\r\n]/.test(s) ? [s, ...s.split(/\r?\n|\r/)] : [s]));
  const masked = [...new Set(parts)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  if (masked.length === 0) return (line) => line;
  return (line) => {
    let out = line;
    for (const secret of masked) if (out.includes(secret)) out = out.split(secret).join('***');
    return out;
  };
}

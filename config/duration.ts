/** Parses "90s", "10m", "72h", "2d", "500ms" or a number of milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new Error(`duration must be positive, got ${value}`);
    return value;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!match) throw new Error(`"${value}" is not a duration; use e.g. "500ms", "30s", "10m", "72h" or "2d"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    match[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw new Error(`duration must be positive, got "${value}"`);
  return ms;
}

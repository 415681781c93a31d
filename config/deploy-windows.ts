/**
 * Deployment windows: when an environment takes applies ("mon-fri 08:00-16:00 Europe/Oslo"). Outside every
 * window an approved run waits before applying. Read by an activity (the worker's clock and time-zone data), so
 * the workflow only sees "open" or "opens at".
 */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** HH:MM, 00:00 to 24:00 (24:00 is the end of the day). */
export const TIME_OF_DAY = /^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/;

export interface DeployWindow {
  days: Weekday[];
  from: string;
  to: string;
  timezone: string;
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function localTime(ms: number, zone: string): { day: Weekday; minute: number } {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const day = String(parts.weekday).slice(0, 3).toLowerCase() as Weekday;
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function isOpen(windows: readonly DeployWindow[], ms: number): boolean {
  return windows.some((w) => {
    const t = localTime(ms, w.timezone);
    return w.days.includes(t.day) && t.minute >= minutes(w.from) && t.minute < minutes(w.to);
  });
}

export type WindowState = { open: true } | { open: false; opensAt: string; why: string };

/** Describes the windows for people: "mon,tue 08:00-16:00 Europe/Oslo; sat 10:00-12:00 UTC". */
export function describeWindows(windows: readonly DeployWindow[]): string {
  return windows.map((w) => `${w.days.join(',')} ${w.from}-${w.to} ${w.timezone}`).join('; ');
}

/**
 * Open now, or when the next window opens. No windows: always open. Scans minute by minute (a week at most:
 * every window opens within one), which stays right across daylight-saving changes.
 */
export function windowState(windows: readonly DeployWindow[], nowMs: number): WindowState {
  if (windows.length === 0 || isOpen(windows, nowMs)) return { open: true };
  const start = Math.floor(nowMs / 60_000) * 60_000 + 60_000;
  for (let t = start; t <= nowMs + 8 * 24 * 3600_000; t += 60_000) {
    if (isOpen(windows, t))
      return {
        open: false,
        opensAt: new Date(t).toISOString(),
        why: `outside the deployment windows (${describeWindows(windows)})`,
      };
  }
  // Unreachable with valid windows (each has a day and from < to); never wait forever on a bad one.
  return { open: true };
}

/**
 * Decides whether a failed Toolkit command is worth retrying. Only failures that come from the network or an
 * overloaded CDF are transient; anything else (validation, auth, bad config) fails the same way every time.
 */
const TRANSIENT_PATTERNS: RegExp[] = [
  /\b429\b/,
  /too many requests/i,
  /\b50[0234]\b/,
  /service unavailable|bad gateway|gateway timeout|internal server error/i,
  /timed out|timeout/i,
  /ECONNRESET|connection reset/i,
  /ECONNREFUSED|connection refused|ConnectError/i,
  /RemoteProtocolError|\bReadError\b|server disconnected/i,
];

const PERMANENT_PATTERNS: RegExp[] = [
  /AuthorizationError|\b401\b|\b403\b|unauthori[sz]ed|forbidden/i,
  /ToolkitValidationError|ToolkitValueError|ValidationError|validation failed/i,
  /No such option|Usage:/,
  /\b400\b|\b409\b|\b422\b/,
];

export type FailureClass = 'transient' | 'permanent';

export function classifyToolkitFailure(output: string, timedOut: boolean): FailureClass {
  if (timedOut) return 'transient';
  // Auth and validation errors often mention retries or status codes too; they win.
  if (PERMANENT_PATTERNS.some((p) => p.test(output))) return 'permanent';
  if (TRANSIENT_PATTERNS.some((p) => p.test(output))) return 'transient';
  return 'permanent';
}

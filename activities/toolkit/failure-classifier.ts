/**
 * Decides whether a failed Toolkit command is worth retrying. Only failures that come from the network or an
 * overloaded CDF are transient; anything else (validation, auth, bad config) fails the same way every time.
 */
/**
 * An HTTP status in the places the Toolkit and its HTTP clients print one ("status code 503", "API error: 503",
 * "HTTP/1.1 503", "503 Service Unavailable"), not any number: "503 assets" in a summary table is no status.
 */
function httpStatus(codes: string): RegExp {
  const context = `(?:[Ss]tatus(?:[ _][Cc]ode)?|HTTP/[\\d.]+|API error|[Ee]rror [Cc]ode|code)[\\s:=]*(?:${codes})\\b`;
  const phrase = `\\b(?:${codes})[:\\s]+(?:Too Many Requests|Service Unavailable|Bad Gateway|Gateway Timeout|Internal Server Error|Bad Request|Unauthorized|Forbidden|Conflict|Unprocessable|Client Error|Server Error)`;
  return new RegExp(`${context}|${phrase}`);
}

const TRANSIENT_PATTERNS: RegExp[] = [
  httpStatus('429'),
  /too many requests/i,
  httpStatus('50[0234]'),
  /service unavailable|bad gateway|gateway timeout|internal server error/i,
  /timed out|timeout/i,
  /ECONNRESET|connection reset/i,
  /ECONNREFUSED|connection refused|ConnectError/i,
  /RemoteProtocolError|\bReadError\b|server disconnected/i,
];

const PERMANENT_PATTERNS: RegExp[] = [
  /AuthorizationError|unauthori[sz]ed|forbidden/i,
  httpStatus('401|403'),
  /ToolkitValidationError|ToolkitValueError|ValidationError|validation failed/i,
  /No such option|Usage:/,
  httpStatus('400|409|422'),
];

export type FailureClass = 'transient' | 'permanent';

export function classifyToolkitFailure(output: string, timedOut: boolean): FailureClass {
  if (timedOut) return 'transient';
  // Auth and validation errors often mention retries or status codes too; they win.
  if (PERMANENT_PATTERNS.some((p) => p.test(output))) return 'permanent';
  if (TRANSIENT_PATTERNS.some((p) => p.test(output))) return 'transient';
  return 'permanent';
}

/**
 * An error that is rendered in CDF's error envelope. Route handlers throw it so
 * the server can answer with the same shape the SDK and Toolkit parse
 * (`{"error":{"code","message","missing"?,"duplicated"?}}`).
 */
export interface ApiErrorDetails {
  missing?: unknown[];
  duplicated?: unknown[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details: ApiErrorDetails = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): { error: { code: number; message: string } & ApiErrorDetails } {
    return { error: { code: this.status, message: this.message, ...this.details } };
  }
}

// CDF answers "no access" and "no such project" identically so callers cannot probe projects.
export const FORBIDDEN_MESSAGE = 'Resource not found. This may also be due to insufficient access rights.';

export function badRequest(message: string, details?: ApiErrorDetails): ApiError {
  return new ApiError(400, message, details);
}

// Ferry's typed error: a stable code callers branch on, and the offending field when input is at fault.
// The HTTP layer maps codes to statuses in one place; nothing else looks at messages.

export type FerryErrorCode =
  | 'VALIDATION_FAILED'
  | 'FIELD_IMMUTABLE'
  /** A cluster address outside the deployment's egress policy (FERRY_EGRESS_ALLOW). */
  | 'EGRESS_DENIED'
  | 'PAYLOAD_TOO_LARGE'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'TASK_RUNNING'
  | 'INVALID_STATE'
  | 'CONFLICT'
  | 'STALE_EPOCH'
  | 'INTERNAL';

export class FerryError extends Error {
  constructor(
    readonly code: FerryErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FerryError';
  }
}

export const isFerryError = (e: unknown, code?: FerryErrorCode): e is FerryError =>
  e instanceof FerryError && (code === undefined || e.code === code);

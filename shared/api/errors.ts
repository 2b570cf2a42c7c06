// The one place error codes become HTTP statuses. Anything that is not a FerryError is a bug:
// it is answered as INTERNAL without its message, which might carry details not meant for users.
import { FerryError, type FerryErrorCode } from '../errors.ts';
import type { ErrorBody } from './contract.ts';
import { json, type ApiResponse } from './http.ts';

const STATUS: Record<FerryErrorCode, number> = {
  VALIDATION_FAILED: 400,
  FIELD_IMMUTABLE: 400,
  EGRESS_DENIED: 400,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 409,
  RATE_LIMITED: 429,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TASK_RUNNING: 409,
  INVALID_STATE: 409,
  CONFLICT: 409,
  STALE_EPOCH: 409,
  INTERNAL: 500,
};

export function errorResponse(err: unknown, status?: number, headers: Record<string, string> = {}): ApiResponse {
  const e = err instanceof FerryError ? err : new FerryError('INTERNAL', 'internal error');
  const body: ErrorBody = { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } };
  const res = json(status ?? STATUS[e.code], body);
  if (e.code === 'UNAUTHENTICATED') res.headers['www-authenticate'] = 'Bearer';
  Object.assign(res.headers, headers);
  return res;
}

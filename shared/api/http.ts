// The one request/response shape every edge (API Gateway, SCF, the local server) is turned into.
import { FerryError } from '../errors.ts';

/** The largest request body any edge takes (PAYLOAD_TOO_LARGE beyond): a task definition is a few KiB. */
export const MAX_BODY_BYTES = 1024 * 1024;
export const tooLarge = () => new FerryError('PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`, 'body');

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const json = (status: number, value: unknown): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(value),
});

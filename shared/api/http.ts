// The one request/response shape every edge (API Gateway, SCF, the local server) is turned into.

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

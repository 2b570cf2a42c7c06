// Routes internal requests to the service. The task routes arrive with the task API issue; for now
// the runtime serves liveness with a real store round trip.
import type { Store } from '../store/store.ts';
import { json, type ApiRequest, type ApiResponse } from './http.ts';

export interface ApiDeps {
  store: Store;
  storeKind: 'embedded' | 'postgres';
}

export async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  if (req.method === 'GET' && req.path === '/v1/health') {
    try {
      await deps.store.ping();
      return json(200, { status: 'ok', store: deps.storeKind });
    } catch (err) {
      return json(503, { status: 'unavailable', store: deps.storeKind, error: (err as Error).message });
    }
  }
  return json(404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${req.path}` } });
}

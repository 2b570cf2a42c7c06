// `GET /metrics` for the local runtime's HTTP server. It takes the same bearer tokens as the API
// (a reader token is enough) because the server listens on every interface and the figures name
// tasks; a scrape sees its token's tenant only, as the API does (Prometheus: `authorization:
// {credentials_file: …}` in the scrape config).
import { errorResponse } from '../api/errors.ts';
import type { ApiResponse } from '../api/http.ts';
import { authenticate } from '../auth/tokens.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { PrometheusExporter } from './prometheus.ts';

export const METRICS_PATH = '/metrics';

export async function metricsEndpoint(
  req: { method: string; headers: Record<string, string> },
  deps: { store: Store; exporter: PrometheusExporter; log: Logger },
): Promise<ApiResponse> {
  try {
    if (req.method !== 'GET') return errorResponse(new FerryError('INVALID_STATE', `${req.method} is not allowed on ${METRICS_PATH}`), 405, { allow: 'GET' });
    const p = await authenticate(deps.store, req.headers.authorization);
    const body = await deps.exporter.render(p.tenant);
    return { status: 200, headers: { 'content-type': deps.exporter.contentType }, body };
  } catch (err) {
    if (!(err instanceof FerryError)) deps.log.error({ err }, 'metrics scrape failed');
    return errorResponse(err);
  }
}

// `GET /metrics`, answered by the router on every edge (the local runtime's server and the API
// function). It takes the same bearer tokens as the API (a reader token is enough) because the
// figures name tasks; a scrape sees its token's tenant only, as the API does (Prometheus:
// `authorization: {credentials_file: …}` in the scrape config). A refusal is answered like the
// API's errors. What renders the figures (monitoring's PrometheusExporter) is handed in.
import { authenticate } from '../auth/tokens.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { TokenStore } from '../store/store.ts';
import { errorResponse } from './errors.ts';
import type { ApiRequest, ApiResponse } from './http.ts';

export const METRICS_PATH = '/metrics';
/** Its operation id in the OpenAPI document (Prometheus text, so not one of the contract's JSON operations). */
export const METRICS_OPERATION = 'getPrometheusMetrics';

/** The text exposition of one tenant's figures. */
export interface MetricsSource {
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  render(tenant: string): Promise<string>;
}

export async function metricsRoute(
  req: ApiRequest,
  deps: { store: TokenStore; exporter: MetricsSource; log: Logger },
): Promise<ApiResponse> {
  try {
    if (req.method !== 'GET')
      return errorResponse(new FerryError('INVALID_STATE', `${req.method} is not allowed on ${METRICS_PATH}`), 405, { allow: 'GET' });
    const p = await authenticate(deps.store, req.headers.authorization);
    const body = await deps.exporter.render(p.tenant);
    return { status: 200, headers: { 'content-type': deps.exporter.contentType }, body };
  } catch (err) {
    if (!(err instanceof FerryError)) deps.log.error({ err }, 'metrics scrape failed');
    return errorResponse(err);
  }
}

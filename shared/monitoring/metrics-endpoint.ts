// `GET /metrics` for the local runtime's HTTP server. It takes the same bearer tokens as the API
// (a reader token is enough) because the server listens on every interface and the figures name
// tasks; a scrape sees its token's tenant only, as the API does (Prometheus: `authorization:
// {credentials_file: …}` in the scrape config). The HTTP edge that serves it answers a refusal the
// way it answers the API's errors.
import { authenticate } from '../auth/tokens.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { TokenStore } from '../store/store.ts';
import type { PrometheusExporter } from './prometheus.ts';

export const METRICS_PATH = '/metrics';

/** A scrape: the exposition, or why there is none (`status`/`headers` where they differ from the error's usual answer). */
export type MetricsScrape =
  | { ok: true; contentType: string; body: string }
  | { ok: false; error: unknown; status?: number; headers?: Record<string, string> };

export async function metricsEndpoint(
  req: { method: string; headers: Record<string, string> },
  deps: { store: TokenStore; exporter: PrometheusExporter; log: Logger },
): Promise<MetricsScrape> {
  try {
    if (req.method !== 'GET')
      return {
        ok: false,
        error: new FerryError('INVALID_STATE', `${req.method} is not allowed on ${METRICS_PATH}`),
        status: 405,
        headers: { allow: 'GET' },
      };
    const p = await authenticate(deps.store, req.headers.authorization);
    const body = await deps.exporter.render(p.tenant);
    return { ok: true, contentType: deps.exporter.contentType, body };
  } catch (err) {
    if (!(err instanceof FerryError)) deps.log.error({ err }, 'metrics scrape failed');
    return { ok: false, error: err };
  }
}

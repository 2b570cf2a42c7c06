// The local runtime's HTTP edge: node:http request → ApiRequest → the same router the functions use.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { errorResponse } from '../../shared/api/errors.ts';
import type { ApiRequest, ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import type { Logger } from '../../shared/log.ts';
import { METRICS_PATH, metricsEndpoint, type MetricsScrape } from '../../shared/monitoring/metrics-endpoint.ts';
import type { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';

const MAX_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}

/** `exporter`: serve Prometheus `/metrics` beside the API (the local runtime's, not the functions'). */
export function createHttpServer(deps: ApiDeps, log: Logger, exporter?: PrometheusExporter): Server {
  return createServer(async (req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    let status = 500;
    try {
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
        body: await readBody(req),
      };
      const out =
        exporter && apiReq.path === METRICS_PATH
          ? metricsResponse(await metricsEndpoint(apiReq, { ...deps, exporter }))
          : await route(apiReq, deps);
      status = out.status;
      res.writeHead(out.status, out.headers).end(out.body);
    } catch (err) {
      log.error({ err }, 'request failed');
      res
        .writeHead(500, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }));
    } finally {
      log.debug({ method: req.method, path: url.pathname, status, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request');
    }
  });
}

/** A scrape as an HTTP answer: a refusal is answered like the API's errors. */
function metricsResponse(scrape: MetricsScrape): ApiResponse {
  if (!scrape.ok) return errorResponse(scrape.error, scrape.status, scrape.headers);
  return { status: 200, headers: { 'content-type': scrape.contentType }, body: scrape.body };
}

// The API function's entry for every HTTP edge it is deployed behind — AWS API Gateway HTTP API
// (payload 2.0), Lambda function URL, Tencent SCF API Gateway trigger, SCF function URL: detect the
// event shape, convert it with that edge's adapter, route, convert the response back.
import { detectHttpEvent, fromApiResponse, toApiRequest, type HttpResult } from '../../shared/api/edge/index.ts';
import { route } from '../../shared/api/router.ts';
import { apiRequestRecords } from '../../shared/monitoring/emf-records.ts';
import { closeFerryFromEnv, ferryFromEnv } from '../../shared/runtime/root.ts';

export type { HttpResult };

/** Lambda and SCF both call `handler(event, context)`; the context is not needed here. */
export async function handler(event: unknown, _context?: unknown): Promise<HttpResult> {
  const http = detectHttpEvent(event);
  // Without a recognised shape there is no provider result to answer with; failing the invocation
  // surfaces the misconfiguration (a non-HTTP trigger wired to the API function) in the platform's logs.
  if (!http)
    throw new Error(
      'api handler: not an HTTP event from AWS API Gateway (payload 2.0), a Lambda function URL, SCF API Gateway or an SCF function URL',
    );
  const ferry = await ferryFromEnv();
  const started = Date.now();
  const req = toApiRequest(http, { basePath: ferry.config.apiBasePath });
  // route() answers every failure itself (INTERNAL 500 for the unexpected), so nothing to catch here.
  const res = await route(req, ferry.api);
  await ferry.emf.write(apiRequestRecords({ method: req.method, path: req.path, status: res.status, durationMs: Date.now() - started }));
  return fromApiResponse(http, res);
}

/**
 * Releases what the cold start opened. Platforms freeze or drop instances rather than stop them;
 * this is for tests and runtimes that stop gracefully.
 */
export const closeApi = closeFerryFromEnv;

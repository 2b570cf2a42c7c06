// The API function's entry for every HTTP edge it is deployed behind — AWS API Gateway HTTP API
// (payload 2.0), Lambda function URL, Tencent SCF API Gateway trigger, SCF function URL: detect the
// event shape, convert it with that edge's adapter, route, convert the response back.
import { createApiDeps } from '../../shared/api/deps.ts';
import { createCoreDeps } from '../../shared/runtime/deps.ts';
import type { ApiRequest, ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import * as awsHttpApi from '../../shared/api/edge/aws-http-api.ts';
import { detectHttpEvent, type HttpEvent } from '../../shared/api/edge/detect.ts';
import type { EdgeOptions } from '../../shared/api/edge/normalize.ts';
import * as scfApiGateway from '../../shared/api/edge/scf-api-gateway.ts';
import * as scfFunctionUrl from '../../shared/api/edge/scf-function-url.ts';
import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { emfWriter, type EmfWriter } from '../../shared/monitoring/emf.ts';
import { apiRequestRecords } from '../../shared/monitoring/emf-records.ts';

export type HttpResult = awsHttpApi.AwsHttpApiResult | scfApiGateway.ScfApiGatewayResult | scfFunctionUrl.ScfFunctionUrlResult;

interface Runtime {
  deps: ApiDeps;
  edge: EdgeOptions;
  emf: EmfWriter;
}

let runtime: Promise<Runtime> | undefined;

// Built once per cold start and reused by every warm invocation of the same instance.
async function coldStart(): Promise<Runtime> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  return {
    deps: createApiDeps(await createCoreDeps(config, log)),
    // Read with the rest of the start-up configuration; only the edge needs it.
    edge: { basePath: process.env.FERRY_API_BASE_PATH },
    emf: emfWriter(config, log),
  };
}

function start(): Promise<Runtime> {
  // A failed start (database unreachable, say) must not poison the instance for its whole life.
  runtime ??= coldStart().catch((err: unknown) => {
    runtime = undefined;
    throw err;
  });
  return runtime;
}

/** Lambda and SCF both call `handler(event, context)`; the context is not needed here. */
export async function handler(event: unknown, _context?: unknown): Promise<HttpResult> {
  const http = detectHttpEvent(event);
  // Without a recognised shape there is no provider result to answer with; failing the invocation
  // surfaces the misconfiguration (a non-HTTP trigger wired to the API function) in the platform's logs.
  if (!http) throw new Error('api handler: not an HTTP event from AWS API Gateway (payload 2.0), a Lambda function URL, SCF API Gateway or an SCF function URL');
  const { deps, edge, emf } = await start();
  const started = Date.now();
  const req = toApiRequest(http, edge);
  // route() answers every failure itself (INTERNAL 500 for the unexpected), so nothing to catch here.
  const res = await route(req, deps);
  await emf.write(apiRequestRecords({ method: req.method, path: req.path, status: res.status, durationMs: Date.now() - started }));
  return fromApiResponse(http, res);
}

/** Releases what the cold start opened. Platforms freeze or drop instances rather than stop them; this is for tests and runtimes that stop gracefully. */
export async function closeApi(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  const rt = await current?.catch(() => undefined);
  await rt?.deps.store.close();
}

function toApiRequest(http: HttpEvent, edge: EdgeOptions): ApiRequest {
  switch (http.kind) {
    case 'aws-http-api':
    case 'aws-function-url':
      return awsHttpApi.toApiRequest(http.event, edge);
    case 'scf-api-gateway':
      return scfApiGateway.toApiRequest(http.event, edge);
    case 'scf-function-url':
      return scfFunctionUrl.toApiRequest(http.event, edge);
  }
}

function fromApiResponse(http: HttpEvent, res: ApiResponse): HttpResult {
  switch (http.kind) {
    case 'aws-http-api':
    case 'aws-function-url':
      return awsHttpApi.fromApiResponse(res);
    case 'scf-api-gateway':
      return scfApiGateway.fromApiResponse(res);
    case 'scf-function-url':
      return scfFunctionUrl.fromApiResponse(res);
  }
}

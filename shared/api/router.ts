// HTTP API v1 (../shared/design/api.md): authenticate, route, call the service, map the result.
// Errors become `{error: {code, message, field}}` with the status from one table (errors.ts).
import { listTenantTokens, mintTenantToken, revokeTokenById } from '../auth/token-admin.ts';
import { authenticate, hashToken } from '../auth/tokens.ts';
import type { Principal } from '../auth/principal.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IdempotencyStore, StoreHealth, TokenStore } from '../store/store.ts';
import { type TaskService, requireWriter } from '../tasks/service.ts';
import { checkQueryText, checkText } from '../tasks/text.ts';
import { operations, type OperationId, type ResponseBody } from './contract.ts';
import { errorResponse } from './errors.ts';
import { json, MAX_BODY_BYTES, tooLarge, type ApiRequest, type ApiResponse } from './http.ts';
import { METRICS_OPERATION, METRICS_PATH, type MetricsSource, metricsRoute } from './metrics-route.ts';
import { openApiDocument } from './openapi.ts';
import { idempotent, ifMatchVersion, taskEtag } from './preconditions.ts';
import type { RateLimiter } from './rate-limit.ts';
import { isConsoleRequest, serveConsole } from './static.ts';

export interface ApiDeps {
  store: TokenStore & IdempotencyStore & StoreHealth;
  storeKind: 'embedded' | 'postgres';
  tasks: TaskService;
  log: Logger;
  /** `GET /metrics`: Prometheus text for the bearer token's tenant, on every edge (local runtime and API function). */
  exporter: MetricsSource;
  /** FERRY_RATE_LIMIT_RPS per token, when set. */
  rateLimit?: RateLimiter | undefined;
}

/** ifMatch: the task version an If-Match header names (undefined: none, or `*`). */
type Context = { req: ApiRequest; p: Principal; id: string; body: () => unknown; deps: ApiDeps; ifMatch: number | undefined };
/** Builds the operation's answer, typed by its response schema in the contract (void: 204, no body). */
type Handler<K extends OperationId> = (ctx: Context) => Promise<ResponseBody<K>>;

const ID = '([A-Za-z0-9_-]{1,64})';
interface Route {
  operation: OperationId;
  method: string;
  path: string;
  pattern: RegExp;
  handler: (ctx: Context) => Promise<ApiResponse>;
}
const routes: Route[] = [];
// Method, path and success status come from the contract, so a route cannot answer other than it says.
const on = <K extends OperationId>(operation: K, handler: Handler<K>) => {
  const { method, path, status, response } = operations[operation];
  routes.push({
    operation,
    method,
    path,
    pattern: new RegExp(`^${path.replace('{id}', ID)}$`),
    handler: async (ctx) => {
      const body = await handler(ctx);
      if (response === null) return { status, headers: {}, body: '' };
      const res = json(status, body);
      const etag = taskEtag(body);
      if (etag !== undefined) res.headers.etag = etag;
      return res;
    },
  });
};

on('createTask', async ({ p, body, deps }) => deps.tasks.create(p, body()));
on('previewTask', async ({ p, body, deps }) => deps.tasks.preview(p, body()));
on('listTasks', async ({ p, req, deps }) => deps.tasks.list(p, req.query));
on('getTask', async ({ p, id, deps }) => deps.tasks.describe(p, id));
on('updateTask', async ({ p, id, body, deps, ifMatch }) => deps.tasks.update(p, id, body(), ifMatch));
on('deleteTask', async ({ p, id, deps, ifMatch }) => {
  await deps.tasks.remove(p, id, ifMatch);
});
on('startTask', async ({ p, id, deps, ifMatch }) => deps.tasks.start(p, id, ifMatch));
on('stopTask', async ({ p, id, deps, ifMatch }) => deps.tasks.stop(p, id, ifMatch));
on('failoverTask', async ({ p, id, body, deps, ifMatch }) => deps.tasks.failover(p, id, body(), ifMatch));
on('resetOffset', async ({ p, id, body, deps, ifMatch }) => deps.tasks.resetOffset(p, id, body(), ifMatch));
on('getMetrics', async ({ p, id, req, deps }) => deps.tasks.metrics(p, id, req.query));
on('getMetadata', async ({ p, id, deps }) => ({ items: await deps.tasks.metadata(p, id) }));
on('getOffsets', async ({ p, id, deps }) => ({ items: await deps.tasks.offsets(p, id) }));
on('getFailures', async ({ p, id, req, deps }) => ({
  // The store's dates, written as JSON writes them (ISO-8601), so the type says what is sent.
  items: (await deps.tasks.failures(p, id, req.query)).map((m) => ({
    ...m,
    parkedAt: m.parkedAt.toISOString(),
    retryRequestedAt: m.retryRequestedAt?.toISOString() ?? null,
    resolvedAt: m.resolvedAt?.toISOString() ?? null,
  })),
}));
on('retryFailures', async ({ p, id, deps, ifMatch }) => deps.tasks.retryFailures(p, id, ifMatch));
on('getEvents', async ({ p, id, deps }) => ({ items: await deps.tasks.events(p, id) }));
on('getOpenApi', async () => openApiDocument());
// Token administration within the caller's own tenant (operators mint tokens for any tenant with `npm run tokens`).
on('createToken', async ({ p, body, deps }) => mintTenantToken(deps.store, p, body()));
on('listTokens', async ({ p, deps }) => ({ items: await listTenantTokens(deps.store, p) }));
on('deleteToken', async ({ p, id, deps }) => revokeTokenById(deps.store, p, id));
on('revokeToken', async ({ p, body, deps }) => {
  requireWriter(p);
  const b = (body() ?? {}) as { token?: unknown };
  if (typeof b.token !== 'string' || b.token.length === 0) throw new FerryError('VALIDATION_FAILED', 'token is required', 'token');
  const row = await deps.store.findToken(hashToken(b.token));
  // Another tenant's token is "not found" here, like any other tenant-owned object.
  if (!row || row.tenant !== p.tenant) throw new FerryError('NOT_FOUND', 'token not found');
  await deps.store.revokeToken(hashToken(b.token));
});

/** Every route this router answers, with its operation id: for the OpenAPI document's completeness check. */
export function routeTable(): { method: string; path: string; operationId: string }[] {
  return [
    ...routes.map((r) => ({ method: r.method, path: r.path, operationId: r.operation })),
    { method: operations.health.method, path: operations.health.path, operationId: 'health' },
    { method: 'GET', path: METRICS_PATH, operationId: METRICS_OPERATION },
  ];
}

export async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    if (req.path === METRICS_PATH) return await metricsRoute(req, deps);
    // Every GET outside /v1 belongs to the web console (its files and its client-side routes).
    if (isConsoleRequest(req)) return serveConsole(req);
    if (req.path === '/v1/health' && req.method === 'GET') return await health(deps);
    const matches = routes.map((r) => ({ r, m: r.pattern.exec(req.path) })).filter((x) => x.m);
    if (matches.length === 0) throw new FerryError('NOT_FOUND', `no route for ${req.path}`);
    const hit = matches.find((x) => x.r.method === req.method);
    const p = await authenticate(deps.store, req.headers.authorization);
    const wait = deps.rateLimit?.take(hashToken(req.headers.authorization ?? ''));
    if (wait !== undefined) {
      const limited = new FerryError('RATE_LIMITED', `too many requests with this token; retry in ${wait} s`);
      return errorResponse(limited, undefined, { 'retry-after': String(wait) });
    }
    if (!hit) {
      return errorResponse(new FerryError('INVALID_STATE', `${req.method} is not allowed on ${req.path}`), 405, {
        allow: matches.map((x) => x.r.method).join(', '),
      });
    }
    if (req.method !== 'GET' && p.role !== 'admin') throw new FerryError('FORBIDDEN', 'this token may only read');
    if (req.body !== undefined && Buffer.byteLength(req.body) > MAX_BODY_BYTES) throw tooLarge();
    checkQueryText(req.query);
    const ctx = { req, p, id: hit.m![1] ?? '', body: () => checkedBody(req.body), deps, ifMatch: ifMatchVersion(req.headers) };
    // A minted token is shown once: its answer is not kept for replay.
    const replayable = hit.r.operation !== 'createToken';
    return await idempotent(deps.store, p, req, deps.log, { replayable }, () => hit.r.handler(ctx));
  } catch (err) {
    if (!(err instanceof FerryError)) deps.log.error({ err, method: req.method, path: req.path }, 'request failed');
    return errorResponse(err);
  }
}

/** The JSON body under the text rule (every string, at every depth: tokens' labels too). */
function checkedBody(body: string | undefined): unknown {
  const parsed = parseBody(body);
  checkText(parsed);
  return parsed;
}

function parseBody(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') return undefined;
  if (jsonDepth(body) > MAX_JSON_DEPTH) {
    throw new FerryError('VALIDATION_FAILED', `the request body is nested deeper than ${MAX_JSON_DEPTH} levels`, 'body');
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new FerryError('VALIDATION_FAILED', 'the request body is not valid JSON', 'body');
  }
}

/** A task body is a few levels deep; far deeper JSON would only overflow the stack of the code that walks it (a 500). */
const MAX_JSON_DEPTH = 32;

/** The deepest nesting of brackets outside strings, found without parsing (so without recursion). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

// Answered before authentication, so not through on(); typed by the contract all the same.
async function health(deps: ApiDeps): Promise<ApiResponse> {
  let body: ResponseBody<'health'>;
  try {
    await deps.store.ping();
    body = { status: 'ok', store: deps.storeKind };
  } catch (err) {
    // The reason is for the operator's log; the unauthenticated answer says only that it is down.
    deps.log.warn({ err }, 'health check: the store is unreachable');
    body = { status: 'unavailable', store: deps.storeKind };
  }
  return json(body.status === 'ok' ? operations.health.status : 503, body);
}

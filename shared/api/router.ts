// HTTP API v1 (../shared/design/api.md): authenticate, route, call the service, map the result.
// Errors become `{error: {code, message, field}}` with the status from one table (errors.ts).
import { authenticate, issueToken, hashToken } from '../auth/tokens.ts';
import type { Principal, Role } from '../auth/principal.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import { TaskService, requireWriter } from '../tasks/service.ts';
import { errorResponse } from './errors.ts';
import { json, type ApiRequest, type ApiResponse } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { isConsoleRequest, serveConsole } from './static.ts';

export interface ApiDeps {
  store: Store;
  storeKind: 'embedded' | 'postgres';
  tasks: TaskService;
  log: Logger;
}

type Handler = (ctx: { req: ApiRequest; p: Principal; id: string; body: () => unknown; deps: ApiDeps }) => Promise<ApiResponse>;

const ID = '([A-Za-z0-9_-]{1,64})';
const routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
const on = (method: string, path: string, handler: Handler) => routes.push({ method, pattern: new RegExp(`^${path.replace('{id}', ID)}$`), handler });

on('POST', '/v1/tasks', async ({ p, body, deps }) => json(201, await deps.tasks.create(p, body())));
on('GET', '/v1/tasks', async ({ p, req, deps }) => json(200, await deps.tasks.list(p, req.query)));
on('GET', '/v1/tasks/{id}', async ({ p, id, deps }) => json(200, await deps.tasks.describe(p, id)));
on('PATCH', '/v1/tasks/{id}', async ({ p, id, body, deps }) => json(200, await deps.tasks.rename(p, id, body())));
on('DELETE', '/v1/tasks/{id}', async ({ p, id, deps }) => {
  await deps.tasks.remove(p, id);
  return { status: 204, headers: {}, body: '' };
});
on('POST', '/v1/tasks/{id}/start', async ({ p, id, deps }) => json(202, await deps.tasks.start(p, id)));
on('POST', '/v1/tasks/{id}/stop', async ({ p, id, deps }) => json(202, await deps.tasks.stop(p, id)));
on('POST', '/v1/tasks/{id}/reset-offset', async ({ p, id, body, deps }) => json(202, await deps.tasks.resetOffset(p, id, body())));
on('GET', '/v1/tasks/{id}/metrics', async ({ p, id, req, deps }) => json(200, await deps.tasks.metrics(p, id, req.query)));
on('GET', '/v1/tasks/{id}/metadata', async ({ p, id, deps }) => json(200, { items: await deps.tasks.metadata(p, id) }));
on('GET', '/v1/tasks/{id}/failures', async ({ p, id, req, deps }) => json(200, { items: await deps.tasks.failures(p, id, req.query) }));
on('POST', '/v1/tasks/{id}/failures/retry', async ({ p, id, deps }) => json(202, await deps.tasks.retryFailures(p, id)));
on('GET', '/v1/tasks/{id}/events', async ({ p, id, deps }) => json(200, { items: await deps.tasks.events(p, id) }));
on('GET', '/v1/openapi.json', async () => json(200, openApiDocument()));
// Token administration within the caller's own tenant (operators mint tokens for any tenant with `npm run tokens`).
on('POST', '/v1/tokens', async ({ p, body, deps }) => {
  requireWriter(p);
  const b = (body() ?? {}) as { role?: unknown; label?: unknown };
  const role = b.role === undefined ? 'reader' : b.role;
  if (role !== 'admin' && role !== 'reader') throw new FerryError('VALIDATION_FAILED', 'role must be "admin" or "reader"', 'role');
  const label = typeof b.label === 'string' ? b.label : `${role} token`;
  const token = await issueToken(deps.store, p.tenant, role as Role, label);
  return json(201, { token, tenant: p.tenant, role, label });
});
on('POST', '/v1/tokens/revoke', async ({ p, body, deps }) => {
  requireWriter(p);
  const b = (body() ?? {}) as { token?: unknown };
  if (typeof b.token !== 'string' || b.token.length === 0) throw new FerryError('VALIDATION_FAILED', 'token is required', 'token');
  const row = await deps.store.findToken(hashToken(b.token));
  // Another tenant's token is "not found" here, like any other tenant-owned object.
  if (!row || row.tenant !== p.tenant) throw new FerryError('NOT_FOUND', 'token not found');
  await deps.store.revokeToken(hashToken(b.token));
  return { status: 204, headers: {}, body: '' };
});

export async function route(req: ApiRequest, deps: ApiDeps): Promise<ApiResponse> {
  try {
    // Every GET outside /v1 belongs to the web console (its files and its client-side routes).
    if (isConsoleRequest(req)) return serveConsole(req);
    if (req.path === '/v1/health' && req.method === 'GET') return await health(deps);
    const matches = routes.map((r) => ({ r, m: r.pattern.exec(req.path) })).filter((x) => x.m);
    if (matches.length === 0) throw new FerryError('NOT_FOUND', `no route for ${req.path}`);
    const hit = matches.find((x) => x.r.method === req.method);
    const p = await authenticate(deps.store, req.headers.authorization);
    if (!hit) {
      return errorResponse(new FerryError('INVALID_STATE', `${req.method} is not allowed on ${req.path}`), 405, { allow: matches.map((x) => x.r.method).join(', ') });
    }
    if (req.method !== 'GET' && p.role !== 'admin') throw new FerryError('FORBIDDEN', 'this token may only read');
    return await hit.r.handler({ req, p, id: hit.m![1] ?? '', body: () => parseBody(req.body), deps });
  } catch (err) {
    if (!(err instanceof FerryError)) deps.log.error({ err, method: req.method, path: req.path }, 'request failed');
    return errorResponse(err);
  }
}

function parseBody(body: string | undefined): unknown {
  if (body === undefined || body.trim() === '') return undefined;
  try {
    return JSON.parse(body);
  } catch {
    throw new FerryError('VALIDATION_FAILED', 'the request body is not valid JSON', 'body');
  }
}

async function health(deps: ApiDeps): Promise<ApiResponse> {
  try {
    await deps.store.ping();
    return json(200, { status: 'ok', store: deps.storeKind });
  } catch (err) {
    return json(503, { status: 'unavailable', store: deps.storeKind, error: (err as Error).message });
  }
}

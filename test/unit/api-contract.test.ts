// The API contract (shared/api/contract.ts) against the real router on an embedded store: every
// operation's answer — status and body — is what the contract says, with no field the contract
// does not know; every refusal is an ErrorBody; the OpenAPI document lists every operation with its
// response schema; and the one client (shared/api/client.ts) speaks to the router through fetch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { issueToken } from '../../shared/auth/tokens.ts';
import { ApiClient, ApiError, UNEXPECTED_RESPONSE, UnreachableError } from '../../shared/api/client.ts';
import { ErrorBody, checkResponse, operations, type OperationId } from '../../shared/api/contract.ts';
import type { ApiRequest, ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const selfBuilt = (clusterId: string, nameServer: string, over: Record<string, unknown> = {}) => ({
  clusterType: 'self-built',
  clusterId,
  nameServer,
  networkType: 'public',
  ...over,
});

const taskBody = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  direction: 'one-way',
  source: selfBuilt('c-a', '127.0.0.1:9876', { acl: { enabled: true, accessKey: 'ak-visible-1234', secretKey: 'sk-secret' } }),
  target: selfBuilt('c-b', '10.0.0.2:9876', {
    networkType: 'vpc',
    vpc: { region: 'ap-guangzhou', vpcId: 'vpc-1', subnetId: 'subnet-1' },
    resourceType: 'other-cloud',
    dedicatedLine: { type: 'ccn', id: 'ccn-1' },
  }),
  filter: { topics: { include: ['orders-.*'], exclude: [] }, expression: { type: 'SQL92', value: 'a > 5' } },
  ...over,
});

const tencent = {
  clusterType: 'tencent',
  region: 'ap-guangzhou',
  clusterId: 'rocketmq-xyz',
  acl: { enabled: true, accessKey: 'role-ak-1234', secretKey: 'role-sk' },
  cloudApi: { secretId: 'AKIDexample1234', secretKey: 'cloud-sk' },
};

let db: Throwaway<string>;
let store: Store;
let deps: ApiDeps;
let admin: string;
let reader: string;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  const cipher = aesGcmCipher(randomBytes(32));
  // As the composition root builds them (shared/runtime).
  deps = {
    store,
    storeKind: 'embedded',
    tasks: new TaskService(store, cipher, {
      requireManagedSide: false,
      // A fake of the preview's cluster reader (no cluster here): one topic, one group.
      readCluster: async () => ({ topics: [{ name: 'orders-1', queues: 4, system: false }], groups: [{ name: 'g-1', system: false }] }),
    }),
    log: pino({ level: 'silent' }),
    exporter: new PrometheusExporter(store),
  };
  admin = await issueToken(store, 'default', 'admin', 'contract admin');
  reader = await issueToken(store, 'default', 'reader', 'contract reader');
});

after(async () => {
  await store.close();
  await db.drop();
});

function request(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string | null; query?: Record<string, string> } = {},
): Promise<ApiResponse> {
  const token = opts.token === undefined ? admin : opts.token;
  const req: ApiRequest = {
    method,
    path,
    query: opts.query ?? {},
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  };
  return route(req, deps);
}

describe('API contract: what the router answers', () => {
  const seen = new Set<OperationId>();

  /** Calls an operation and checks its answer against the contract; returns the parsed body. */
  async function expectOp(
    operation: OperationId,
    path: string,
    opts: { body?: unknown; query?: Record<string, string>; token?: string | null } = {},
    // biome-ignore lint/suspicious/noExplicitAny: the body is checked here, read loosely by the steps
  ): Promise<any> {
    const { method, status, response } = operations[operation];
    const res = await request(method, path, opts);
    assert.equal(res.status, status, `${operation}: ${res.body}`);
    seen.add(operation);
    if (response === null) {
      assert.equal(res.body, '', `${operation} answers without a body`);
      return undefined;
    }
    assert.match(res.headers['content-type'] ?? '', /^application\/json/);
    const body: unknown = JSON.parse(res.body);
    assert.equal(checkResponse(operation, body), undefined, `${operation}: ${res.body}`);
    // Parsing strips fields the schema does not name: equal means the server sent none.
    assert.deepEqual(response.parse(body), body, `${operation} sends only fields the contract names`);
    return body;
  }

  it('every operation, on tasks that use every kind of field', async () => {
    await expectOp('health', '/v1/health', { token: null });

    const first = await expectOp('createTask', '/v1/tasks', { body: taskBody('contract-one', { tpsLimit: 500, shards: 4 }) });
    const second = await expectOp('createTask', '/v1/tasks', {
      body: taskBody('contract-two', {
        direction: 'two-way',
        target: tencent,
        startOffset: { type: 'timestamp', timestamp: Date.now() - 60_000 },
        start: false,
      }),
    });
    assert.equal(second.target.cloudApi.secretKeySet, true);

    const { name: _name, ...unnamed } = taskBody('preview-needs-no-name');
    const preview = await expectOp('previewTask', '/v1/tasks/preview', { body: unnamed });
    assert.deepEqual(preview.flows[0].topics, [{ name: 'orders-1', queues: 4, selected: true, reason: 'included by pattern "orders-.*"' }]);

    const page1 = await expectOp('listTasks', '/v1/tasks', { query: { limit: '1' } });
    assert.equal(typeof page1.nextCursor, 'string');
    const page2 = await expectOp('listTasks', '/v1/tasks', { query: { limit: '1', cursor: page1.nextCursor } });
    assert.deepEqual([...page1.items, ...page2.items].map((t: { id: string }) => t.id).sort(), [first.id, second.id].sort());

    // A minute of metrics per flow (gauges measured and not), metadata outcomes, a parked message.
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    await store.addMetrics([
      { taskId: first.id, flow: 'forward', minuteMs: minute - 60_000, consumed: 5, replicated: 4, failed: 1 },
      {
        taskId: first.id,
        flow: 'forward',
        minuteMs: minute,
        consumed: 7,
        replicated: 7,
        lag: 3,
        delayP50Ms: 10,
        delayP99Ms: 40,
        delayMaxMs: 90,
      },
    ]);
    await store.upsertMetadataItems(first.id, [
      { kind: 'topic', name: 'orders-1', direction: 'source_to_target', action: 'create', status: 'synced' },
      { kind: 'group', name: 'g-1', direction: 'source_to_target', action: 'update', status: 'failed', error: 'broker said no' },
    ]);
    await store.parkMessage({
      taskId: first.id,
      flow: 'forward',
      topic: 'orders-1',
      broker: 'broker-a',
      queueId: 1,
      queueOffset: 42,
      reason: 'too large',
      payload: new TextEncoder().encode('hello'),
      properties: { KEYS: 'k1' },
      bornTimestamp: Date.now() - 1000,
    });

    const details = await expectOp('getTask', `/v1/tasks/${first.id}`);
    assert.ok(details.summary.length > 0, 'the summary has the latest minute');
    const metrics = await expectOp('getMetrics', `/v1/tasks/${first.id}/metrics`, {
      query: { from: String(minute - 120_000), to: String(minute + 60_000) },
    });
    assert.equal(metrics.points.length, 2);
    const metadata = await expectOp('getMetadata', `/v1/tasks/${first.id}/metadata`);
    assert.equal(metadata.items.length, 2);
    await store.upsertOffsetSyncs(first.id, 'forward', [
      {
        group: 'g-1',
        topic: 'orders-1',
        broker: 'broker-a',
        queueId: 1,
        sourceOffset: 30,
        targetBroker: 'broker-b',
        targetQueueId: 1,
        targetOffset: 41,
        status: 'synced',
      },
      {
        group: 'g-1',
        topic: 'orders-1',
        broker: 'broker-a',
        queueId: 2,
        sourceOffset: 3,
        targetBroker: null,
        targetQueueId: null,
        targetOffset: null,
        status: 'no-mapping-yet',
        error: 'no replica recorded yet',
      },
    ]);
    const offsets = await expectOp('getOffsets', `/v1/tasks/${first.id}/offsets`);
    assert.deepEqual(
      offsets.items.map((i: { queueId: number; targetOffset: number | null; status: string }) => [i.queueId, i.targetOffset, i.status]),
      [
        [1, 41, 'synced'],
        [2, null, 'no-mapping-yet'],
      ],
    );
    const parked = await expectOp('getFailures', `/v1/tasks/${first.id}/failures`, { query: { includePayload: 'true' } });
    assert.equal(parked.items[0].payload, Buffer.from('hello').toString('base64'));
    assert.equal(parked.items[0].retryRequestedAt, null);
    assert.equal((await expectOp('retryFailures', `/v1/tasks/${first.id}/failures/retry`)).requested, 1);
    const retried = await expectOp('getFailures', `/v1/tasks/${first.id}/failures`);
    assert.equal(typeof retried.items[0].retryRequestedAt, 'string');
    assert.equal(retried.items[0].payload, undefined);

    const stopped = await expectOp('stopTask', `/v1/tasks/${first.id}/stop`);
    const renamed = await expectOp('updateTask', `/v1/tasks/${first.id}`, { body: { name: 'contract-renamed', version: stopped.version } });
    assert.equal(renamed.name, 'contract-renamed');
    const edited = await expectOp('updateTask', `/v1/tasks/${first.id}`, {
      body: { source: { nameServer: '127.0.0.1:9886', acl: { secretKey: 'sk-new' } }, tpsLimit: null, version: renamed.version },
    });
    assert.deepEqual([edited.source.nameServer, edited.tpsLimit, edited.version], ['127.0.0.1:9886', null, renamed.version + 1]);
    const reset = await expectOp('resetOffset', `/v1/tasks/${first.id}/reset-offset`, { body: { timestamp: Date.now() - 3_600_000 } });
    assert.equal(typeof reset.pendingReset.requestedAt, 'string');
    await expectOp('startTask', `/v1/tasks/${first.id}/start`);
    const events = await expectOp('getEvents', `/v1/tasks/${first.id}/events`);
    assert.deepEqual(
      events.items.map((e: { action: string }) => e.action),
      ['start', 'reset-offset', 'update', 'rename', 'stop', 'retry-failures', 'create'],
    );

    const doc = await expectOp('getOpenApi', '/v1/openapi.json');
    assert.equal(doc.openapi, '3.1.0');

    const minted = await expectOp('createToken', '/v1/tokens', { body: { role: 'reader', label: 'dashboards' } });
    await expectOp('revokeToken', '/v1/tokens/revoke', { body: { token: minted.token } });
    const byId = await expectOp('createToken', '/v1/tokens', { body: { role: 'reader', label: 'by id' } });
    const tokens = await expectOp('listTokens', '/v1/tokens');
    const listed = tokens.items.find((t: { id: string }) => t.id === minted.id);
    assert.equal(listed.label, 'dashboards');
    assert.equal(typeof listed.revokedAt, 'string');
    assert.ok(!JSON.stringify(tokens).includes(minted.token), 'a listing never shows a token');
    await expectOp('deleteToken', `/v1/tokens/${byId.id}`);

    // An unplanned failover stops the task at once; the reconciler would carry out the rest.
    const failover = await expectOp('failoverTask', `/v1/tasks/${first.id}/failover`, { body: { mode: 'unplanned' } });
    assert.deepEqual([failover.status, failover.failover.mode, failover.failover.state], ['stopped', 'unplanned', 'stopping']);
    await expectOp('deleteTask', `/v1/tasks/${first.id}`);
    await expectOp('deleteTask', `/v1/tasks/${second.id}`);

    assert.deepEqual([...seen].sort(), Object.keys(operations).sort(), 'every operation of the contract was called');
  });

  it('health while the store is unreachable: 503 with the unavailable body', async () => {
    const down = new Proxy(store, {
      get: (t, k) => (k === 'ping' ? () => Promise.reject(new Error('connection refused')) : Reflect.get(t, k)),
    });
    const res = await route({ method: 'GET', path: '/v1/health', query: {}, headers: {}, body: undefined }, { ...deps, store: down });
    assert.equal(res.status, 503);
    const body: unknown = JSON.parse(res.body);
    assert.equal(checkResponse('health', body), undefined);
    // No internals for an unauthenticated caller: the reason goes to the log only.
    assert.deepEqual(body, { status: 'unavailable', store: 'embedded' });
  });

  it('every refusal is an ErrorBody', async () => {
    const t = JSON.parse((await request('POST', '/v1/tasks', { body: taskBody('contract-refusals') })).body) as { id: string };
    const cases: [number, Promise<ApiResponse>][] = [
      [400, request('POST', '/v1/tasks', { body: { ...taskBody('x'), colour: 'blue' } })],
      [400, request('PATCH', `/v1/tasks/${t.id}`, { body: { direction: 'two-way' } })],
      [401, request('GET', '/v1/tasks', { token: null })],
      [403, request('POST', `/v1/tasks/${t.id}/stop`, { token: reader })],
      [404, request('GET', '/v1/tasks/task-missing')],
      [404, request('GET', '/v1/nothing-here')],
      [405, request('PUT', `/v1/tasks/${t.id}`)],
      [409, request('DELETE', `/v1/tasks/${t.id}`)],
    ];
    for (const [status, pending] of cases) {
      const res = await pending;
      assert.equal(res.status, status, res.body);
      const body: unknown = JSON.parse(res.body);
      assert.deepEqual(ErrorBody.parse(body), body, res.body);
    }
  });
});

describe('API contract: the OpenAPI document', () => {
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document, walked by path
  let doc: any;
  before(async () => {
    doc = JSON.parse((await request('GET', '/v1/openapi.json')).body);
  });

  it('lists exactly the contract operations (and Prometheus /metrics), each with its success status and response schema', () => {
    const listed = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    assert.deepEqual(listed.sort(), [...Object.values(operations).map((o) => `${o.method} ${o.path}`), 'GET /metrics'].sort());
    for (const [id, o] of Object.entries(operations)) {
      const operation = doc.paths[o.path][o.method.toLowerCase()];
      assert.equal(operation.operationId, id);
      const answer = operation.responses[o.status];
      assert.ok(answer, `${id} documents ${o.status}`);
      if (o.response === null) assert.equal(answer.content, undefined, `${id} has no body`);
      else assert.match(answer.content['application/json'].schema.$ref, /^#\/components\/schemas\/\w+$/, `${id} names its schema`);
    }
  });

  it('generates the response schemas from the contract, and every $ref resolves', () => {
    const schemas = doc.components.schemas as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(schemas.TaskView!.properties as object).sort(), Object.keys(operations.createTask.response.shape).sort());
    assert.deepEqual(schemas.Error!.required, ['error']);
    const refs: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '$ref') refs.push(x as string);
          else if (k === '$id') assert.fail(`a schema keeps an $id: ${String(x)}`);
          else walk(x);
        }
      }
    };
    walk(doc);
    assert.ok(refs.length > 20);
    for (const ref of refs) assert.ok(schemas[ref.replace('#/components/schemas/', '')], `${ref} resolves`);
  });
});

describe('API client', () => {
  /** fetch that hands the request to the router in-process, as the local server would. */
  const routerFetch = (
    seen: { method: string; url: string; headers: Record<string, string>; body: string | undefined }[] = [],
  ): typeof fetch =>
    (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      const headers = Object.fromEntries(
        Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const body = typeof init?.body === 'string' ? init.body : undefined;
      seen.push({ method: init?.method ?? 'GET', url: url.pathname + url.search, headers, body });
      const res = await route(
        { method: init?.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body },
        deps,
      );
      return new Response(res.body === '' ? null : res.body, { status: res.status, headers: res.headers });
    }) as typeof fetch;

  const clientFor = (opts: Partial<ConstructorParameters<typeof ApiClient>[0]> = {}) =>
    new ApiClient({ baseUrl: 'http://ferry.test/', token: admin, fetch: routerFetch(), check: checkResponse, ...opts });

  it('calls every operation, typed and checked by the contract', async () => {
    const sent: Parameters<typeof routerFetch>[0] = [];
    const api = clientFor({ fetch: routerFetch(sent) });
    assert.equal((await api.health()).status, 'ok');
    const t = await api.createTask(taskBody('client-one', { start: false }));
    assert.deepEqual(sent.at(-1), {
      method: 'POST',
      url: '/v1/tasks',
      headers: { accept: 'application/json', authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(taskBody('client-one', { start: false })),
    });
    assert.ok((await api.listAllTasks()).some((x) => x.id === t.id));
    assert.deepEqual(
      (await api.listTasks({ name: 'client-one', limit: 5 })).items.map((x) => x.id),
      [t.id],
    );
    assert.equal(sent.at(-1)!.url, '/v1/tasks?name=client-one&limit=5');
    assert.deepEqual((await api.getTask(t.id)).summary, []);
    const now = Date.now();
    assert.equal((await api.metrics(t.id, { from: now - 60_000, to: now })).from, now - 60_000);
    assert.equal(sent.at(-1)!.url, `/v1/tasks/${t.id}/metrics?from=${now - 60_000}&to=${now}`);
    assert.deepEqual((await api.metadata(t.id)).items, []);
    assert.deepEqual((await api.failures(t.id, { includePayload: true })).items, []);
    assert.equal((await api.retryFailures(t.id)).requested, 0);
    const renamed = await api.renameTask(t.id, 'client-renamed', t.version);
    assert.equal(renamed.name, 'client-renamed');
    assert.ok((await api.resetOffset(t.id, now - 3_600_000)).pendingReset);
    assert.equal((await api.startTask(t.id)).status, 'initializing');
    assert.equal((await api.stopTask(t.id)).status, 'stopped');
    assert.ok((await api.events(t.id)).items.length >= 4);
    assert.equal((await api.openApi()).openapi, '3.1.0');
    const minted = await api.createToken({ role: 'reader', label: 'client' });
    assert.equal(minted.role, 'reader');
    await api.revokeToken(minted.token);
    await api.deleteTask(t.id);
    assert.equal(sent.at(-1)!.method, 'DELETE');
    assert.equal(sent.at(-1)!.headers['content-type'], undefined, 'no content type without a body');
  });

  it("turns the API's refusals into ApiError with code and field, and reports 401s with the token sent", async () => {
    const refused: [string, string | undefined][] = [];
    const api = clientFor({ token: () => 'not-a-real-token', onUnauthorized: (e, token) => refused.push([e.code, token]) });
    await assert.rejects(api.listTasks(), (e) => e instanceof ApiError && e.status === 401 && e.code === 'UNAUTHENTICATED');
    assert.deepEqual(refused, [['UNAUTHENTICATED', 'not-a-real-token']]);
    await assert.rejects(
      clientFor().renameTask('task-missing', 'x'),
      (e) => e instanceof ApiError && e.status === 404 && e.code === 'NOT_FOUND',
    );
    await assert.rejects(
      clientFor().createTask({ ...taskBody('client-bad'), tpsLimit: 0 }),
      (e) => e instanceof ApiError && e.status === 400 && e.code === 'VALIDATION_FAILED' && e.field === 'tpsLimit',
    );
  });

  it('tells apart a server that is not Ferry, an answer that breaks the contract, and no answer', async () => {
    const answer = (status: number, text: string) => clientFor({ fetch: (async () => new Response(text, { status })) as typeof fetch });
    await assert.rejects(answer(502, '<html>\n<b>Bad gateway</b></html>').listTasks(), {
      name: 'ApiError',
      code: 'HTTP_502',
      message: 'unexpected answer from http://ferry.test (HTTP 502: <html> <b>Bad gateway</b></html>)',
    });
    await assert.rejects(
      answer(200, '{"items": 3}').listTasks(),
      (e) => e instanceof ApiError && e.code === UNEXPECTED_RESPONSE && /GET \/v1\/tasks \(HTTP 200\): items: /.test(e.message),
    );
    await assert.rejects(
      answer(200, '<html></html>').getTask('t'),
      (e) => e instanceof ApiError && e.code === UNEXPECTED_RESPONSE && /: body: /.test(e.message),
    );
    // Without a check, the answer is handed over as it came.
    assert.deepEqual(await clientFor({ fetch: (async () => new Response('{"items": 3}')) as typeof fetch, check: undefined }).listTasks(), {
      items: 3,
    });

    const refused = clientFor({
      fetch: (async () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))) as typeof fetch,
    });
    await assert.rejects(
      refused.listTasks(),
      (e) => e instanceof UnreachableError && e.message === 'cannot reach the Ferry API at http://ferry.test (ECONNREFUSED)',
    );
    const silent = clientFor({
      timeoutMs: 50,
      fetch: ((_: unknown, init?: RequestInit) =>
        new Promise((_resolve, reject) => init!.signal!.addEventListener('abort', () => reject(init!.signal!.reason)))) as typeof fetch,
    });
    await assert.rejects(silent.listTasks(), (e) => e instanceof UnreachableError && e.reason === 'no answer within 0.05s');
  });

  it('is browser-safe: only type imports (no zod, no Node) and no Node globals', () => {
    const source = readFileSync(new URL('../../shared/api/client.ts', import.meta.url), 'utf8');
    const imports = source.match(/^import[\s\S]*?from '[^']+';$/gm) ?? [];
    assert.ok(imports.length > 0);
    for (const i of imports) assert.match(i, /^import type /, i);
    assert.doesNotMatch(source, /\b(?:require|process|Buffer|__dirname)\b|node:/);
  });
});

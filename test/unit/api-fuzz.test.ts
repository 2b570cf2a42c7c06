// Generated fuzz (issue 14): thousands of random and mangled requests — methods, paths over every
// route, query strings, headers (tokens, Idempotency-Key, If-Match, junk) and bodies (mangled task
// definitions, any JSON, broken JSON, odd unicode, oversized) — against the real router on an
// embedded store, then a few hundred over real HTTP through the local runtime's server. Nothing
// may answer 5xx, every refusal is an ErrorBody, and the server still serves afterwards.
// The seed is fixed and printed: FERRY_FUZZ_SEED=<n> reproduces (or explores) a run.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { ErrorBody } from '../../shared/api/contract.ts';
import type { ApiRequest, ApiResponse } from '../../shared/api/http.ts';
import { route, routeTable, type ApiDeps } from '../../shared/api/router.ts';
import { issueToken } from '../../shared/auth/tokens.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { createHttpServer } from '../../infra/local/server.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const SEED = Number(process.env.FERRY_FUZZ_SEED ?? 14_014);
const IN_PROCESS_RUNS = 5_200;
const HTTP_RUNS = 400;

let db: Throwaway<string>;
let store: Store;
let deps: ApiDeps;
let admin: string;
let reader: string;
let other: string;
let taskId: string;

// Name servers nobody answers on: refused (port 1), egress-denied (cloud metadata), a black-hole
// address. The fake cluster reader below stands in for previews so no request waits on a network.
const NAME_SERVERS = ['127.0.0.1:1', '169.254.169.254:80', '10.255.255.1:9876', '[::ffff:127.0.0.1]:9876', '0x7f000001:9876'];

/** Valid JSON nested far deeper than any task (under the 1 MiB limit): code walking it must not overflow the stack. */
const DEEP = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;

const validTask = (over: Record<string, unknown> = {}) => ({
  name: 'fuzz-task',
  direction: 'one-way',
  source: { clusterType: 'self-built', clusterId: 'c-a', nameServer: '127.0.0.1:1', networkType: 'public' },
  target: { clusterType: 'self-built', clusterId: 'c-b', nameServer: '127.0.0.1:2', networkType: 'public' },
  filter: { topics: { include: ['orders-.*'], exclude: [] }, expression: { type: 'TAG', value: '*' } },
  start: false,
  ...over,
});

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  deps = {
    store,
    storeKind: 'embedded',
    tasks: new TaskService(store, aesGcmCipher(randomBytes(32)), {
      requireManagedSide: false,
      // A fake of the preview's cluster reader: previews answer from it instead of dialling out.
      readCluster: async () => ({ topics: [{ name: 'orders-1', queues: 2, system: false }], groups: [] }),
    }),
    log: pino({ level: 'silent' }),
    exporter: new PrometheusExporter(store),
  };
  admin = await issueToken(store, 'default', 'admin', 'fuzz admin');
  reader = await issueToken(store, 'default', 'reader', 'fuzz reader');
  other = await issueToken(store, 'other', 'admin', 'fuzz other tenant');
  await newTargetTask();
});

let made = 0;
/** The task most generated ids name; made again when the fuzz deletes it, so later requests reach it. */
async function newTargetTask(): Promise<void> {
  const body = JSON.stringify(validTask({ name: `fuzz-target-${++made}` }));
  const res = await route({ method: 'POST', path: '/v1/tasks', query: {}, headers: { authorization: `Bearer ${admin}` }, body }, deps);
  assert.equal(res.status, 201, res.body);
  taskId = (JSON.parse(res.body) as { id: string }).id;
}

after(async () => {
  await store.close();
  await db.drop();
});

// ── generators ─────────────────────────────────────────────────────────────────────────────────

/** Text with everything the text rule is about: control characters, NUL, lone surrogates, any plane. */
const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('\u0000', '\ud800', 'a\udfffb', '\u0001\u0002', 'a,b', '../../etc/passwd', '%00', '💥'.repeat(50), ' ', ''),
);

const idSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constant(() => taskId) },
  { weight: 1, arbitrary: fc.constant(() => 'task-00000000-0000-0000-0000-000000000000') },
  { weight: 1, arbitrary: fc.constant(() => '0123456789abcdef') },
  { weight: 1, arbitrary: oddText.map((s) => () => s) },
);

const path = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.tuple(fc.constantFrom(...routeTable().map((r) => r.path)), idSegment).map(([p, id]) => p.replace('{id}', id())),
  },
  { weight: 1, arbitrary: oddText.map((s) => `/v1/${s}`) },
  { weight: 1, arbitrary: fc.constantFrom('/v1', '/v1/', '/v1/tasks/', '/v1/tasks//start', '/v1/tokens/revoke/x', '/metrics', '/') },
);

const method = fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS');

/** Mostly a route's own method and path (so requests get past routing), sometimes any pairing. */
const endpoint = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...routeTable()), idSegment)
      .map(([r, id]) => ({ method: r.method, path: r.path.replace('{id}', id()) })),
  },
  { weight: 1, arbitrary: fc.record({ method, path }) },
);

const queryValue = fc.oneof(oddText, fc.integer().map(String), fc.constantFrom('true', 'false', '-1', '0', '1e308', 'NaN', '9'.repeat(40)));
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('status', 'name', 'limit', 'cursor', 'from', 'to', 'step', 'includePayload'), oddText),
  queryValue,
  { maxKeys: 4 },
);

const authorization = fc.oneof(
  { weight: 12, arbitrary: fc.constant(() => `Bearer ${admin}`) },
  { weight: 2, arbitrary: fc.constant(() => `Bearer ${reader}`) },
  { weight: 1, arbitrary: fc.constant(() => `Bearer ${other}`) },
  { weight: 1, arbitrary: oddText.map((s) => () => s) },
  { weight: 1, arbitrary: oddText.map((s) => () => `Bearer ${s}`) },
  { weight: 1, arbitrary: fc.constant(() => undefined) },
);

const headers = fc.record(
  {
    authorization,
    'idempotency-key': fc.oneof(
      // Mostly fresh keys (the request runs), some reused ones (replays and conflicts), some malformed.
      { weight: 4, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.constantFrom('k-1', 'k-2', 'k-3') },
      { weight: 1, arbitrary: oddText },
    ),
    'if-match': fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('"1"', '"2"', 'W/"1"', '*', '"0"', '"99999999999999999999"') },
      { weight: 1, arbitrary: oddText },
    ),
    'content-type': fc.oneof(fc.constant('application/json'), oddText),
    'x-junk': oddText,
  },
  { requiredKeys: ['authorization'] },
);

const taskFields = [
  'name',
  'direction',
  'source',
  'target',
  'source.clusterId',
  'source.nameServer',
  'source.acl',
  'source.vpc',
  'target.clusterType',
  'target.region',
  'filter',
  'filter.expression.value',
  'filter.topics.include',
  'groups',
  'metadataSync',
  'startOffset',
  'tpsLimit',
  'shards',
  'version',
  'timestamp',
  'label',
  'role',
  'expiresInDays',
  'token',
];

const mangledTask = fc
  .record({
    n: fc.nat(50),
    field: fc.constantFrom(...taskFields),
    value: fc.oneof(fc.anything({ maxDepth: 2 }), oddText, fc.constantFrom(...NAME_SERVERS)),
  })
  .map(({ n, field, value }) => {
    // A few names, so some creates succeed and later ones meet a name already taken.
    const copy = structuredClone(validTask({ name: `fuzz-mangled-${n}` })) as Record<string, unknown>;
    const keys = field.split('.');
    let cur = copy;
    for (const k of keys.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[keys.at(-1)!] = value;
    return JSON.stringify(copy);
  });

/** Bodies some route takes as they are (a task, a rename, a reset, a token), so requests get past validation too. */
const wellFormed = fc.oneof(
  fc.nat(200).map((n) => validTask({ name: `fuzz-ok-${n}`, start: n % 4 === 0 })),
  fc.nat(200).map((n) => ({ name: `fuzz-renamed-${n}` })),
  fc.integer({ min: 0, max: 2_000_000_000_000 }).map((timestamp) => ({ timestamp })),
  fc.constantFrom({ role: 'reader', label: 'fuzz minted' }, { role: 'admin', expiresInDays: 1 }),
);

const body = fc.oneof(
  { weight: 3, arbitrary: wellFormed.map((v) => JSON.stringify(v)) },
  { weight: 4, arbitrary: mangledTask },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null') },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...NAME_SERVERS)
      .map((ns) => JSON.stringify(validTask({ name: 'fuzz-ns', source: { ...validTask().source, nameServer: ns } }))),
  },
  { weight: 1, arbitrary: oddText },
  { weight: 1, arbitrary: fc.constantFrom('{', '[]', 'null', '"x"', '{"name": "\\ud800"}', `{"a":${'['.repeat(5000)}`, '\u0000', DEEP) },
  {
    weight: 1,
    arbitrary: fc
      .record({ label: oddText, role: fc.constantFrom('admin', 'reader', 'root'), expiresInDays: fc.anything() })
      .map((v) => JSON.stringify(v)),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** A body the endpoint itself takes, when there is one: creates, edits and resets then really run. */
function fittingBody(method: string, path: string): fc.Arbitrary<string | undefined> {
  if (method === 'POST' && (path === '/v1/tasks' || path === '/v1/tasks/preview')) {
    return fc.nat(200).map((n) => JSON.stringify(validTask({ name: `fuzz-fit-${n}`, start: n % 4 === 0 })));
  }
  if (method === 'PATCH') return fc.nat(200).map((n) => JSON.stringify({ name: `fuzz-renamed-${n}` }));
  if (path.endsWith('/reset-offset')) return fc.integer({ min: 0, max: 2_000_000_000_000 }).map((t) => JSON.stringify({ timestamp: t }));
  if (method === 'POST' && path === '/v1/tokens') return fc.constant(JSON.stringify({ label: 'fuzz fit', expiresInDays: 2 }));
  return body;
}

const request = endpoint.chain((e) =>
  fc.record({
    endpoint: fc.constant(e),
    query,
    headers,
    body: fc.oneof({ weight: 2, arbitrary: body }, { weight: 1, arbitrary: fittingBody(e.method, e.path) }),
  }),
);

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

const toRequest = ({ endpoint: { method, path }, ...g }: Generated): ApiRequest => {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(g.headers)) {
    const value = typeof v === 'function' ? v() : v;
    if (value !== undefined) h[k] = value;
  }
  return { method, path, query: g.query, headers: h, body: g.body };
};

/** The web console's files are not built in a test checkout: its "not built" 503 is the checkout's state, not the input's. */
const consoleNotBuilt = (res: ApiResponse): boolean => res.status === 503 && res.body.startsWith('the console is not built');

function checkAnswer(res: ApiResponse, what: string): void {
  if (consoleNotBuilt(res)) return;
  assert.ok(res.status < 500, `${what} → ${res.status} ${res.body.slice(0, 300)}`);
  if (res.status >= 400 && (res.headers['content-type'] ?? '').startsWith('application/json')) {
    const parsed = ErrorBody.safeParse(JSON.parse(res.body));
    assert.ok(parsed.success, `${what}: a refusal that is not an ErrorBody: ${res.body.slice(0, 300)}`);
  }
}

const describeRequest = (r: ApiRequest) => JSON.stringify({ ...r, body: r.body?.slice(0, 200) });

describe(`API fuzz (seed ${SEED}; FERRY_FUZZ_SEED reproduces)`, () => {
  it(`${IN_PROCESS_RUNS} generated requests over every route through the router: no 5xx, and health after`, async () => {
    console.log(`# api fuzz seed ${SEED}`);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (g) => {
        const req = toRequest(g);
        const res = await route(req, deps);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        checkAnswer(res, describeRequest(req));
        if (req.method === 'DELETE' && res.status === 204 && req.path === `/v1/tasks/${taskId}`) await newTargetTask();
      }),
      { seed: SEED, numRuns: IN_PROCESS_RUNS, endOnFailure: true },
    );
    console.log(`# statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
    assert.equal(
      [...statuses.values()].reduce((a, b) => a + b, 0),
      IN_PROCESS_RUNS,
    );
    // The fuzz reached past validation: some requests succeeded, some were refused.
    assert.ok([...statuses.keys()].some((s) => s < 300) && [...statuses.keys()].some((s) => s >= 400));
    const health = await route({ method: 'GET', path: '/v1/health', query: {}, headers: {}, body: undefined }, deps);
    assert.equal(health.status, 200, health.body);
    const read = await route(
      { method: 'GET', path: '/v1/tasks', query: {}, headers: { authorization: `Bearer ${admin}` }, body: undefined },
      deps,
    );
    assert.equal(read.status, 200);
  });

  it(`${HTTP_RUNS} generated requests over real HTTP (raw bytes, oversized bodies): no 5xx, no reset, still serving`, async () => {
    const server = createHttpServer(deps, pino({ level: 'silent' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const big = Buffer.alloc(2 * 1024 * 1024 + 7, 0x61);
    const rawBody = fc.oneof(
      { weight: 6, arbitrary: body.map((b) => (b === undefined ? undefined : Buffer.from(b, 'utf8'))) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
      { weight: 1, arbitrary: fc.constant(big) },
    );
    const rawPath = fc.oneof(
      path.map((p) => encodeURI(p.replace(/[\ud800-\udfff]/g, 'x'))),
      fc.constantFrom('/v1/tasks/%E0%A4%A', '/v1/tasks?name=%00', '/v1/tasks?limit=%ff%fe', '/%2e%2e/%2e%2e/etc/passwd', '//v1//tasks'),
    );
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
            path: rawPath,
            body: rawBody,
            auth: authorization,
          }),
          async (g) => {
            const auth = g.auth();
            const h: Record<string, string> = { 'content-type': 'application/json' };
            // Header values on the wire are Latin-1 without control characters; anything else stays out.
            if (auth !== undefined && /^[\x20-\x7e]*$/.test(auth)) h.authorization = auth;
            const res = await fetch(`${base}${g.path}`, {
              method: g.method,
              headers: h,
              body: g.method === 'GET' ? undefined : g.body,
            });
            const text = await res.text();
            checkAnswer({ status: res.status, headers: Object.fromEntries(res.headers), body: text }, `${g.method} ${g.path}`);
          },
        ),
        { seed: SEED, numRuns: HTTP_RUNS, endOnFailure: true },
      );
      const health = await fetch(`${base}/v1/health`);
      assert.equal(health.status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

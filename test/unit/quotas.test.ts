// Quotas and the per-token rate limit through the real router on an embedded store: tasks per
// tenant (409 QUOTA_EXCEEDED), name servers and patterns per list (400 naming the field), and
// FERRY_RATE_LIMIT_RPS (429 RATE_LIMITED with Retry-After, per token).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { RateLimiter } from '../../shared/api/rate-limit.ts';
import { issueToken } from '../../shared/auth/tokens.ts';
import type { ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { loadConfig } from '../../shared/config.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const body = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  direction: 'one-way',
  source: { clusterType: 'self-built', clusterId: 'c-a', nameServer: '10.0.0.1:9876', networkType: 'public' },
  target: { clusterType: 'self-built', clusterId: 'c-b', nameServer: '10.0.0.2:9876', networkType: 'public' },
  start: false,
  ...over,
});

let db: Throwaway<string>;
let store: Store;
let deps: ApiDeps;
let tokens: Record<'a' | 'b' | 'other', string>;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  deps = {
    store,
    storeKind: 'embedded',
    tasks: new TaskService(store, aesGcmCipher(randomBytes(32)), { requireManagedSide: false, maxTasksPerTenant: 2 }),
    log: pino({ level: 'silent' }),
    exporter: new PrometheusExporter(store),
  };
  tokens = {
    a: await issueToken(store, 'default', 'admin', 'quota admin'),
    b: await issueToken(store, 'default', 'admin', 'quota admin'),
    other: await issueToken(store, 'other', 'admin', 'other admin'),
  };
});
after(async () => {
  await store.close();
  await db.drop();
});

const call = (d: ApiDeps, token: string, method: string, path: string, b?: unknown): Promise<ApiResponse> =>
  route(
    { method, path, query: {}, headers: { authorization: `Bearer ${token}` }, body: b === undefined ? undefined : JSON.stringify(b) },
    d,
  );
const error = (res: ApiResponse) => (JSON.parse(res.body) as { error: { code: string; field?: string; message: string } }).error;

describe('quotas', () => {
  it('tasks per tenant: the one past the limit is 409 QUOTA_EXCEEDED; other tenants are not counted', async () => {
    for (const name of ['q-1', 'q-2']) assert.equal((await call(deps, tokens.a, 'POST', '/v1/tasks', body(name))).status, 201);
    const over = await call(deps, tokens.a, 'POST', '/v1/tasks', body('q-3'));
    assert.equal(over.status, 409, over.body);
    assert.equal(error(over).code, 'QUOTA_EXCEEDED');
    assert.equal(error(over).message, 'this tenant already has 2 tasks, the most this deployment allows');
    assert.equal((await call(deps, tokens.other, 'POST', '/v1/tasks', body('q-1'))).status, 201);
  });

  it('at most 16 name servers and 64 patterns per list, 400 naming the field', async () => {
    const ns = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:9876`).join(';');
    const tooMany = await call(
      deps,
      tokens.other,
      'POST',
      '/v1/tasks/preview',
      body('ns', { source: { ...body('').source, nameServer: ns(17) } }),
    );
    assert.equal(tooMany.status, 400, tooMany.body);
    assert.equal(error(tooMany).field, 'source.nameServer');
    assert.equal(error(tooMany).message, 'source.nameServer: nameServer may list at most 16 name servers');
    const patterns = (n: number) => Array.from({ length: n }, (_, i) => `t-${i}`);
    for (const [over, field] of [
      [{ filter: { topics: { include: patterns(65), exclude: [] } } }, 'filter.topics.include'],
      [{ filter: { topics: { include: ['.*'], exclude: patterns(65) } } }, 'filter.topics.exclude'],
      [{ groups: { include: patterns(65), exclude: [] } }, 'groups.include'],
    ] as const) {
      const res = await call(deps, tokens.other, 'POST', '/v1/tasks', body('patterns', over));
      assert.equal(res.status, 400, res.body);
      assert.equal(error(res).field, field);
      assert.match(error(res).message, /at most 64 patterns/);
    }
    const atLimit = await call(deps, tokens.other, 'POST', '/v1/tasks', {
      ...body('at-limit', { filter: { topics: { include: patterns(64), exclude: [] } } }),
      source: { ...body('').source, nameServer: ns(16) },
    });
    assert.equal(atLimit.status, 201, atLimit.body);
  });

  it('the settings come from the environment', () => {
    assert.equal(loadConfig({}).maxTasksPerTenant, 1000);
    assert.equal(loadConfig({}).rateLimitRps, undefined);
    const c = loadConfig({ FERRY_MAX_TASKS_PER_TENANT: '5', FERRY_RATE_LIMIT_RPS: '20' });
    assert.equal(c.maxTasksPerTenant, 5);
    assert.equal(c.rateLimitRps, 20);
  });
});

describe('rate limit per token', () => {
  it('a bucket holds two seconds of requests, then says how long to wait, and refills', () => {
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    for (let i = 0; i < 4; i++) assert.equal(limiter.take('t'), undefined, `request ${i}`);
    assert.equal(limiter.take('t'), 1);
    assert.equal(limiter.take('u'), undefined, 'another token has its own bucket');
    now += 500;
    assert.equal(limiter.take('t'), undefined, 'half a second refills one request at 2 rps');
    assert.equal(limiter.take('t'), 1);
  });

  it('the router answers 429 RATE_LIMITED with Retry-After to the token over its rate, not to others', async () => {
    const limited = { ...deps, rateLimit: new RateLimiter(1, () => 0) };
    assert.equal((await call(limited, tokens.a, 'GET', '/v1/tasks')).status, 200);
    assert.equal((await call(limited, tokens.a, 'GET', '/v1/tasks')).status, 200);
    const refused = await call(limited, tokens.a, 'GET', '/v1/tasks');
    assert.equal(refused.status, 429, refused.body);
    assert.equal(error(refused).code, 'RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], '1');
    assert.equal((await call(limited, tokens.b, 'GET', '/v1/tasks')).status, 200, 'another token of the same tenant');
  });
});

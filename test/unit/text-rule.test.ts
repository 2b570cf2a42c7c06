// The one text rule for API input, through the real router on an embedded store: NUL, other
// control characters and lone surrogates in any string of a task body (values and field names),
// a PATCH, or a query string are a 400 naming the field — never a 500 — and identifiers take only
// letters, digits and "._:-". A body over the limit is 413.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { issueToken } from '../../shared/auth/tokens.ts';
import { MAX_BODY_BYTES, type ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { textProblem } from '../../shared/tasks/text.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

/** A task body with every string field the API knows filled in (both endpoint kinds, every option). */
const fullBody = () => ({
  name: 'text-rule',
  direction: 'one-way',
  source: {
    clusterType: 'self-built',
    clusterId: 'c-a',
    protocol: 'remoting',
    nameServer: '10.0.0.1:9876',
    networkType: 'vpc',
    vpc: { region: 'ap-guangzhou', vpcId: 'vpc-1', subnetId: 'subnet-1' },
    resourceType: 'other-cloud',
    dedicatedLine: { type: 'ccn', id: 'ccn-1' },
    acl: { enabled: true, accessKey: 'ak-1', secretKey: 'sk-1' },
  },
  target: {
    clusterType: 'tencent',
    region: 'ap-shanghai',
    clusterId: 'rmq-1',
    protocol: 'remoting',
    networkType: 'vpc',
    acl: { enabled: true, accessKey: 'ak-2', secretKey: 'sk-2' },
    cloudApi: { secretId: 'AKID-1', secretKey: 'cloud-secret' },
  },
  startOffset: { type: 'latest' },
  filter: { topics: { include: ['orders-.*'], exclude: ['orders-x'] }, expression: { type: 'TAG', value: 'a || b' } },
  shards: 'auto',
  groups: { include: ['g-.*'], exclude: ['g-x'] },
  metadataSync: { kinds: ['topic', 'group'] },
  start: false,
});

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Every path to a string leaf of `v`. */
function stringPaths(v: Json, path: string[] = []): string[][] {
  if (typeof v === 'string') return [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => stringPaths(x, [...path, String(i)]));
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => stringPaths(x, [...path, k]));
  return [];
}

function withValue(body: Json, path: string[], value: Json): Json {
  const copy = structuredClone(body) as Record<string, Json>;
  let at: Record<string, Json> = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, Json>;
  at[path.at(-1)!] = value;
  return copy;
}

const BAD = ['\u0000', 'a\u0001b', 'x\u007f', 'tab\there', '\ud800', 'ok\udfffok', 'line\n'];

let db: Throwaway<string>;
let store: Store;
let deps: ApiDeps;
let admin: string;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  deps = {
    store,
    storeKind: 'embedded',
    tasks: new TaskService(store, aesGcmCipher(randomBytes(32)), { requireManagedSide: false }),
    log: pino({ level: 'silent' }),
    exporter: new PrometheusExporter(store),
  };
  admin = await issueToken(store, 'default', 'admin', 'text rule admin');
});
after(async () => {
  await store.close();
  await db.drop();
});

const call = (method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<ApiResponse> =>
  route(
    {
      method,
      path,
      query,
      headers: { authorization: `Bearer ${admin}` },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    },
    deps,
  );

const refusal = (res: ApiResponse) => JSON.parse(res.body) as { error: { code: string; message: string; field?: string } };

describe('the text rule', () => {
  it('the full body is accepted as it is (the fields below fail only for what is put in them)', async () => {
    const res = await call('POST', '/v1/tasks', fullBody());
    assert.equal(res.status, 201, res.body);
  });

  it('control characters and lone surrogates in every string field are 400 naming the field', async () => {
    const body = fullBody() as Json;
    const paths = stringPaths(body);
    assert.ok(paths.length >= 30, `only ${paths.length} string fields`);
    for (const path of paths) {
      for (const bad of BAD) {
        const res = await call('POST', '/v1/tasks', withValue(body, path, bad));
        const field = path.join('.');
        assert.equal(res.status, 400, `${field} = ${JSON.stringify(bad)}: ${res.status} ${res.body}`);
        const { error } = refusal(res);
        assert.equal(error.code, 'VALIDATION_FAILED');
        assert.equal(error.field, field, `${field} = ${JSON.stringify(bad)}: ${error.message}`);
        assert.ok(error.message.startsWith(`${field}: `), error.message);
        assert.ok(!error.message.includes(bad), 'the message does not quote the value');
      }
    }
  });

  it('field names are under the rule too, and so are preview, PATCH and token bodies', async () => {
    const key = await call('POST', '/v1/tasks', { ...fullBody(), source: { ...fullBody().source, 'bad\u0000key': 1 } });
    assert.equal(key.status, 400, key.body);
    assert.equal(refusal(key).error.field, 'source');
    const preview = await call('POST', '/v1/tasks/preview', withValue(fullBody() as Json, ['filter', 'topics', 'include', '0'], '\ud83d'));
    assert.equal(preview.status, 400, preview.body);
    assert.equal(refusal(preview).error.field, 'filter.topics.include.0');

    const created = await call('POST', '/v1/tasks', { ...fullBody(), name: 'patch-me' });
    assert.equal(created.status, 201, created.body);
    const id = (JSON.parse(created.body) as { id: string }).id;
    for (const [patch, field] of [
      [{ source: { vpc: { vpcId: 'vpc\u0000' } } }, 'source.vpc.vpcId'],
      [{ target: { cloudApi: { secretKey: '\udc00' } } }, 'target.cloudApi.secretKey'],
      [{ filter: { expression: { value: 'a\u0007' } } }, 'filter.expression.value'],
    ] as const) {
      const res = await call('PATCH', `/v1/tasks/${id}`, patch);
      assert.equal(res.status, 400, `${field}: ${res.body}`);
      assert.equal(refusal(res).error.field, field);
    }
    const token = await call('POST', '/v1/tokens', { role: 'reader', label: 'label\u0000' });
    assert.equal(token.status, 400, token.body);
    assert.equal(refusal(token).error.field, 'label');
  });

  it('identifiers take letters, digits and "._:-" only', async () => {
    for (const [path, value] of [
      [['source', 'clusterId'], 'c a'],
      [['source', 'clusterId'], 'c/a'],
      [['source', 'vpc', 'region'], 'ap-guangzhou;'],
      [['source', 'vpc', 'vpcId'], 'vpc-1"'],
      [['source', 'vpc', 'subnetId'], 'subnet<1>'],
      [['source', 'dedicatedLine', 'id'], 'ccn 1'],
      [['target', 'region'], 'ap-shanghai\u00e9'],
      [['target', 'clusterId'], 'rmq-\u4e00'],
    ] as const) {
      const res = await call('POST', '/v1/tasks', withValue(fullBody() as Json, [...path], value));
      assert.equal(res.status, 400, `${path.join('.')}: ${res.body}`);
      assert.equal(refusal(res).error.field, path.join('.'));
      assert.match(refusal(res).error.message, /may contain only letters, digits and "\._:-"/);
    }
    const ok = await call('POST', '/v1/tasks', {
      ...(withValue(fullBody() as Json, ['source', 'clusterId'], 'ns_1.a:b-c') as object),
      name: 'ids',
    });
    assert.equal(ok.status, 201, ok.body);
  });

  it('query strings: ?name=%00 and friends are 400 naming the parameter', async () => {
    for (const [query, field] of [
      [{ name: '\u0000' }, 'name'],
      [{ status: 'running\u0001' }, 'status'],
      [{ cursor: '\ud800' }, 'cursor'],
      [{ 'bad\u0000': 'x' }, 'query'],
    ] as const) {
      const res = await call('GET', '/v1/tasks', undefined, query);
      assert.equal(res.status, 400, `${field}: ${res.body}`);
      assert.equal(refusal(res).error.field, field);
    }
    assert.equal((await call('GET', '/v1/tasks', undefined, { name: 'text-rule' })).status, 200);
  });

  it('a body over the limit is 413 PAYLOAD_TOO_LARGE on every edge', async () => {
    const res = await call('POST', '/v1/tasks', JSON.stringify({ name: 'x'.repeat(MAX_BODY_BYTES) }));
    assert.equal(res.status, 413, res.body);
    assert.equal(refusal(res).error.code, 'PAYLOAD_TOO_LARGE');
  });

  it('a proper surrogate pair is well-formed', () => {
    assert.equal(textProblem('emoji \ud83d\ude00 ok'), undefined);
    assert.equal(textProblem('中文-ok'), undefined);
    assert.match(textProblem('\ud83d')!, /lone surrogate/);
  });
});

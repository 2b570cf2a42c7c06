// API hygiene (issue 14) on the real router and an embedded store: tokens by id with expiry and
// last use, audit actors `token:<id>` with the label beside them and system names reserved,
// bootstrap with a revoked FERRY_API_TOKEN, Idempotency-Key, If-Match/ETag, health without
// internals, parked bodies for admins only, a private data directory and redacted error logs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ApiRequest, ApiResponse } from '../../shared/api/http.ts';
import { route, type ApiDeps } from '../../shared/api/router.ts';
import { hashToken, issueToken } from '../../shared/auth/tokens.ts';
import { createLogger } from '../../shared/log.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { ensureBootstrapToken } from '../../infra/local/bootstrap.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const taskBody = (name: string) => ({
  name,
  direction: 'one-way',
  source: { clusterType: 'self-built', clusterId: 'c-a', nameServer: '127.0.0.1:9876', networkType: 'public' },
  target: { clusterType: 'self-built', clusterId: 'c-b', nameServer: '127.0.0.1:9877', networkType: 'public' },
  start: false,
});

let db: Throwaway<string>;
let store: Store;
let deps: ApiDeps;
let admin: string;
let reader: string;
const silent = pino({ level: 'silent' });

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  deps = {
    store,
    storeKind: 'embedded',
    tasks: new TaskService(store, aesGcmCipher(randomBytes(32)), { requireManagedSide: false }),
    log: silent,
    exporter: new PrometheusExporter(store),
  };
  admin = await issueToken(store, 'default', 'admin', 'hygiene admin');
  reader = await issueToken(store, 'default', 'reader', 'hygiene reader');
});

after(async () => {
  await store.close();
  await db.drop();
});

function call(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string>; query?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse> {
  const req: ApiRequest = {
    method,
    path,
    query: opts.query ?? {},
    headers: { authorization: `Bearer ${opts.token ?? admin}`, ...opts.headers },
    body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
  };
  return route(req, deps);
}
// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely, their shapes are asserted
const parse = (res: ApiResponse): any => JSON.parse(res.body);
/** A log destination that keeps the lines. */
const collect = (lines: string[]) =>
  new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
const errorCode = (res: ApiResponse): string | undefined => (res.body ? parse(res).error?.code : undefined);

describe('tokens', () => {
  it('refuses bodies that are not an object, bad expiries and reserved labels', async () => {
    for (const [body, field] of [
      [[], 'body'],
      ['reader', 'body'],
      [{ expiresInDays: 'soon' }, 'expiresInDays'],
      [{ expiresInDays: 0 }, 'expiresInDays'],
      [{ expiresInDays: 99_999 }, 'expiresInDays'],
      [{ label: 'reconciler' }, 'label'],
      [{ label: ' Reconciler ' }, 'label'],
      [{ label: 'token:0123456789abcdef' }, 'label'],
      [{ label: 'migration 003_unique_task_names' }, 'label'],
      [{ label: 42 }, 'label'],
      [{ label: 'x'.repeat(101) }, 'label'],
      [{ colour: 'blue' }, 'colour'],
    ] as const) {
      const res = await call('POST', '/v1/tokens', { body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.equal(parse(res).error.field, field, JSON.stringify(body));
    }
  });

  it('an expiring token works until it expires, then 401; the listing shows expiry and last use', async () => {
    const minted = parse(await call('POST', '/v1/tokens', { body: { label: 'brief', role: 'reader', expiresInDays: 1 / 86_400 } }));
    assert.ok(minted.expiresAt);
    assert.equal((await call('GET', '/v1/tasks', { token: minted.token })).status, 200);
    await new Promise((r) => setTimeout(r, 1200));
    const refused = await call('GET', '/v1/tasks', { token: minted.token });
    assert.equal(refused.status, 401);
    assert.equal(errorCode(refused), 'UNAUTHENTICATED');

    const items = parse(await call('GET', '/v1/tokens')).items as Record<string, unknown>[];
    const listed = items.find((t) => t.id === minted.id)!;
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'expiresAt', 'id', 'label', 'lastUsedAt', 'revokedAt', 'role']);
    assert.equal(listed.expiresAt, minted.expiresAt);
    assert.ok(listed.lastUsedAt, 'it was used once');
    assert.equal(listed.revokedAt, null);
    assert.ok(!JSON.stringify(items).includes(minted.token));
  });

  it('lastUsedAt is written once a minute, not once per request', async () => {
    const minted = parse(await call('POST', '/v1/tokens', { body: { label: 'busy', role: 'reader' } }));
    const hash = hashToken(minted.token);
    assert.equal((await store.getToken(hash))!.lastUsedAt, null);
    await call('GET', '/v1/tasks', { token: minted.token });
    const first = (await store.getToken(hash))!.lastUsedAt!;
    for (let i = 0; i < 20; i++) await call('GET', '/v1/tasks', { token: minted.token });
    assert.equal((await store.getToken(hash))!.lastUsedAt!.getTime(), first.getTime());
  });

  it('revokes by id; audit actors are token:<id> with the label beside them, never a system name', async () => {
    const minted = parse(await call('POST', '/v1/tokens', { body: { label: 'reconciler bot', role: 'admin' } }));
    const t = parse(await call('POST', '/v1/tasks', { token: minted.token, body: taskBody('audited') }));
    const events = parse(await call('GET', `/v1/tasks/${t.id}/events`)).items;
    assert.deepEqual(
      events.map((e: { actor: string; actorLabel: string }) => [e.actor, e.actorLabel]),
      [[`token:${minted.id}`, 'reconciler bot']],
    );
    assert.equal((await call('DELETE', `/v1/tokens/${minted.id}`)).status, 204);
    assert.equal((await call('GET', '/v1/tasks', { token: minted.token })).status, 401);
    assert.equal((await call('DELETE', '/v1/tokens/0000000000000000')).status, 404);
  });

  it('bootstrap with a revoked FERRY_API_TOKEN starts and keeps it revoked', async () => {
    const token = `operator-chosen-${randomBytes(8).toString('hex')}`;
    await ensureBootstrapToken(store, token, silent);
    assert.ok(await store.findToken(hashToken(token)));
    await ensureBootstrapToken(store, token, silent);
    await store.revokeToken(hashToken(token));
    await ensureBootstrapToken(store, token, silent); // used to fail: duplicate key
    assert.equal(await store.findToken(hashToken(token)), null, 'still revoked');
  });
});

describe('Idempotency-Key', () => {
  it('the same key and body: the first answer again, one task; another body: 409; per tenant', async () => {
    const key = { 'idempotency-key': `create-${randomBytes(4).toString('hex')}` };
    const first = await call('POST', '/v1/tasks', { body: taskBody('idem-1'), headers: key });
    assert.equal(first.status, 201, first.body);
    const again = await call('POST', '/v1/tasks', { body: taskBody('idem-1'), headers: key });
    assert.equal(again.status, 201);
    assert.equal(again.body, first.body);
    assert.equal(again.headers.etag, first.headers.etag);
    const listed = parse(await call('GET', '/v1/tasks', { query: { name: 'idem-1' } })).items;
    assert.equal(listed.length, 1, 'created once');

    const other = await call('POST', '/v1/tasks', { body: taskBody('idem-2'), headers: key });
    assert.equal(other.status, 409);
    assert.equal(errorCode(other), 'CONFLICT');
    assert.equal(parse(other).error.field, 'Idempotency-Key');

    const elsewhere = await issueToken(store, 'idem-other', 'admin', 'other tenant');
    const theirs = await call('POST', '/v1/tasks', { token: elsewhere, body: taskBody('idem-1'), headers: key });
    assert.equal(theirs.status, 201, 'a key is per tenant');
    assert.notEqual(parse(theirs).id, parse(first).id);
  });

  it('a refusal is an answer too; a minted token is not replayed; malformed keys are 400', async () => {
    const key = { 'idempotency-key': `bad-${randomBytes(4).toString('hex')}` };
    const bad = await call('POST', '/v1/tasks', { body: { name: 'x' }, headers: key });
    assert.equal(bad.status, 400);
    assert.equal((await call('POST', '/v1/tasks', { body: { name: 'x' }, headers: key })).body, bad.body);

    const tokenKey = { 'idempotency-key': `tok-${randomBytes(4).toString('hex')}` };
    assert.equal((await call('POST', '/v1/tokens', { body: { label: 'once' }, headers: tokenKey })).status, 201);
    const replay = await call('POST', '/v1/tokens', { body: { label: 'once' }, headers: tokenKey });
    assert.equal(replay.status, 409, 'the token is shown once: no second copy, no second token');
    const names = parse(await call('GET', '/v1/tokens')).items.filter((t: { label: string }) => t.label === 'once');
    assert.equal(names.length, 1);

    for (const k of ['', 'x'.repeat(256), 'has space', 'ünïcode']) {
      const res = await call('POST', '/v1/tasks', { body: taskBody('idem-k'), headers: { 'idempotency-key': k } });
      if (k === '') continue; // an empty header is no key
      assert.equal(res.status, 400, k);
      assert.equal(parse(res).error.field, 'Idempotency-Key');
    }
  });
});

describe('If-Match and ETag', () => {
  it('reads carry ETag "<version>"; a stale If-Match on PATCH, actions and DELETE is 409', async () => {
    const created = await call('POST', '/v1/tasks', { body: taskBody('etag-1') });
    const id = parse(created).id;
    assert.equal(created.headers.etag, '"1"');
    const read = await call('GET', `/v1/tasks/${id}`);
    assert.equal(read.headers.etag, `"${parse(read).version}"`);

    const renamed = await call('PATCH', `/v1/tasks/${id}`, { body: { name: 'etag-2' }, headers: { 'if-match': '"1"' } });
    assert.equal(renamed.status, 200, renamed.body);
    assert.equal(renamed.headers.etag, '"2"');
    for (const [method, path, body] of [
      ['PATCH', `/v1/tasks/${id}`, { name: 'etag-3' }],
      ['POST', `/v1/tasks/${id}/start`, undefined],
      ['POST', `/v1/tasks/${id}/reset-offset`, { timestamp: Date.now() - 1000 }],
      ['POST', `/v1/tasks/${id}/failures/retry`, undefined],
      ['DELETE', `/v1/tasks/${id}`, undefined],
    ] as const) {
      const res = await call(method, path, { body, headers: { 'if-match': '"1"' } });
      assert.equal(res.status, 409, `${method} ${path}: ${res.body}`);
      assert.equal(errorCode(res), 'CONFLICT');
    }
    assert.equal(parse(await call('GET', `/v1/tasks/${id}`)).name, 'etag-2', 'nothing changed');
    const weak = await call('POST', `/v1/tasks/${id}/reset-offset`, { body: { timestamp: 1 }, headers: { 'if-match': 'W/"2"' } });
    assert.equal(weak.status, 202, weak.body);
    assert.equal((await call('PATCH', `/v1/tasks/${id}`, { body: { name: 'etag-4' }, headers: { 'if-match': '*' } })).status, 200);
    const malformed = await call('DELETE', `/v1/tasks/${id}`, { headers: { 'if-match': 'seven' } });
    assert.equal(malformed.status, 400);
    assert.equal(parse(malformed).error.field, 'If-Match');
    assert.equal((await call('DELETE', `/v1/tasks/${id}`, { headers: { 'if-match': '"4"' } })).status, 204);
  });
});

describe('no internals', () => {
  it('health tells an unauthenticated caller nothing about why the store is down; the log has it', async () => {
    const lines: string[] = [];
    const sink = collect(lines);
    const down = new Proxy(store, {
      get: (t, k) =>
        k === 'ping' ? () => Promise.reject(new Error('connect ECONNREFUSED /var/lib/ferry/.s.PGSQL.5432')) : Reflect.get(t, k),
    });
    const res = await route(
      { method: 'GET', path: '/v1/health', query: {}, headers: {}, body: undefined },
      { ...deps, store: down, log: createLogger('info', sink) },
    );
    assert.equal(res.status, 503);
    assert.deepEqual(parse(res), { status: 'unavailable', store: 'embedded' });
    assert.match(lines.join(''), /ECONNREFUSED/);
  });

  it('parked message bodies only for admins: readers get the metadata', async () => {
    const t = parse(await call('POST', '/v1/tasks', { body: taskBody('parked') }));
    await store.parkMessage({
      taskId: t.id,
      flow: 'c-a->c-b',
      topic: 'orders',
      broker: 'b-0',
      queueId: 0,
      queueOffset: 7,
      reason: 'test',
      payload: Buffer.from('confidential body'),
      properties: { k: 'v' },
    });
    const q = { includePayload: 'true' };
    const asAdmin = parse(await call('GET', `/v1/tasks/${t.id}/failures`, { query: q })).items;
    assert.equal(Buffer.from(asAdmin[0].payload, 'base64').toString(), 'confidential body');
    const asReader = await call('GET', `/v1/tasks/${t.id}/failures`, { query: q, token: reader });
    assert.equal(asReader.status, 200);
    const item = parse(asReader).items[0];
    assert.equal(item.payload, undefined);
    assert.equal(item.queueOffset, 7);
    assert.equal(item.payloadSize, 'confidential body'.length);
  });

  it('a body nested far deeper than any task is a 400, not a stack overflow', async () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const res = await call('POST', '/v1/tasks', { raw: `{"name":${deep}}` });
    assert.equal(res.status, 400, res.body);
    assert.equal(parse(res).error.field, 'body');
    assert.equal(
      (await call('POST', '/v1/tasks', { body: { ...taskBody('nested-ok'), filter: { topics: { include: ['[a]{2}'] } } } })).status,
      201,
    );
  });

  it('error logs carry no statement, parameters or row values, at any depth of cause', () => {
    const lines: string[] = [];
    const log = createLogger('info', collect(lines));
    const dbErr = Object.assign(new Error('duplicate key value violates unique constraint "api_tokens_pkey"'), {
      code: '23505',
      query: 'INSERT INTO api_tokens VALUES ($1)',
      params: ['s3cr3t-param'],
      detail: 'Key (token_hash)=(s3cr3t-detail) already exists.',
      where: 'SQL statement s3cr3t-where',
    });
    log.error({ err: new Error('request failed', { cause: dbErr }) }, 'request failed');
    log.error({ err: dbErr }, 'direct');
    const out = lines.join('');
    assert.match(out, /23505/);
    assert.match(out, /api_tokens_pkey/);
    assert.doesNotMatch(out, /s3cr3t|INSERT INTO/);
  });
});

describe('embedded data directory', () => {
  it('is 0700 with 0600 files, an existing looser directory included, also after writes', async () => {
    const dir = await throwawayDataDir();
    try {
      await mkdir(dir.value, { mode: 0o755 });
      await chmod(dir.value, 0o755);
      const s = await openStore({ dataDir: dir.value });
      await issueToken(s, 'default', 'admin', 'perm test');
      await s.close();
      await writeFile(join(dir.value, 'stray'), 'x', { mode: 0o666 });
      await chmod(join(dir.value, 'stray'), 0o666);
      const again = await openStore({ dataDir: dir.value });
      await again.close();
      const loose: string[] = [];
      const walk = async (d: string): Promise<void> => {
        if (((await stat(d)).mode & 0o777) !== 0o700) loose.push(`${d} dir`);
        for (const e of await readdir(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) await walk(p);
          else if (e.isFile() && ((await stat(p)).mode & 0o777) !== 0o600) loose.push(p);
        }
      };
      await walk(dir.value);
      assert.deepEqual(loose, []);
    } finally {
      await dir.drop();
    }
  });
});

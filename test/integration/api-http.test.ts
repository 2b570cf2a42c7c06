// The task API over real HTTP against the local runtime (`npm start`'s entry), on both stores.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';

const SECRET = 'sk-VERY-secret-7f3a9c';
const ACCESS = 'ak-visible-1234';

const selfBuilt = (ns: string, acl = false) => ({
  clusterType: 'self-built',
  clusterId: `c-${ns.replace(/\W/g, '')}`,
  protocol: 'remoting',
  nameServer: ns,
  networkType: 'public',
  acl: acl ? { enabled: true, accessKey: ACCESS, secretKey: SECRET } : { enabled: false },
});

export const validTask = (over: Record<string, unknown> = {}) => ({
  name: 'orders-dr_跨集群',
  direction: 'one-way',
  source: selfBuilt('127.0.0.1:9876;127.0.0.1:9877', true),
  target: selfBuilt('10.0.0.2:9876'),
  startOffset: { type: 'latest' },
  filter: { topics: { include: ['orders-.*'], exclude: ['orders-tmp'] }, expression: { type: 'SQL92', value: "a > 5 AND b = 'x'" } },
  tpsLimit: 5000,
  idempotentResume: true,
  ...over,
});

for (const store of ['embedded', 'postgres'] as const) {
  describe(`task API over HTTP (${store} store)`, () => {
    let rt: Runtime;
    let api: ReturnType<typeof client>;
    const responses: string[] = [];
    const call = async (...args: Parameters<ReturnType<typeof client>>) => {
      const r = await api(...args);
      responses.push(r.text);
      return r;
    };

    before(async () => {
      // No reconciler runs here: these tasks point at made-up clusters and stay where the API puts them.
      rt = await startRuntime({ store, env: { FERRY_RECONCILE_INTERVAL_MS: '86400000' } });
      api = client(rt);
    });
    after(async () => {
      await rt.stop();
    });

    it('creates, lists, shows, renames, stops, resets, starts, and deletes a task', async () => {
      const created = await call('POST', '/v1/tasks', validTask());
      assert.equal(created.status, 201, created.text);
      const t = created.body;
      assert.match(t.id, /^task-/);
      assert.equal(t.status, 'initializing');
      assert.equal(t.desiredState, 'running');
      assert.equal(t.version, 1);
      assert.deepEqual(t.source.acl, { enabled: true, accessKey: 'ak-v****', secretKeySet: true });
      assert.equal(t.tenant, 'default');

      const list = await call('GET', '/v1/tasks?limit=10');
      assert.equal(list.status, 200);
      assert.ok(list.body.items.some((x: { id: string }) => x.id === t.id));
      const byName = await call('GET', `/v1/tasks?name=${encodeURIComponent('跨集群')}&status=initializing`);
      assert.deepEqual(
        byName.body.items.map((x: { id: string }) => x.id),
        [t.id],
      );

      const got = await call('GET', `/v1/tasks/${t.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body.summary, []);

      const stopped = await call('POST', `/v1/tasks/${t.id}/stop`);
      assert.equal(stopped.status, 202);
      assert.equal(stopped.body.status, 'stopped');
      const renamed = await call('PATCH', `/v1/tasks/${t.id}`, { name: 'orders-dr-2', version: stopped.body.version });
      assert.equal(renamed.status, 200, renamed.text);
      assert.equal(renamed.body.name, 'orders-dr-2');
      const reset = await call('POST', `/v1/tasks/${t.id}/reset-offset`, { timestamp: Date.now() - 3_600_000 });
      assert.equal(reset.status, 202, reset.text);
      assert.ok(reset.body.pendingReset.timestamp > 0);
      const started = await call('POST', `/v1/tasks/${t.id}/start`);
      assert.equal(started.status, 202);
      assert.equal(started.body.status, 'initializing');

      for (const sub of ['metrics', 'metadata', 'failures', 'events']) {
        const r = await call('GET', `/v1/tasks/${t.id}/${sub}`);
        assert.equal(r.status, 200, `${sub}: ${r.text}`);
      }
      const events = (await call('GET', `/v1/tasks/${t.id}/events`)).body.items.map((e: { action: string }) => e.action);
      assert.deepEqual(events, ['start', 'reset-offset', 'rename', 'stop', 'create']);
      assert.equal((await call('POST', `/v1/tasks/${t.id}/failures/retry`)).status, 202);

      assert.equal((await call('POST', `/v1/tasks/${t.id}/stop`)).status, 202);
      assert.equal((await call('DELETE', `/v1/tasks/${t.id}`)).status, 204);
      assert.equal((await call('GET', `/v1/tasks/${t.id}`)).status, 404);
    });

    it('refuses edit, delete and reset while running, immutable fields, and stale versions', async () => {
      const t = (await call('POST', '/v1/tasks', validTask({ name: 'guarded' }))).body;
      const expectError = async (method: string, path: string, body: unknown, status: number, code: string, field?: string) => {
        const r = await call(method, path, body);
        assert.equal(r.status, status, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, code);
        if (field) assert.equal(r.body.error.field, field);
        assert.ok(r.body.error.message.length > 0);
      };
      await expectError('PATCH', `/v1/tasks/${t.id}`, { name: 'x' }, 409, 'TASK_RUNNING');
      await expectError('PATCH', `/v1/tasks/${t.id}`, { tpsLimit: 10 }, 409, 'TASK_RUNNING', 'status');
      await expectError('DELETE', `/v1/tasks/${t.id}`, undefined, 409, 'TASK_RUNNING');
      await expectError('POST', `/v1/tasks/${t.id}/reset-offset`, { timestamp: Date.now() }, 409, 'TASK_RUNNING');
      await expectError('POST', `/v1/tasks/${t.id}/start`, undefined, 409, 'INVALID_STATE');
      await call('POST', `/v1/tasks/${t.id}/stop`);
      for (const [patch, field] of [
        [{ direction: 'two-way' }, 'direction'],
        [{ source: { clusterId: 'elsewhere' } }, 'source.clusterId'],
        [{ target: { clusterType: 'tencent', region: 'ap-guangzhou' } }, 'target.clusterType'],
        [{ idempotentResume: false }, 'idempotentResume'],
      ] as const) {
        await expectError('PATCH', `/v1/tasks/${t.id}`, patch, 400, 'FIELD_IMMUTABLE', field);
      }
      await expectError('PATCH', `/v1/tasks/${t.id}`, { name: 'fresh', version: 1 }, 409, 'CONFLICT', 'version');
      await expectError('POST', `/v1/tasks/${t.id}/reset-offset`, { timestamp: 'yesterday' }, 400, 'VALIDATION_FAILED', 'timestamp');
      await expectError('GET', '/v1/tasks/task-does-not-exist', undefined, 404, 'NOT_FOUND');
      await expectError('POST', '/v1/tasks', undefined, 400, 'VALIDATION_FAILED');
      const raw = await api('POST', '/v1/tasks', undefined, '{"name": ');
      assert.equal(raw.status, 400);
      assert.equal(raw.body.error.field, 'body');
    });

    it('edits a stopped task (endpoints, credentials, filter, tpsLimit, shards) and keeps names unique', async () => {
      const t = (await call('POST', '/v1/tasks', validTask({ name: 'editable', start: false }))).body;
      const taken = await call('POST', '/v1/tasks', validTask({ name: 'editable' }));
      assert.equal(taken.status, 409, taken.text);
      assert.deepEqual([taken.body.error.code, taken.body.error.field], ['CONFLICT', 'name']);
      const edited = await call('PATCH', `/v1/tasks/${t.id}`, {
        version: t.version,
        source: { nameServer: '127.0.0.1:9886', acl: { secretKey: 'sk-ROTATED-9d1e' } },
        filter: { expression: { type: 'TAG', value: 'paid' } },
        tpsLimit: null,
        shards: 4,
      });
      assert.equal(edited.status, 200, edited.text);
      assert.deepEqual(
        [
          edited.body.source.nameServer,
          edited.body.source.acl,
          edited.body.filter.topics.include,
          edited.body.tpsLimit,
          edited.body.shards,
        ],
        ['127.0.0.1:9886', { enabled: true, accessKey: 'ak-v****', secretKeySet: true }, ['orders-.*'], null, 4],
      );
      assert.equal(edited.body.version, t.version + 1);
      const again = await call('PATCH', `/v1/tasks/${t.id}`, { source: { nameServer: '127.0.0.1:9886' }, shards: 4 });
      assert.equal(again.body.version, edited.body.version, 'nothing to change: nothing written');
      const other = (await call('POST', '/v1/tasks', validTask({ name: 'editable-2', start: false }))).body;
      const rename = await call('PATCH', `/v1/tasks/${other.id}`, { name: 'editable' });
      assert.equal(rename.status, 409, rename.text);
      assert.deepEqual([rename.body.error.code, rename.body.error.field], ['CONFLICT', 'name']);
      const events = (await call('GET', `/v1/tasks/${t.id}/events`)).body.items;
      assert.deepEqual(events[0].after.changedFields, [
        'filter.expression.type',
        'filter.expression.value',
        'shards',
        'source.acl.secretKey',
        'source.nameServer',
        'tpsLimit',
      ]);
      for (const text of responses) assert.ok(!text.includes('sk-ROTATED-9d1e'), 'the new secret key leaked');
      const doc = (await call('GET', '/v1/openapi.json')).body;
      assert.equal(
        doc.paths['/v1/tasks/{id}'].patch.requestBody.content['application/json'].schema.$ref,
        '#/components/schemas/TaskPatchInput',
      );
      assert.ok(doc.components.schemas.TaskPatchInput.properties.source);
    });

    const table: [string, (t: ReturnType<typeof validTask>) => unknown, string][] = [
      ['201-character name', (t) => ({ ...t, name: 'n'.repeat(201) }), 'name'],
      ['name abc$', (t) => ({ ...t, name: 'abc$' }), 'name'],
      ['empty name', (t) => ({ ...t, name: '' }), 'name'],
      ['empty name server', (t) => ({ ...t, source: { ...t.source, nameServer: '' } }), 'source.nameServer'],
      ['name server without port', (t) => ({ ...t, source: { ...t.source, nameServer: '127.0.0.1' } }), 'source.nameServer'],
      ['bad host:port', (t) => ({ ...t, target: { ...t.target, nameServer: '127.0.0.1:9876;bad host:70000' } }), 'target.nameServer'],
      [
        'invalid regex',
        (t) => ({ ...t, filter: { ...t.filter, topics: { include: ['orders-('], exclude: [] } } }),
        'filter.topics.include.0',
      ],
      [
        'catastrophic regex',
        (t) => ({ ...t, filter: { ...t.filter, topics: { include: ['.*'], exclude: ['(a+)+$'] } } }),
        'filter.topics.exclude.0',
      ],
      [
        'invalid SQL92',
        (t) => ({ ...t, filter: { ...t.filter, expression: { type: 'SQL92', value: 'a > AND b' } } }),
        'filter.expression.value',
      ],
      [
        'missing AK with ACL on',
        (t) => ({ ...t, source: { ...t.source, acl: { enabled: true, secretKey: 'x' } } }),
        'source.acl.accessKey',
      ],
      [
        'missing SK with ACL on',
        (t) => ({ ...t, source: { ...t.source, acl: { enabled: true, accessKey: 'x' } } }),
        'source.acl.secretKey',
      ],
      ['tencent side without region', (t) => ({ ...t, target: { clusterType: 'tencent', clusterId: 'rocketmq-abc' } }), 'target.region'],
      ['unknown direction', (t) => ({ ...t, direction: 'sideways' }), 'direction'],
      ['vpc without vpc fields', (t) => ({ ...t, source: { ...t.source, networkType: 'vpc', resourceType: 'tencent' } }), 'source.vpc'],
      [
        'other cloud without dedicated line',
        (t) => ({
          ...t,
          source: {
            ...t.source,
            networkType: 'vpc',
            resourceType: 'other-cloud',
            vpc: { region: 'ap-guangzhou', vpcId: 'vpc-1', subnetId: 'subnet-1' },
          },
        }),
        'source.dedicatedLine',
      ],
      ['timestamp start without timestamp', (t) => ({ ...t, startOffset: { type: 'timestamp' } }), 'startOffset.timestamp'],
      ['tps limit zero', (t) => ({ ...t, tpsLimit: 0 }), 'tpsLimit'],
      ['unknown field', (t) => ({ ...t, colour: 'blue' }), ''],
    ];
    for (const [label, mutate, field] of table) {
      it(`rejects ${label} with 400 naming ${field || 'the field'}`, async () => {
        const r = await call('POST', '/v1/tasks', mutate(validTask()));
        assert.equal(r.status, 400, r.text);
        assert.equal(r.body.error.code, 'VALIDATION_FAILED');
        if (field) assert.equal(r.body.error.field, field, r.text);
        else assert.match(r.body.error.message, /colour/);
      });
    }

    it('answers 5,000 random and mangled bodies without a single 5xx', async () => {
      const base = validTask();
      const mangled = fc.record({
        path: fc.constantFrom(
          'name',
          'direction',
          'source',
          'target',
          'source.nameServer',
          'source.acl',
          'filter',
          'filter.expression.value',
          'filter.topics.include',
          'startOffset',
          'tpsLimit',
          'idempotentResume',
          'target.clusterType',
        ),
        value: fc.anything({ maxDepth: 2 }),
      });
      const body = fc.oneof(
        fc.anything({ maxDepth: 3 }),
        mangled.map(({ path, value }) => {
          const copy = structuredClone(base) as Record<string, unknown>;
          const keys = path.split('.');
          let cur = copy;
          for (const k of keys.slice(0, -1)) cur = (cur[k] ?? {}) as Record<string, unknown>;
          cur[keys.at(-1)!] = value;
          return copy;
        }),
        fc.string().map((s) => ({ ...base, filter: { ...base.filter, expression: { type: 'SQL92', value: s } } })),
        fc.string().map((s) => ({ ...base, source: { ...base.source, nameServer: s } })),
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(body, async (b) => {
          n++;
          const text = JSON.stringify(b) ?? 'null';
          const r = await api('POST', '/v1/tasks', undefined, text);
          return r.status < 500;
        }),
        { numRuns: 5000 },
      );
      assert.equal(n, 5000);
    });

    it('enforces auth: no token 401, reader 403 on writes, other tenant 404', async () => {
      const t = (await call('POST', '/v1/tasks', validTask({ name: 'tenant-a-task', start: false }))).body;
      const anon = client(rt, null);
      assert.equal((await anon('GET', '/v1/tasks')).status, 401);
      assert.equal((await client(rt, 'not-a-real-token-at-all')('GET', '/v1/tasks')).status, 401);
      assert.equal((await anon('GET', '/v1/health')).status, 200);
      const reader = client(rt, rt.readerToken);
      assert.equal((await reader('GET', `/v1/tasks/${t.id}`)).status, 200);
      for (const [m, p] of [
        ['POST', '/v1/tasks'],
        ['POST', `/v1/tasks/${t.id}/start`],
        ['DELETE', `/v1/tasks/${t.id}`],
        ['PATCH', `/v1/tasks/${t.id}`],
      ] as const) {
        const r = await reader(m, p, validTask());
        assert.equal(r.status, 403, `${m} ${p}`);
        assert.equal(r.body.error.code, 'FORBIDDEN');
      }
      const other = client(rt, rt.otherTenantToken);
      assert.equal((await other('GET', `/v1/tasks/${t.id}`)).status, 404);
      assert.equal((await other('DELETE', `/v1/tasks/${t.id}`)).status, 404);
      assert.ok(!(await other('GET', '/v1/tasks')).body.items.some((x: { id: string }) => x.id === t.id));
      // Tokens minted through the API belong to the caller's tenant and can be revoked.
      const minted = await call('POST', '/v1/tokens', { role: 'reader', label: 'dashboards' });
      assert.equal(minted.status, 201);
      assert.equal((await client(rt, minted.body.token)('GET', `/v1/tasks/${t.id}`)).status, 200);
      assert.equal((await call('POST', '/v1/tokens/revoke', { token: minted.body.token })).status, 204);
      assert.equal((await client(rt, minted.body.token)('GET', `/v1/tasks/${t.id}`)).status, 401);
    });

    it('serves an OpenAPI document generated from the schemas', async () => {
      const r = await call('GET', '/v1/openapi.json');
      assert.equal(r.status, 200);
      assert.equal(r.body.openapi, '3.1.0');
      assert.ok(r.body.paths['/v1/tasks'].post);
      assert.ok(r.body.components.schemas.TaskInput.properties.name);
    });

    it('never shows the secret key in responses, audit events or logs', async () => {
      const t = (await call('POST', '/v1/tasks', validTask({ name: 'secret-check' }))).body;
      await call('GET', `/v1/tasks/${t.id}/events`);
      await call('GET', '/v1/tasks');
      const logs = rt.output();
      assert.ok(logs.length > 0, 'logs were captured');
      for (const text of [...responses, logs]) {
        assert.ok(!text.includes(SECRET), 'secret key leaked');
        assert.ok(!text.includes(ACCESS), 'full access key leaked');
      }
    });
  });
}

describe('deployment policy requireManagedSide', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startRuntime({ store: 'embedded', env: { FERRY_REQUIRE_MANAGED_SIDE: 'true', FERRY_RECONCILE_INTERVAL_MS: '86400000' } });
  });
  after(async () => {
    await rt.stop();
  });

  it('refuses two self-built sides and accepts a Tencent side', async () => {
    const api = client(rt);
    const refused = await api('POST', '/v1/tasks', validTask());
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.field, 'target.clusterType');
    const ok = await api(
      'POST',
      '/v1/tasks',
      validTask({ target: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'rocketmq-xyz' } }),
    );
    assert.equal(ok.status, 201, ok.text);
  });
});

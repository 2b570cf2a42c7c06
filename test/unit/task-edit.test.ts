// The task service's editing rules (PATCH /v1/tasks/{id}) and unique names, on an embedded store:
// what may change and when, secrets kept or replaced, checkpoints kept, idempotent no-ops, audit.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { endpointCredentials } from '../../shared/clusters/credentials.ts';
import { isFerryError, type FerryErrorCode } from '../../shared/errors.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { mergePatch } from '../../shared/tasks/edit.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const admin: Principal = { tenant: 'edit', role: 'admin', subject: 'alice' };
const otherTenant: Principal = { tenant: 'edit-other', role: 'admin', subject: 'bob' };
const cipher = aesGcmCipher(randomBytes(32));

const body = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  direction: 'one-way',
  source: {
    clusterType: 'self-built',
    clusterId: 'c-a',
    nameServer: '127.0.0.1:9876',
    networkType: 'public',
    acl: { enabled: true, accessKey: 'ak-source-1', secretKey: 'sk-source-1' },
  },
  target: { clusterType: 'self-built', clusterId: 'c-b', nameServer: '127.0.0.1:9877', networkType: 'public' },
  filter: { topics: { include: ['orders-.*'], exclude: [] }, expression: { type: 'TAG', value: 'a || b' } },
  tpsLimit: 100,
  start: false,
  ...over,
});

let db: Throwaway<string>;
let store: Store;
let tasks: TaskService;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  tasks = new TaskService(store, cipher, { requireManagedSide: false });
});
after(async () => {
  await store?.close();
  await db?.drop();
});

const refused = async (p: Promise<unknown>, code: FerryErrorCode, field?: string, message?: RegExp) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFerryError(err, code), `expected ${code}, got ${String(err)}`);
    assert.equal(err.field, field, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
};

const sourceKeys = async (id: string) => endpointCredentials((await tasks.row(admin, id)).spec.source, cipher);

describe('task names', () => {
  it('are unique per tenant: create and rename refuse a taken name with CONFLICT naming the field', async () => {
    const first = await tasks.create(admin, body('orders'));
    const second = await tasks.create(admin, body('payments'));
    await refused(tasks.create(admin, body('orders')), 'CONFLICT', 'name', /a task named "orders" already exists/);
    await refused(tasks.update(admin, second.id, { name: 'orders' }), 'CONFLICT', 'name');
    assert.equal((await tasks.get(admin, second.id)).name, 'payments', 'the refused rename changed nothing');
    // Another tenant has its own names; names differing in case are different names.
    assert.equal((await tasks.create(otherTenant, body('orders'))).name, 'orders');
    assert.equal((await tasks.create(admin, body('Orders'))).name, 'Orders');
    // A name freed by a rename or a delete can be taken again.
    await tasks.update(admin, first.id, { name: 'orders-old' });
    assert.equal((await tasks.update(admin, second.id, { name: 'orders' })).name, 'orders');
    await tasks.remove(admin, second.id);
    assert.equal((await tasks.create(admin, body('orders'))).name, 'orders');
  });
});

describe('editing a task', () => {
  it('changes endpoints, filter, tpsLimit and shards of a stopped task; the rest stays as stored', async () => {
    const t = await tasks.create(admin, body('edit-fields'));
    await store.setCheckpoints(t.id, 'forward', [{ topic: 'orders-1', broker: 'broker-a', queueId: 0, nextOffset: 42 }]);
    const checkpoints = await store.getCheckpoints(t.id, 'forward');
    const sealedTarget = (await tasks.row(admin, t.id)).spec.target;

    const edited = await tasks.update(admin, t.id, {
      version: t.version,
      source: { nameServer: '127.0.0.2:9876;127.0.0.3:9876' },
      filter: { topics: { include: ['orders-eu-.*'] } },
      tpsLimit: null,
      shards: 8,
    });
    assert.equal(edited.version, t.version + 1);
    assert.equal(edited.source.clusterType === 'self-built' && edited.source.nameServer, '127.0.0.2:9876;127.0.0.3:9876');
    assert.deepEqual(edited.filter, { topics: { include: ['orders-eu-.*'], exclude: [] }, expression: { type: 'TAG', value: 'a || b' } });
    assert.equal(edited.tpsLimit, null, 'null lifts the limit');
    assert.equal(edited.shards, 8);
    assert.equal(edited.status, 'stopped');
    assert.deepEqual(await sourceKeys(t.id), { accessKey: 'ak-source-1', secretKey: 'sk-source-1' }, 'no secret given: kept');
    const row = await tasks.row(admin, t.id);
    assert.deepEqual(row.spec.target, sealedTarget, 'an untouched side is kept exactly as stored');
    assert.deepEqual(await store.getCheckpoints(t.id, 'forward'), checkpoints, 'checkpoints are kept');
  });

  it('changes groups, metadataSync and offsetSync of a stopped task, field by field; defaults until then', async () => {
    const t = await tasks.create(admin, body('edit-options'));
    assert.deepEqual(t.groups, { include: ['.*'], exclude: [] });
    assert.deepEqual(t.metadataSync, {
      kinds: ['topic', 'group', 'acl'],
      propagateDeletes: true,
      topicsFollowFilter: false,
      copyRoleSecrets: false,
    });
    assert.deepEqual(t.offsetSync, { enabled: true, nothingLeftBehind: true });
    const edited = await tasks.update(admin, t.id, {
      groups: { exclude: ['^tmp-.*'] },
      metadataSync: { kinds: ['topic'], propagateDeletes: false, copyRoleSecrets: true },
      offsetSync: { enabled: false },
    });
    assert.deepEqual(edited.groups, { include: ['.*'], exclude: ['^tmp-.*'] });
    assert.deepEqual(edited.metadataSync, { kinds: ['topic'], propagateDeletes: false, topicsFollowFilter: false, copyRoleSecrets: true });
    assert.deepEqual(edited.offsetSync, { enabled: false, nothingLeftBehind: true }, 'a merge patch: the other field kept');
    const spec = (await tasks.row(admin, t.id)).spec;
    assert.deepEqual([spec.groups, spec.metadataSync, spec.offsetSync], [edited.groups, edited.metadataSync, edited.offsetSync]);
    await refused(tasks.update(admin, t.id, { metadataSync: { kinds: ['topics'] } }), 'VALIDATION_FAILED', 'metadataSync.kinds.0');
    await refused(tasks.update(admin, t.id, { groups: { include: ['('] } }), 'VALIDATION_FAILED', 'groups.include.0');
  });

  it('keeps an omitted secret, replaces a given one, turns ACL off and on', async () => {
    const t = await tasks.create(admin, body('edit-secrets'));
    await tasks.update(admin, t.id, { source: { acl: { accessKey: 'ak-source-2' } } });
    assert.deepEqual(await sourceKeys(t.id), { accessKey: 'ak-source-2', secretKey: 'sk-source-1' });
    await tasks.update(admin, t.id, { source: { acl: { enabled: true, accessKey: 'ak-source-2', secretKey: 'sk-source-2' } } });
    assert.deepEqual(await sourceKeys(t.id), { accessKey: 'ak-source-2', secretKey: 'sk-source-2' });
    const off = await tasks.update(admin, t.id, { source: { acl: { enabled: false } } });
    assert.deepEqual(off.source.acl, { enabled: false });
    assert.equal(await sourceKeys(t.id), undefined);
    // Turned on again, the keys must be given: there is nothing stored to keep.
    await refused(
      tasks.update(admin, t.id, { source: { acl: { enabled: true, accessKey: 'ak-source-3' } } }),
      'VALIDATION_FAILED',
      'source.acl.secretKey',
    );
    const on = await tasks.update(admin, t.id, { target: { acl: { enabled: true, accessKey: 'ak-target', secretKey: 'sk-target' } } });
    assert.deepEqual(on.target.acl, { enabled: true, accessKey: 'ak-t****', secretKeySet: true });
  });

  it('is allowed while start_failed; refused while running (TASK_RUNNING: stop it first) and while deleting', async () => {
    const t = await tasks.create(admin, body('edit-states'));
    const row = await tasks.row(admin, t.id);
    await store.updateTask(admin.tenant, t.id, row.version, { status: 'start_failed', statusReason: 'authentication failed' });
    const fixed = await tasks.update(admin, t.id, { source: { acl: { secretKey: 'the-right-one' } } });
    assert.equal(fixed.status, 'start_failed', 'editing does not start it');
    const running = await tasks.start(admin, t.id);
    await refused(tasks.update(admin, t.id, { tpsLimit: 5 }), 'TASK_RUNNING', 'status', /running task cannot be edited; stop it first/);
    await refused(tasks.update(admin, t.id, { name: 'renamed' }), 'TASK_RUNNING', 'status');
    // Nothing to change is no edit: the task is answered as it is, also while running.
    const same = await tasks.update(admin, t.id, { tpsLimit: 100, source: { nameServer: '127.0.0.1:9876' } });
    assert.equal(same.version, running.version);
    await store.updateTask(admin.tenant, t.id, running.version, { status: 'deleting', desiredState: 'stopped' });
    await refused(tasks.update(admin, t.id, { tpsLimit: 5 }), 'INVALID_STATE', 'status');
  });

  it('refuses to change what ties a task to its clusters and history (FIELD_IMMUTABLE), but takes their current value', async () => {
    const t = await tasks.create(admin, body('edit-immutable'));
    const cases: [Record<string, unknown>, string][] = [
      [{ direction: 'two-way' }, 'direction'],
      [{ source: { clusterId: 'c-elsewhere' } }, 'source.clusterId'],
      [{ target: { clusterType: 'tencent', region: 'ap-guangzhou' } }, 'target.clusterType'],
      [{ startOffset: { type: 'earliest' } }, 'startOffset'],
      [{ idempotentResume: false }, 'idempotentResume'],
      [{ source: { clusterId: null } }, 'source.clusterId'],
    ];
    for (const [patch, field] of cases) await refused(tasks.update(admin, t.id, patch), 'FIELD_IMMUTABLE', field);
    const tencent = await tasks.create(
      admin,
      body('edit-immutable-tencent', { target: { clusterType: 'tencent', region: 'ap-guangzhou', clusterId: 'rocketmq-1' } }),
    );
    await refused(tasks.update(admin, tencent.id, { target: { region: 'ap-shanghai' } }), 'FIELD_IMMUTABLE', 'target.region');
    // The whole definition sent back as it was created changes nothing.
    const { start: _create, ...definition } = body('edit-immutable');
    const same = await tasks.update(admin, t.id, { ...definition, startOffset: { type: 'latest' } });
    assert.equal(same.version, t.version);
  });

  it('checks the merged definition with the create rules, naming the field', async () => {
    const t = await tasks.create(admin, body('edit-rules'));
    const cases: [unknown, FerryErrorCode, string | undefined][] = [
      [{ source: { nameServer: '127.0.0.1' } }, 'VALIDATION_FAILED', 'source.nameServer'],
      [{ source: { nameServer: '127.0.0.1:9877' } }, 'VALIDATION_FAILED', 'target.nameServer'], // the target's cluster
      [{ filter: { topics: { exclude: ['(a+)+$'] } } }, 'VALIDATION_FAILED', 'filter.topics.exclude.0'],
      [{ filter: { expression: { type: 'SQL92', value: 'a >' } } }, 'VALIDATION_FAILED', 'filter.expression.value'],
      [{ source: { networkType: 'vpc' } }, 'VALIDATION_FAILED', 'source.vpc'],
      [{ source: { colour: 'blue' } }, 'VALIDATION_FAILED', 'source'],
      [{ shards: 0 }, 'VALIDATION_FAILED', 'shards'],
      [{ tpsLimit: 'fast' }, 'VALIDATION_FAILED', 'tpsLimit'],
      [{ source: 'elsewhere' }, 'VALIDATION_FAILED', 'source'],
      [{ start: true }, 'VALIDATION_FAILED', undefined],
      [{ version: 0 }, 'VALIDATION_FAILED', 'version'],
      [[], 'VALIDATION_FAILED', undefined],
    ];
    for (const [patch, code, field] of cases) {
      await refused(tasks.update(admin, t.id, patch), code, field).catch((err: Error) =>
        assert.fail(`${JSON.stringify(patch)}: ${err.message}`),
      );
    }
    assert.equal((await tasks.get(admin, t.id)).version, t.version, 'nothing was written');
    // A "__proto__" key is a plain key at most: it changes neither the task nor any object's prototype.
    const proto = await tasks.update(admin, t.id, JSON.parse('{"source": {"__proto__": {"nameServer": "127.0.0.9:1"}}}'));
    assert.deepEqual([proto.version, proto.source.clusterType === 'self-built' && proto.source.nameServer], [t.version, '127.0.0.1:9876']);
    assert.equal(({} as { nameServer?: string }).nameServer, undefined);
    await refused(tasks.update(admin, t.id, { tpsLimit: 5, version: t.version + 1 }), 'CONFLICT', 'version', /reload and retry/);
    await refused(tasks.update(admin, 'task-missing', { tpsLimit: 5 }), 'NOT_FOUND', undefined);
    await refused(tasks.update(otherTenant, t.id, { tpsLimit: 5 }), 'NOT_FOUND', undefined);
    await refused(tasks.update({ ...admin, role: 'reader' }, t.id, { tpsLimit: 5 }), 'FORBIDDEN', undefined);
  });

  it('writes nothing when nothing changes (a secret given again included); audits a change without its secrets', async () => {
    const t = await tasks.create(admin, body('edit-audit'));
    const again = await tasks.update(admin, t.id, { source: body('x').source, tpsLimit: 100, filter: body('x').filter });
    assert.equal(again.version, t.version);
    assert.equal(again.updatedAt, t.updatedAt);
    const edited = await tasks.update(admin, t.id, {
      source: { nameServer: '127.0.0.5:9876', acl: { secretKey: 'sk-rotated-secret' } },
      shards: 2,
    });
    const events = await tasks.events(admin, t.id);
    assert.deepEqual(
      events.map((e) => e.action),
      ['update', 'create'],
    );
    const [update] = events;
    assert.deepEqual((update!.after as { changedFields: string[] }).changedFields, ['shards', 'source.acl.secretKey', 'source.nameServer']);
    assert.equal((update!.before as { version: number }).version, t.version);
    assert.equal((update!.after as { version: number }).version, edited.version);
    const text = JSON.stringify(events);
    for (const secret of ['sk-rotated-secret', 'sk-source-1', 'ak-source-1']) assert.ok(!text.includes(secret), `${secret} leaked`);
    await tasks.update(admin, t.id, { name: 'edit-audit-2' });
    assert.equal((await tasks.events(admin, t.id))[0]!.action, 'rename', 'a name alone is a rename');
  });
});

describe('JSON merge patch (RFC 7396)', () => {
  it('merges objects, replaces arrays and scalars, removes with null', () => {
    // The examples of RFC 7396, appendix A (a selection).
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, result] of cases) assert.deepEqual(mergePatch(target, patch), result, JSON.stringify([target, patch]));
  });
});

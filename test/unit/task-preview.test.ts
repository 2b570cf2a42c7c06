// POST /v1/tasks/preview without clusters: the pure selection with its reasons (tasks/preview.ts),
// and the service around it on an embedded store with a fake cluster reader (a port stand-in, not a
// broker): validation naming fields, both sides of a two-way task, nothing stored, no secret echoed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { endpointCredentials } from '../../shared/clusters/credentials.ts';
import { isFerryError, type FerryErrorCode } from '../../shared/errors.ts';
import { RemotingConnectError } from '../../shared/rocketmq/remoting/errors.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import type { StoredEndpoint } from '../../shared/tasks/model.ts';
import { TaskPreviewInput, patternVerdict, previewFlow, type ClusterListing } from '../../shared/tasks/preview.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const listing: ClusterListing = {
  topics: [
    { name: 'orders', queues: 8, system: false },
    { name: 'orders-dlq', queues: 1, system: false },
    { name: 'audit', queues: 4, system: false },
    { name: 'TBW102', queues: 8, system: true },
  ],
  groups: [
    { name: 'app-orders', system: false },
    { name: 'app-tmp', system: false },
    { name: 'TOOLS_CONSUMER', system: true },
  ],
};

describe('preview selection', () => {
  it('says which pattern took a name, which left it out, or that no include matched', () => {
    const v = patternVerdict({ include: ['orders.*', 'audit'], exclude: ['.*-dlq'] });
    assert.deepEqual(v('orders'), { selected: true, reason: 'included by pattern "orders.*"' });
    assert.deepEqual(v('orders-dlq'), { selected: false, reason: 'excluded by pattern ".*-dlq"' });
    assert.deepEqual(v('audit'), { selected: true, reason: 'included by pattern "audit"' });
    assert.deepEqual(v('audit-2'), { selected: false, reason: 'not matched by any include pattern' }, 'whole names only');
  });

  it('lists every topic and group sorted by name, system ones never selected whatever the patterns', () => {
    const f = previewFlow('a->b', listing, {
      topics: { include: ['.*'], exclude: ['.*-dlq'] },
      groups: { include: ['app-.*'], exclude: ['app-tmp'] },
    });
    assert.equal(f.flow, 'a->b');
    assert.deepEqual(
      f.topics.map((t) => [t.name, t.queues, t.selected, t.reason]),
      [
        ['TBW102', 8, false, 'system topic (never replicated)'],
        ['audit', 4, true, 'included by pattern ".*"'],
        ['orders', 8, true, 'included by pattern ".*"'],
        ['orders-dlq', 1, false, 'excluded by pattern ".*-dlq"'],
      ],
    );
    assert.deepEqual(
      f.groups.map((g) => [g.name, g.selected, g.reason]),
      [
        ['TOOLS_CONSUMER', false, 'system group (never synced)'],
        ['app-orders', true, 'included by pattern "app-.*"'],
        ['app-tmp', false, 'excluded by pattern "app-tmp"'],
      ],
    );
    assert.equal(f.groupsError, undefined);
    assert.equal(
      previewFlow(
        'x',
        { topics: [], groups: [], groupsError: 'refused' },
        { topics: { include: ['.*'], exclude: [] }, groups: { include: ['.*'], exclude: [] } },
      ).groupsError,
      'refused',
    );
  });

  it('takes a task body without a name, with the same rules otherwise (unknown fields refused)', () => {
    const base = {
      direction: 'one-way',
      source: { clusterType: 'self-built', clusterId: 'a', nameServer: '127.0.0.1:9876', networkType: 'public' },
      target: { clusterType: 'self-built', clusterId: 'b', nameServer: '127.0.0.1:9877', networkType: 'public' },
    };
    assert.ok(TaskPreviewInput.safeParse(base).success);
    assert.ok(TaskPreviewInput.safeParse({ ...base, name: 'orders-dr' }).success);
    assert.ok(!TaskPreviewInput.safeParse({ ...base, name: 'bad name!' }).success);
    assert.ok(!TaskPreviewInput.safeParse({ ...base, surprise: 1 }).success, 'still strict');
  });
});

const admin: Principal = { tenant: 'preview', role: 'admin', subject: 'alice' };
const reader: Principal = { tenant: 'preview', role: 'reader', subject: 'rita' };
const cipher = aesGcmCipher(randomBytes(32));

const body = (over: Record<string, unknown> = {}) => ({
  direction: 'one-way',
  source: {
    clusterType: 'self-built',
    clusterId: 'c-a',
    nameServer: '127.0.0.1:9876',
    networkType: 'public',
    acl: { enabled: true, accessKey: 'ak-preview-1', secretKey: 'sk-preview-secret-1' },
  },
  target: { clusterType: 'self-built', clusterId: 'c-b', nameServer: '127.0.0.1:9877', networkType: 'public' },
  filter: { topics: { include: ['orders.*'], exclude: ['.*-dlq'] } },
  groups: { include: ['app-.*'], exclude: [] },
  ...over,
});

let db: Throwaway<string>;
let store: Store;
/** The endpoints the fake reader was asked for, with the credentials it could unseal. */
const asked: { clusterId: string; accessKey?: string | undefined; secretKey?: string | undefined }[] = [];
let failOn: string | undefined;
let tasks: TaskService;

before(async () => {
  db = await throwawayDataDir();
  store = await openStore({ dataDir: db.value });
  // A fake of the cluster-reading port: answers a fixed listing per cluster, or fails like an unreachable one.
  const fakeReader = async (e: StoredEndpoint) => {
    const c = endpointCredentials(e, cipher);
    asked.push({ clusterId: e.clusterId, accessKey: c?.accessKey, secretKey: c?.secretKey });
    if (e.clusterId === failOn) throw new RemotingConnectError('127.0.0.1:9', 'connect ECONNREFUSED 127.0.0.1:9');
    return e.clusterId === 'c-a' ? listing : { topics: [{ name: 'on-b', queues: 2, system: false }], groups: [] };
  };
  tasks = new TaskService(store, cipher, { requireManagedSide: false, readCluster: fakeReader });
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

describe('TaskService.preview', () => {
  it('one-way: reads the source only, with the body credentials, stores nothing and echoes no secret', async () => {
    asked.length = 0;
    const p = await tasks.preview(admin, body());
    assert.deepEqual(asked, [{ clusterId: 'c-a', accessKey: 'ak-preview-1', secretKey: 'sk-preview-secret-1' }]);
    assert.equal(p.flows.length, 1);
    assert.equal(p.flows[0]!.flow, 'c-a->c-b');
    assert.deepEqual(
      p.flows[0]!.topics.filter((t) => t.selected).map((t) => t.name),
      ['orders'],
    );
    assert.deepEqual(
      p.flows[0]!.groups.filter((g) => g.selected).map((g) => g.name),
      ['app-orders', 'app-tmp'],
    );
    const text = JSON.stringify(p);
    assert.ok(!text.includes('sk-preview-secret-1') && !text.includes('ak-preview-1'));
    assert.equal((await store.listTasks(admin.tenant, { limit: 10 })).items.length, 0, 'no task was created');
  });

  it('two-way: both sides are read, one flow each', async () => {
    asked.length = 0;
    const p = await tasks.preview(admin, body({ direction: 'two-way', name: 'named-is-fine' }));
    assert.deepEqual(asked.map((a) => a.clusterId).sort(), ['c-a', 'c-b']);
    assert.deepEqual(
      p.flows.map((f) => [f.flow, f.topics.map((t) => `${t.name}:${t.selected}`)]),
      [
        ['c-a->c-b', ['TBW102:false', 'audit:false', 'orders:true', 'orders-dlq:false']],
        ['c-b->c-a', ['on-b:false']],
      ],
    );
  });

  it('refuses what create refuses, naming the field', async () => {
    await refused(tasks.preview(admin, body({ filter: { topics: { include: ['(a'] } } })), 'VALIDATION_FAILED', 'filter.topics.include.0');
    await refused(tasks.preview(admin, body({ groups: { include: ['ok'], exclude: ['[x'] } })), 'VALIDATION_FAILED', 'groups.exclude.0');
    await refused(tasks.preview(admin, body({ source: { clusterType: 'self-built' } })), 'VALIDATION_FAILED', 'source.clusterId');
    const same = body();
    await refused(
      tasks.preview(admin, { ...same, target: { ...(same.target as object), nameServer: '127.0.0.1:9876' } }),
      'VALIDATION_FAILED',
      'target.nameServer',
    );
    await refused(tasks.preview(admin, [1]), 'VALIDATION_FAILED', undefined, /body must be a JSON object/);
    await refused(tasks.preview(reader, body()), 'FORBIDDEN');
  });

  it('a cluster that cannot be read is answered as a problem with the field naming it', async () => {
    failOn = 'c-b';
    try {
      await refused(
        tasks.preview(admin, body({ direction: 'two-way' })),
        'VALIDATION_FAILED',
        'target.nameServer',
        /the target cluster c-b could not be read: connect ECONNREFUSED/,
      );
    } finally {
      failOn = undefined;
    }
  });
});

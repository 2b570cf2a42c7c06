// What a task may ask of a gRPC endpoint (grpc-capabilities.ts), through the task service on an
// embedded store: what gRPC cannot honour is refused naming the field, defaults it cannot serve are
// turned off (and shown so), a reset of a gRPC source is refused. Also how gRPC send failures map to
// the delivery's retry decisions.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { isFerryError } from '../../shared/errors.ts';
import { classifyGrpcSendFailure } from '../../shared/replication/grpc-delivery.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const admin: Principal = { tenant: 'grpc', role: 'admin', subject: 'alice' };
const cipher = aesGcmCipher(randomBytes(32));
const remoting = { clusterType: 'self-built', clusterId: 'c-a', nameServer: '127.0.0.1:9876', networkType: 'public' };
const grpc = { clusterType: 'self-built', clusterId: 'c-b', protocol: 'grpc', nameServer: '127.0.0.1:8081', networkType: 'public' };

let n = 0;
const body = (over: Record<string, unknown> = {}) => ({
  name: `grpc-${n++}`,
  direction: 'one-way',
  source: remoting,
  target: grpc,
  filter: { topics: { include: ['orders'], exclude: [] } },
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

const refused = async (p: Promise<unknown>, field: string, message: RegExp) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFerryError(err, 'VALIDATION_FAILED'), `expected VALIDATION_FAILED, got ${String(err)}`);
    assert.equal(err.field, field, err.message);
    assert.match(err.message, message);
    return true;
  });
};

describe('gRPC capabilities of a task', () => {
  it('a gRPC target: idempotent resume, offset and metadata sync left at their defaults are off', async () => {
    const t = await tasks.create(admin, body());
    assert.equal(t.idempotentResume, false);
    assert.equal(t.offsetSync.enabled, false);
    assert.deepEqual(t.metadataSync.kinds, []);
  });

  it('asked for explicitly, what a gRPC target cannot do is refused naming the field', async () => {
    await refused(tasks.create(admin, body({ idempotentResume: true })), 'idempotentResume', /gRPC target.*at-least-once/);
    await refused(tasks.create(admin, body({ offsetSync: { enabled: true } })), 'offsetSync.enabled', /admin \(remoting\) channel/);
    await refused(tasks.create(admin, body({ metadataSync: { kinds: ['topic'] } })), 'metadataSync.kinds', /admin \(remoting\) channel/);
  });

  it('a gRPC source: start offsets other than latest and topic patterns are refused', async () => {
    const source = { ...grpc, clusterId: 'c-g' };
    await refused(
      tasks.create(admin, body({ source, target: remoting, startOffset: { type: 'earliest' } })),
      'startOffset',
      /cannot be honoured/,
    );
    await refused(
      tasks.create(admin, body({ source, target: remoting, startOffset: { type: 'timestamp', timestamp: 1_700_000_000_000 } })),
      'startOffset',
      /cannot be honoured/,
    );
    await refused(
      tasks.create(admin, body({ source, target: remoting, filter: { topics: { include: ['orders', 'pay-.*'], exclude: [] } } })),
      'filter.topics.include.1',
      /pattern/,
    );
    const ok = await tasks.create(admin, body({ source, target: remoting }));
    assert.equal(ok.startOffset.type, 'latest');
    // A remoting target still reads its tail back: idempotent resume stays on.
    assert.equal(ok.idempotentResume, true);
  });

  it('two-way with one gRPC side reads from it too: its rules apply to the reverse flow', async () => {
    await refused(tasks.create(admin, body({ direction: 'two-way', startOffset: { type: 'earliest' } })), 'startOffset', /gRPC source/);
  });

  it('reset-offset of a task reading a gRPC source is refused', async () => {
    const t = await tasks.create(admin, body({ source: { ...grpc, clusterId: 'c-r' }, target: remoting }));
    await refused(tasks.resetOffset(admin, t.id, { timestamp: Date.now() - 60_000 }), 'timestamp', /cannot replay/);
    // A remoting source with a gRPC target can replay: its offsets are read over remoting.
    const r = await tasks.create(admin, body());
    const reset = await tasks.resetOffset(admin, r.id, { timestamp: Date.now() - 60_000 });
    assert.equal(reset.id, r.id);
  });

  it('an edit onto a gRPC side must turn off what it cannot serve', async () => {
    const t = await tasks.create(admin, body({ target: { ...remoting, clusterId: 'c-e', nameServer: '127.0.0.1:9877' } }));
    await refused(tasks.update(admin, t.id, { target: { protocol: 'grpc' } }), 'idempotentResume', /gRPC target/);
  });
});

describe('gRPC send failures', () => {
  const err = (code: number) => Object.assign(new Error(`code ${code}`), { code });
  it('map to the delivery decisions', () => {
    assert.equal(classifyGrpcSendFailure(err(4)), 'unknown-outcome', 'deadline exceeded: may be stored');
    assert.equal(classifyGrpcSendFailure(err(14)), 'outage', 'unavailable');
    assert.equal(classifyGrpcSendFailure(err(42900)), 'busy');
    assert.equal(classifyGrpcSendFailure(err(40402)), 'missing-topic');
    assert.equal(classifyGrpcSendFailure(err(40007)), 'refused', 'illegal property key: the same every time');
    assert.equal(classifyGrpcSendFailure(err(41301)), 'refused', 'body too large');
    assert.equal(classifyGrpcSendFailure(err(50001)), 'unknown-outcome', 'internal error');
    assert.equal(classifyGrpcSendFailure(err(40100)), 'message', 'unauthorized: retried, then parked');
    assert.equal(classifyGrpcSendFailure(new Error('no code')), 'message');
  });
});

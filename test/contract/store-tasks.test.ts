// Store contract, TaskStore: task rows, pagination, optimistic updates, the delete cascade, and
// the spec decoded as it leaves the store, unique names per tenant (and the migration that brought
// them) — on both adapters (store-contract.ts).
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFerryError } from '../../shared/errors.ts';
import { openDatabase } from '../../shared/store/index.ts';
import { MIGRATIONS_DIR, migrate } from '../../shared/store/migrate.ts';
import { sqlStore } from '../../shared/store/sql/store.ts';
import type { SqlParam } from '../../shared/store/executor.ts';
import type { Store, TaskRow } from '../../shared/store/store.ts';
import type { TaskSpec } from '../../shared/tasks/model.ts';
import { plainTaskSpec } from '../support/task-spec.ts';
import { MINUTE, newTask, rejectsWith, storeContract, uid } from './store-contract.ts';

storeContract('TaskStore', (db) => {
  let store: Store;
  let other: Store;
  before(() => {
    ({ store, other } = db);
  });

  describe('tasks', () => {
    it('inserts and gets a task, scoped to its tenant', async () => {
      const input = newTask('t-get', { statusReason: 'never started' });
      const inserted = await store.insertTask(input);
      assert.equal(inserted.version, 1);
      assert.equal(inserted.startOffsetsCaptured, false);
      assert.ok(inserted.createdAt instanceof Date);

      const got = await store.getTask('t-get', input.id);
      assert.ok(got);
      assert.deepEqual(
        {
          id: got.id,
          tenant: got.tenant,
          name: got.name,
          spec: got.spec,
          desiredState: got.desiredState,
          status: got.status,
          statusReason: got.statusReason,
          version: got.version,
        },
        {
          id: input.id,
          tenant: 't-get',
          name: input.name,
          spec: input.spec,
          desiredState: 'stopped',
          status: 'stopped',
          statusReason: 'never started',
          version: 1,
        },
      );
      assert.deepEqual(got, inserted);
      assert.equal(await store.getTask('someone-else', input.id), null, 'other tenants do not see it');
      assert.equal(await store.getTask('t-get', 'no-such-task'), null);
    });

    it('paginates newest first by (createdAt, id) without repeats or gaps, ties included', async () => {
      const tenant = uid('tenant');
      const tie = new Date('2024-01-01T00:00:00.000Z');
      const explicit = [
        newTask(tenant, { id: 'b-tie', createdAt: tie }),
        newTask(tenant, { id: 'a-tie', createdAt: tie }),
        newTask(tenant, { id: 'c-tie', createdAt: tie }),
        newTask(tenant, { id: 'old', createdAt: new Date('2023-06-01T00:00:00.000Z') }),
      ];
      for (const t of explicit) await store.insertTask(t);
      // Database-clock timestamps carry microseconds; the cursor must not round them to ms.
      const recent: string[] = [];
      for (let i = 0; i < 5; i++) recent.push((await store.insertTask(newTask(tenant))).id);
      await store.insertTask(newTask('another-tenant'));

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listTasks(tenant, { limit: 2, ...(cursor ? { cursor } : {}) });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);

      // PGlite's clock ticks in whole milliseconds, so quick inserts can share a createdAt: the
      // expected order is the one-shot listing (same ORDER BY), checked against the rules below.
      const exact = await store.listTasks(tenant, { limit: 9 });
      assert.equal(exact.items.length, 9);
      assert.equal(exact.nextCursor, null, 'no phantom next page when the page is exactly full');
      assert.deepEqual(
        seen,
        exact.items.map((t) => t.id),
        'pages concatenate to the full listing',
      );
      assert.deepEqual([...seen].sort(), [...recent, ...explicit.map((t) => t.id)].sort(), 'no repeats, no gaps');
      assert.deepEqual(seen.slice(5), ['c-tie', 'b-tie', 'a-tie', 'old'], 'oldest last; equal createdAt falls back to id');
      for (let i = 1; i < exact.items.length; i++) {
        const [prev, cur] = [exact.items[i - 1]!, exact.items[i]!];
        assert.ok(prev.createdAt >= cur.createdAt, 'newest first');
      }
      assert.equal(pages, 5, '9 tasks at 2 per page, the last page says there is no next one');
    });

    it('filters by status and by case-insensitive literal name substring', async () => {
      const tenant = uid('tenant');
      await store.insertTask(newTask(tenant, { id: 'r1', name: 'Orders_EU', status: 'running', desiredState: 'running' }));
      await store.insertTask(newTask(tenant, { id: 's1', name: 'ordersXeu' }));
      await store.insertTask(newTask(tenant, { id: 's2', name: '订单-同步' }));

      const ids = async (q: { status?: TaskRow['status']; name?: string }) =>
        (await store.listTasks(tenant, { limit: 10, ...q })).items.map((t) => t.id).sort();

      assert.deepEqual(await ids({ status: 'running' }), ['r1']);
      assert.deepEqual(await ids({ status: 'stopped' }), ['s1', 's2']);
      assert.deepEqual(await ids({ name: 'ORDERS' }), ['r1', 's1']);
      assert.deepEqual(await ids({ name: 's_e' }), ['r1'], '_ is a literal, not a wildcard');
      assert.deepEqual(await ids({ name: '%' }), []);
      assert.deepEqual(await ids({ name: '同步' }), ['s2']);
      assert.deepEqual(await ids({ name: 'orders', status: 'stopped' }), ['s1']);
    });

    it('rejects a cursor it did not issue and an out-of-range limit', async () => {
      await rejectsWith(store.listTasks('x', { limit: 10, cursor: 'not-a-cursor' }), 'VALIDATION_FAILED');
      await rejectsWith(store.listTasks('x', { limit: 0 }), 'VALIDATION_FAILED');
      await rejectsWith(store.listTasks('x', { limit: 1001 }), 'VALIDATION_FAILED');
    });

    it("lists every tenant's tasks for the reconciler", async () => {
      const a = await store.insertTask(newTask(uid('tenant-a'), { id: uid('z'), createdAt: new Date('2020-01-01T00:00:00Z') }));
      const b = await store.insertTask(newTask(uid('tenant-b'), { id: uid('a'), createdAt: new Date('2020-01-02T00:00:00Z') }));
      const all = (await store.listAllTasks()).map((t) => t.id);
      assert.ok(all.includes(a.id) && all.includes(b.id));
      assert.ok(all.indexOf(a.id) < all.indexOf(b.id), 'oldest first');
    });

    it('updates with optimistic concurrency: bumps version, rejects a stale version', async () => {
      const t = await store.insertTask(newTask('t-upd', { statusReason: 'connectivity check failed' }));
      const v2 = await store.updateTask('t-upd', t.id, 1, {
        name: 'renamed',
        status: 'initializing',
        desiredState: 'running',
        statusReason: null,
        startOffsetsCaptured: true,
      });
      assert.equal(v2.version, 2);
      assert.equal(v2.name, 'renamed');
      assert.equal(v2.status, 'initializing');
      assert.equal(v2.desiredState, 'running');
      assert.equal(v2.statusReason, null, 'null clears the reason');
      assert.equal(v2.startOffsetsCaptured, true);
      assert.deepEqual(v2.spec, t.spec, 'fields not in the patch are kept');
      assert.ok(v2.updatedAt.getTime() >= t.updatedAt.getTime());
      assert.deepEqual(v2.createdAt, t.createdAt);

      const replaced = plainTaskSpec({ direction: 'two-way', shards: 4 });
      const v3 = await store.updateTask('t-upd', t.id, 2, { spec: replaced });
      assert.equal(v3.version, 3);
      assert.deepEqual(v3.spec, replaced);

      await rejectsWith(store.updateTask('t-upd', t.id, 2, { name: 'late writer' }), 'CONFLICT');
      await rejectsWith(store.updateTask('t-upd', 'missing', 1, { name: 'x' }), 'NOT_FOUND');
      await rejectsWith(store.updateTask('other-tenant', t.id, 3, { name: 'x' }), 'NOT_FOUND');
      assert.equal((await store.getTask('t-upd', t.id))?.name, 'renamed', 'rejected updates changed nothing');

      // Two writers with the same version: exactly one wins.
      const results = await Promise.allSettled([
        store.updateTask('t-upd', t.id, 3, { name: 'writer-1' }),
        other.updateTask('t-upd', t.id, 3, { name: 'writer-2' }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const loser = results.find((r) => r.status === 'rejected');
      assert.ok(loser && isFerryError(loser.reason, 'CONFLICT'));
      assert.equal((await store.getTask('t-upd', t.id))?.version, 4);
    });

    it("stores a running task's health record in its spec without bumping version or updatedAt; not for other statuses", async () => {
      const t = await store.insertTask(newTask('t-health', { status: 'running', desiredState: 'running' }));
      const record = { state: 'degraded' as const, reason: 'cluster B is unreachable', since: 1_700_000_000_000 };
      assert.equal(await store.setTaskHealth(t.id, record), true);
      const got = (await store.getTask('t-health', t.id))!;
      assert.deepEqual(got.spec, { ...t.spec, health: record }, 'the rest of the spec is kept');
      assert.equal(got.version, t.version);
      assert.deepEqual(got.updatedAt, t.updatedAt);
      const next = { state: 'ok' as const, reason: null, since: 1_700_000_001_000 };
      assert.equal(await other.setTaskHealth(t.id, next), true);
      assert.deepEqual((await store.getTask('t-health', t.id))!.spec.health, next, 'replaced whole');

      const stopped = await store.insertTask(newTask('t-health'));
      assert.equal(await store.setTaskHealth(stopped.id, record), false, 'a task that is not running keeps no health');
      assert.equal((await store.getTask('t-health', stopped.id))!.spec.health, undefined);
      assert.equal(await store.setTaskHealth('no-such-task', record), false);
    });

    it('keeps names unique per tenant: a taken name is CONFLICT naming the field, also between racing writers', async () => {
      const tenant = uid('t-names');
      const first = await store.insertTask(newTask(tenant, { name: 'orders' }));
      const taken = (p: Promise<unknown>) =>
        assert.rejects(p, (err: unknown) => isFerryError(err, 'CONFLICT') && err.field === 'name' && err.message.includes('"orders"'));
      await taken(store.insertTask(newTask(tenant, { name: 'orders' })));
      const second = await store.insertTask(newTask(tenant, { name: 'payments' }));
      await taken(store.updateTask(tenant, second.id, 1, { name: 'orders' }));
      assert.equal((await store.getTask(tenant, second.id))?.version, 1, 'the refused rename changed nothing');
      await store.insertTask(newTask(uid('t-names-other'), { name: 'orders' })); // another tenant's own name
      assert.equal((await store.updateTask(tenant, first.id, 1, { name: 'orders' })).version, 2, 'keeping its own name is no conflict');

      const racers = await db.racers(4);
      const results = await Promise.allSettled(racers.map((s) => s.insertTask(newTask(tenant, { name: 'raced' }))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isFerryError(r.reason, 'CONFLICT'), String(r.reason));
    });

    it('the unique-name migration applies over existing duplicates: the oldest keeps the name, later ones are renamed', async () => {
      const raw = await openDatabase(await db.adapter.fresh());
      const before = await mkdtemp(join(tmpdir(), 'ferry-migrations-'));
      try {
        for (const f of (await readdir(MIGRATIONS_DIR)).filter((f) => f < '003')) await copyFile(join(MIGRATIONS_DIR, f), join(before, f));
        await migrate(raw, before);
        const old = sqlStore(raw);
        const long = 'n'.repeat(200);
        const at = (day: number) => new Date(`2024-01-0${day}T00:00:00Z`);
        const rows = [
          newTask('t-a', { id: 'task-1', name: 'orders', createdAt: at(1) }),
          newTask('t-a', { id: 'task-3', name: 'orders', createdAt: at(3) }),
          newTask('t-a', { id: 'task-2', name: 'orders', createdAt: at(2) }),
          newTask('t-b', { id: 'task-4', name: 'orders', createdAt: at(4) }),
          newTask('t-a', { id: 'task-5', name: long, createdAt: at(1) }),
          newTask('t-a', { id: 'task-6', name: long, createdAt: at(2) }),
        ];
        for (const t of rows) await old.insertTask(t);

        assert.equal((await migrate(raw))[0], '003_unique_task_names.sql', 'the migrations after 002 apply, 003 first');
        const s = sqlStore(raw);
        const name = async (tenant: string, id: string) => (await s.getTask(tenant, id))!.name;
        assert.equal(await name('t-a', 'task-1'), 'orders', 'the oldest keeps the name');
        assert.equal(await name('t-a', 'task-2'), 'orders-task-2');
        assert.equal(await name('t-a', 'task-3'), 'orders-task-3');
        assert.equal(await name('t-b', 'task-4'), 'orders', "another tenant's task is not a duplicate");
        assert.equal(await name('t-a', 'task-5'), long);
        assert.equal(await name('t-a', 'task-6'), `${'n'.repeat(193)}-task-6`, 'cut to stay within 200 characters');
        assert.equal((await s.getTask('t-a', 'task-2'))!.version, 2, 'a renamed task has a new version');
        assert.equal((await s.getTask('t-a', 'task-1'))!.version, 1);
        const [event] = await s.listAudit('t-a', 'task-3', { limit: 5 });
        assert.deepEqual(
          { actor: event?.actor, action: event?.action, before: event?.before, after: event?.after },
          { actor: 'migration 003_unique_task_names', action: 'rename', before: { name: 'orders' }, after: { name: 'orders-task-3' } },
        );
        await rejectsWith(s.insertTask(newTask('t-a', { name: 'orders' })), 'CONFLICT');
      } finally {
        await raw.close();
        await rm(before, { recursive: true, force: true });
      }
    });

    it('deletes a task with all its leases, checkpoints, metrics, parked messages and metadata, keeping audit', async () => {
      const tenant = 't-del';
      const t = await store.insertTask(newTask(tenant));
      const keep = await store.insertTask(newTask(tenant));
      for (const task of [t, keep]) {
        const lease = await store.acquireLease({ taskId: task.id, flow: 'a->b', shard: 0, owner: 'w', ttlMs: 60_000 });
        assert.ok(lease);
        await store.saveCheckpoints({ taskId: task.id, flow: 'a->b', shard: 0, owner: 'w', epoch: lease.epoch }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 5 },
        ]);
        await store.addMetrics([{ taskId: task.id, flow: 'a->b', minuteMs: 10 * MINUTE, consumed: 3 }]);
        await store.parkMessage({
          taskId: task.id,
          flow: 'a->b',
          topic: 'orders',
          broker: 'broker-a',
          queueId: 0,
          queueOffset: 4,
          reason: 'MESSAGE_ILLEGAL',
          payload: new Uint8Array([1]),
          properties: {},
        });
        await store.saveSnapshot(task.id, 'source', [{ kind: 'topic', name: 'orders' }]);
        await store.upsertMetadataItems(task.id, [
          { kind: 'topic', name: 'orders', direction: 'source_to_target', action: 'create', status: 'synced' },
        ]);
        await store.appendAudit({ taskId: task.id, tenant, actor: 'alice', action: 'create', after: { id: task.id } });
      }

      assert.equal(await store.deleteTask('other-tenant', t.id), false, 'another tenant cannot delete it');
      assert.ok(await store.getTask(tenant, t.id));

      assert.equal(await store.deleteTask(tenant, t.id), true);
      assert.equal(await store.getTask(tenant, t.id), null);
      assert.deepEqual(await store.listLeases(t.id), []);
      assert.deepEqual(await store.getCheckpoints(t.id, 'a->b'), []);
      assert.deepEqual(await store.queryMetrics(t.id, 0, Number.MAX_SAFE_INTEGER), []);
      assert.deepEqual(await store.listParked(t.id, { limit: 10, includeResolved: true }), []);
      assert.equal(await store.getSnapshot(t.id, 'source'), null);
      assert.deepEqual(await store.listMetadataItems(t.id), []);
      assert.equal((await store.listAudit(tenant, t.id, { limit: 10 })).length, 1, 'audit is kept');
      assert.equal(await store.deleteTask(tenant, t.id), false, 'second delete finds nothing');

      // The neighbour is untouched.
      assert.equal((await store.listLeases(keep.id)).length, 1);
      assert.equal((await store.getCheckpoints(keep.id, 'a->b')).length, 1);
      assert.equal((await store.queryMetrics(keep.id, 0, Number.MAX_SAFE_INTEGER)).length, 1);
      assert.equal((await store.listParked(keep.id, { limit: 10 })).length, 1);
      assert.ok(await store.getSnapshot(keep.id, 'source'));
      assert.equal((await store.listMetadataItems(keep.id)).length, 1);

      // A straggling invocation cannot recreate rows for the deleted task.
      await rejectsWith(store.acquireLease({ taskId: t.id, flow: 'a->b', shard: 0, owner: 'w', ttlMs: 1000 }), 'NOT_FOUND');
      await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: 0, consumed: 1 }]), 'NOT_FOUND');
      await rejectsWith(store.setCheckpoints(t.id, 'a->b', [{ topic: 'o', broker: 'b', queueId: 0, nextOffset: 1 }]), 'NOT_FOUND');
      await rejectsWith(store.saveSnapshot(t.id, 'target', []), 'NOT_FOUND');
    });
  });

  describe('spec decoding', () => {
    /** Fails unless p rejects with FerryError INTERNAL naming taskId in its message and `field` as its field. */
    const undecodable = async (p: Promise<unknown>, taskId: string, field: string): Promise<void> => {
      await assert.rejects(p, (err: unknown) => {
        assert.ok(isFerryError(err, 'INTERNAL'), `expected FerryError INTERNAL, got ${String(err)}`);
        assert.equal(err.field, field);
        assert.ok(err.message.includes(taskId), `the message names the task: ${err.message}`);
        assert.ok(err.message.includes(field), `the message names the field: ${err.message}`);
        return true;
      });
    };

    it('hands out the spec as stored, every optional field and unknown keys included', async () => {
      const tenant = uid('t-spec');
      const spec = {
        ...plainTaskSpec({
          direction: 'two-way',
          source: {
            clusterType: 'tencent',
            region: 'ap-guangzhou',
            clusterId: 'rocketmq-abc',
            protocol: 'grpc',
            networkType: 'vpc',
            acl: { enabled: true, accessKeySealed: 'sealed-ak', secretKeySealed: 'sealed-sk', accessKeyMasked: 'ak****' },
            cloudApi: { secretIdSealed: 'sealed-id', secretKeySealed: 'sealed-key', secretIdMasked: 'AKID****' },
          },
          target: {
            clusterType: 'self-built',
            clusterId: 'idc-1',
            protocol: 'remoting',
            nameServer: '10.0.0.1:9876;10.0.0.2:9876',
            networkType: 'vpc',
            vpc: { region: 'ap-guangzhou', vpcId: 'vpc-1', subnetId: 'subnet-1' },
            resourceType: 'other-cloud',
            dedicatedLine: { type: 'ccn', id: 'ccn-1' },
            acl: { enabled: false },
          },
          startOffset: { type: 'timestamp', timestamp: 1_700_000_000_000 },
          filter: { topics: { include: ['^orders'], exclude: ['-dlq$'] }, expression: { type: 'SQL92', value: 'a > 1' } },
          tpsLimit: 500,
          idempotentResume: false,
          shards: 8,
          pendingReset: { timestamp: 1_700_000_100_000, requestedAt: '2024-01-01T00:00:00.000Z' },
          replayGeneration: 3,
        }),
        // A key this version does not know (written by a newer one) survives a read and a write back.
        fromTheFuture: { kept: true },
      } as TaskSpec;
      const t = await store.insertTask(newTask(tenant, { spec }));
      assert.deepEqual(t.spec, spec);
      assert.deepEqual((await store.getTask(tenant, t.id))?.spec, spec);
      assert.deepEqual((await store.listTasks(tenant, { limit: 10 })).items[0]?.spec, spec);
      assert.deepEqual((await store.listAllTasks()).find((x) => x.id === t.id)?.spec, spec);
      const renamed = await store.updateTask(tenant, t.id, 1, { spec: { ...t.spec, shards: 'auto' } });
      assert.deepEqual(renamed.spec, { ...spec, shards: 'auto' });
    });

    it('refuses a stored row that does not decode with INTERNAL naming the task and the field; it can still be deleted', async () => {
      // A database of its own, corrupted through the same connection the store uses (PGlite has one).
      const raw = await openDatabase(await db.adapter.fresh());
      try {
        await migrate(raw);
        const s = sqlStore(raw);
        const tenant = 't-corrupt';
        const corrupt = async (sql: string, params: SqlParam[] = []) => {
          const t = await s.insertTask(newTask(tenant));
          await raw.query(sql.replace('$id', `$${params.length + 1}`), [...params, t.id]);
          return t.id;
        };

        const noNameServer = await corrupt(`UPDATE tasks SET spec = spec #- '{source,nameServer}' WHERE id = $id`);
        await undecodable(s.getTask(tenant, noNameServer), noNameServer, 'spec.source.nameServer');
        await undecodable(s.listTasks(tenant, { limit: 10 }), noNameServer, 'spec.source.nameServer');
        await undecodable(s.listAllTasks(), noNameServer, 'spec.source.nameServer');
        const healthy = await s.insertTask(newTask(tenant));
        const reported: Error[] = [];
        const listed = await s.listAllTasks({ onUndecodable: (err) => reported.push(err) });
        assert.deepEqual(
          listed.map((t) => t.id),
          [healthy.id],
          'with a handler, the damaged row is left out and the others listed',
        );
        assert.equal(reported.length, 1);
        assert.ok(isFerryError(reported[0], 'INTERNAL') && reported[0].message.includes(noNameServer), String(reported[0]));
        await s.deleteTask(tenant, healthy.id);
        assert.equal(await s.deleteTask(tenant, noNameServer), true, 'an undecodable task can still be deleted');

        const notAnObject = await corrupt(`UPDATE tasks SET spec = '"oops"'::jsonb WHERE id = $id`);
        await undecodable(s.getTask(tenant, notAnObject), notAnObject, 'spec');
        await s.deleteTask(tenant, notAnObject);

        const unknownCluster = await corrupt(`UPDATE tasks SET spec = jsonb_set(spec, '{target,clusterType}', $1::jsonb) WHERE id = $id`, [
          '"on-prem"',
        ]);
        await undecodable(s.getTask(tenant, unknownCluster), unknownCluster, 'spec.target.clusterType');
        await s.deleteTask(tenant, unknownCluster);

        const wrongType = await corrupt(`UPDATE tasks SET spec = jsonb_set(spec, '{filter,topics,include}', $1::jsonb) WHERE id = $id`, [
          '".*"',
        ]);
        await undecodable(s.getTask(tenant, wrongType), wrongType, 'spec.filter.topics.include');
        await s.deleteTask(tenant, wrongType);

        const badStatus = await corrupt(`UPDATE tasks SET status = 'paused' WHERE id = $id`);
        await undecodable(s.getTask(tenant, badStatus), badStatus, 'status');
        await s.deleteTask(tenant, badStatus);

        const badDesiredState = await corrupt(`UPDATE tasks SET desired_state = 'maybe' WHERE id = $id`);
        await undecodable(s.getTask(tenant, badDesiredState), badDesiredState, 'desiredState');
        await s.deleteTask(tenant, badDesiredState);

        assert.deepEqual(await s.listAllTasks(), [], 'with the broken rows gone, listing works again');
      } finally {
        await raw.close();
      }
    });

    it('refuses to write a spec it could not read back, and writes nothing', async () => {
      const tenant = uid('t-bad-spec');
      const { direction: _gone, ...noDirection } = plainTaskSpec();
      const input = newTask(tenant, { spec: noDirection as TaskSpec });
      await assert.rejects(
        store.insertTask(input),
        (err: unknown) => isFerryError(err, 'INTERNAL') && err.field === 'spec.direction' && err.message.includes(input.id),
      );
      assert.equal(await store.getTask(tenant, input.id), null);

      const t = await store.insertTask(newTask(tenant));
      const badTarget = { ...t.spec, target: { ...t.spec.target, protocol: 'carrier-pigeon' } } as unknown as TaskSpec;
      await assert.rejects(
        store.updateTask(tenant, t.id, 1, { spec: badTarget }),
        (err: unknown) => isFerryError(err, 'INTERNAL') && err.field === 'spec.target.protocol',
      );
      const after = await store.getTask(tenant, t.id);
      assert.equal(after?.version, 1, 'the rejected update changed nothing');
      assert.deepEqual(after?.spec, t.spec);
    });
  });
});

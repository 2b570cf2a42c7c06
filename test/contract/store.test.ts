// Store contract: one suite, run against both adapters — embedded PGlite and PostgreSQL — since
// the promise of the Store port is that they behave identically. PostgreSQL is required: if it
// cannot be reached the PostgreSQL half fails rather than skips.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { throwawayDataDir, throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { isFerryError } from '../../shared/errors.ts';
import type { FerryErrorCode } from '../../shared/errors.ts';
import { openDatabase, openStore } from '../../shared/store/index.ts';
import type { OpenStoreOptions } from '../../shared/store/index.ts';
import { MIGRATIONS_DIR, migrate } from '../../shared/store/migrate.ts';
import type { NewTask, Store, TaskRow } from '../../shared/store/store.ts';

// ── adapters under test ────────────────────────────────────────────────────

interface Adapter {
  name: string;
  /** Whether several Store instances may share one database (PGlite: one process, one instance). */
  sharedAcrossInstances: boolean;
  /** A brand-new, empty database, removed again by teardown. */
  fresh(): Promise<OpenStoreOptions>;
  teardown(): Promise<void>;
}

const embeddedAdapter = (): Adapter => {
  const dirs: Throwaway<string>[] = [];
  return {
    name: 'embedded (PGlite)',
    sharedAcrossInstances: false,
    async fresh() {
      const dir = await throwawayDataDir();
      dirs.push(dir);
      return { dataDir: dir.value };
    },
    async teardown() {
      for (const dir of dirs) await dir.drop();
    },
  };
};

const postgresAdapter = (): Adapter => {
  const databases: Throwaway<string>[] = [];
  return {
    name: 'PostgreSQL',
    sharedAcrossInstances: true,
    async fresh() {
      const db = await throwawayPostgres();
      databases.push(db);
      return { databaseUrl: db.value, dataDir: '/nonexistent-unused' };
    },
    async teardown() {
      for (const db of databases) await db.drop();
    },
  };
};

// ── helpers ────────────────────────────────────────────────────────────────

const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

const newTask = (tenant: string, overrides: Partial<NewTask> = {}): NewTask => ({
  id: uid('task'),
  tenant,
  name: 'replicate-orders',
  spec: { direction: 'one-way', source: { nameServer: 'a:9876' }, options: { topics: ['x', 'y'] } },
  desiredState: 'stopped',
  status: 'stopped',
  ...overrides,
});

const rejectsWith = async (p: Promise<unknown>, code: FerryErrorCode): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFerryError(err, code), `expected FerryError ${code}, got ${String(err)}`);
    return true;
  });
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const MINUTE = 60_000;

// ── the contract ───────────────────────────────────────────────────────────

const storeContract = (makeAdapter: () => Adapter): void => {
  const adapter = makeAdapter();

  describe(`Store contract — ${adapter.name}`, () => {
    let options: OpenStoreOptions;
    let store: Store;
    /** A second instance on the same database where the adapter allows it, else the same one. */
    let other: Store;
    const extraStores: Store[] = [];

    before(async () => {
      options = await adapter.fresh();
      store = await openStore(options);
      other = adapter.sharedAcrossInstances ? await openStore(options) : store;
    });

    after(async () => {
      for (const s of new Set([store, other, ...extraStores])) await s?.close();
      await adapter.teardown();
    });

    /** Stores for racing: separate instances (own pools) on PostgreSQL, the one instance on PGlite. */
    const racers = async (n: number): Promise<Store[]> => {
      if (!adapter.sharedAcrossInstances) return Array.from({ length: n }, () => store);
      const opened = await Promise.all(Array.from({ length: Math.min(n, 4) }, () => openStore(options)));
      extraStores.push(...opened);
      return Array.from({ length: n }, (_, i) => opened[i % opened.length]!);
    };

    it('applies migrations once and is idempotent when opened again', async () => {
      const opts = await adapter.fresh();
      const expected = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
      assert.ok(expected.includes('001_initial.sql'));

      if (adapter.sharedAcrossInstances) {
        // Two cold starts against an empty database at once: the advisory lock makes them take turns.
        const both = await Promise.all([openStore(opts), openStore(opts)]);
        for (const s of both) await s.close();
      } else {
        await (await openStore(opts)).close();
      }
      const again = await openStore(opts); // second open on an already-migrated database
      await again.ping();
      await again.insertTask(newTask('t-mig'));
      await again.close();

      const db = await openDatabase(opts);
      try {
        assert.deepEqual(await migrate(db), [], 'nothing left to apply');
        const applied = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        assert.deepEqual(applied.map((r) => r.name), expected);
        const tables = await db.query<{ table_name: string }>(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
        );
        assert.deepEqual(
          tables.map((t) => t.table_name),
          ['api_tokens', 'audit_events', 'checkpoints', 'leases', 'metadata_items', 'metadata_snapshots',
            'metrics', 'parked_messages', 'schema_migrations', 'shard_plans', 'tasks'],
        );
        const [count] = await db.query<{ n: number }>('SELECT count(*) AS n FROM tasks');
        assert.equal(count?.n, 1, 'reopening kept the data (and int8 counts come back as numbers)');
      } finally {
        await db.close();
      }
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
          { id: got.id, tenant: got.tenant, name: got.name, spec: got.spec, desiredState: got.desiredState,
            status: got.status, statusReason: got.statusReason, version: got.version },
          { id: input.id, tenant: 't-get', name: input.name, spec: input.spec, desiredState: 'stopped',
            status: 'stopped', statusReason: 'never started', version: 1 },
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
        assert.deepEqual(seen, exact.items.map((t) => t.id), 'pages concatenate to the full listing');
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

      it('lists every tenant\'s tasks for the reconciler', async () => {
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

        const v3 = await store.updateTask('t-upd', t.id, 2, { spec: { replaced: true } });
        assert.equal(v3.version, 3);
        assert.deepEqual(v3.spec, { replaced: true });

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

      it('deletes a task with all its leases, checkpoints, metrics, parked messages and metadata, keeping audit', async () => {
        const tenant = 't-del';
        const t = await store.insertTask(newTask(tenant));
        const keep = await store.insertTask(newTask(tenant));
        for (const task of [t, keep]) {
          const lease = await store.acquireLease({ taskId: task.id, flow: 'a->b', shard: 0, owner: 'w', ttlMs: 60_000 });
          assert.ok(lease);
          await store.saveCheckpoints(
            { taskId: task.id, flow: 'a->b', shard: 0, owner: 'w', epoch: lease.epoch },
            [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 5 }],
          );
          await store.addMetrics([{ taskId: task.id, flow: 'a->b', minuteMs: 10 * MINUTE, consumed: 3 }]);
          await store.parkMessage({
            taskId: task.id, flow: 'a->b', topic: 'orders', broker: 'broker-a', queueId: 0, queueOffset: 4,
            reason: 'MESSAGE_ILLEGAL', payload: new Uint8Array([1]), properties: {},
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

    describe('audit and transactions', () => {
      it('appends audit events and lists them newest first, per tenant and task', async () => {
        const tenant = 't-audit';
        const t = await store.insertTask(newTask(tenant));
        const e1 = await store.appendAudit({ taskId: t.id, tenant, actor: 'alice', action: 'create', after: { name: 'a' } });
        const e2 = await store.appendAudit({ taskId: t.id, tenant, actor: 'bob', action: 'rename', before: { name: 'a' }, after: { name: 'b' } });
        const e3 = await store.appendAudit({ taskId: t.id, tenant, actor: 'carol', action: 'delete', before: { name: 'b' } });
        await store.appendAudit({ taskId: 'another-task', tenant, actor: 'alice', action: 'create' });

        assert.ok(e1.id < e2.id && e2.id < e3.id);
        assert.equal(e1.before, null);
        assert.deepEqual(e1.after, { name: 'a' });
        assert.equal(e3.after, null);

        const all = await store.listAudit(tenant, t.id, { limit: 10 });
        assert.deepEqual(all.map((e) => e.action), ['delete', 'rename', 'create']);
        assert.deepEqual(all[1], e2);
        assert.deepEqual((await store.listAudit(tenant, t.id, { limit: 2 })).map((e) => e.actor), ['carol', 'bob']);
        assert.deepEqual(await store.listAudit('other-tenant', t.id, { limit: 10 }), []);
      });

      it('withTransaction writes task and audit atomically', async () => {
        const tenant = uid('t-tx');
        const committed = newTask(tenant);
        await store.withTransaction(async (tx) => {
          await tx.insertTask(committed);
          await tx.appendAudit({ taskId: committed.id, tenant, actor: 'alice', action: 'create', after: { id: committed.id } });
        });
        assert.ok(await store.getTask(tenant, committed.id));
        assert.equal((await store.listAudit(tenant, committed.id, { limit: 5 })).length, 1);

        const rolledBack = newTask(tenant);
        await assert.rejects(
          store.withTransaction(async (tx) => {
            await tx.insertTask(rolledBack);
            await tx.appendAudit({ taskId: rolledBack.id, tenant, actor: 'alice', action: 'create' });
            throw new Error('validation failed after writing');
          }),
          /validation failed after writing/,
        );
        assert.equal(await store.getTask(tenant, rolledBack.id), null);
        assert.deepEqual(await store.listAudit(tenant, rolledBack.id, { limit: 5 }), []);

        // Store methods that are transactions themselves nest (savepoints) inside a caller's one;
        // a nested failure that is caught leaves the outer transaction usable.
        const doomed = await store.insertTask(newTask(tenant));
        await store.withTransaction(async (tx) => {
          assert.equal(await tx.deleteTask(tenant, doomed.id), true);
          await rejectsWith(
            tx.saveCheckpoints({ taskId: committed.id, flow: 'f', shard: 0, owner: 'nobody', epoch: 1 }, []),
            'STALE_EPOCH',
          );
          await tx.appendAudit({ taskId: doomed.id, tenant, actor: 'alice', action: 'delete' });
        });
        assert.equal(await store.getTask(tenant, doomed.id), null);
        assert.equal((await store.listAudit(tenant, doomed.id, { limit: 5 })).length, 1);

        await store.withTransaction(async (tx) => {
          await tx.ping();
          await rejectsWith(tx.close(), 'INTERNAL');
        });
        await store.ping();
      });
    });

    describe('tokens', () => {
      it('finds live tokens by hash and stops finding them once revoked', async () => {
        const hash = uid('sha256');
        const inserted = await store.insertToken({ tokenHash: hash, tenant: 'acme', role: 'admin', label: 'ci' });
        assert.equal(inserted.revokedAt, null);
        const found = await store.findToken(hash);
        assert.deepEqual(found, inserted);
        assert.equal(await store.findToken('unknown-hash'), null);

        assert.equal(await store.revokeToken(hash), true);
        assert.equal(await store.findToken(hash), null);
        assert.equal(await store.revokeToken(hash), false, 'already revoked');
        assert.equal(await store.revokeToken('unknown-hash'), false);
      });
    });

    describe('leases', () => {
      it('gives a contested lease to exactly one of two racers', async () => {
        const t = await store.insertTask(newTask('t-lease'));
        const [r1, r2] = await racers(2);
        for (let shard = 0; shard < 10; shard++) {
          const results = await Promise.all([
            r1!.acquireLease({ taskId: t.id, flow: 'a->b', shard, owner: 'racer-1', ttlMs: 60_000 }),
            r2!.acquireLease({ taskId: t.id, flow: 'a->b', shard, owner: 'racer-2', ttlMs: 60_000 }),
          ]);
          const winners = results.filter((r) => r !== null);
          assert.equal(winners.length, 1, `shard ${shard}: exactly one winner`);
          assert.deepEqual(winners[0], { epoch: 1 });
        }
        const leases = await store.listLeases(t.id);
        assert.equal(leases.length, 10);
        assert.ok(leases.every((l) => l.epoch === 1 && (l.owner === 'racer-1' || l.owner === 'racer-2')));
      });

      it('gives a contested lease to exactly one of twenty racers, also when it is expired', async () => {
        const t = await store.insertTask(newTask('t-lease'));
        const pool = await racers(20);
        const race = (ttlMs: number) =>
          Promise.all(
            pool.map((s, i) => s.acquireLease({ taskId: t.id, flow: 'b->a', shard: 3, owner: `racer-${i}`, ttlMs })),
          );

        // Long enough that the lease cannot expire while twenty statements queue on a busy machine.
        const first = (await race(2_000)).filter((r) => r !== null);
        assert.deepEqual(first, [{ epoch: 1 }]);

        await sleep(2_100); // let it expire: the twenty race for the takeover
        const second = (await race(60_000)).filter((r) => r !== null);
        assert.deepEqual(second, [{ epoch: 2 }]);

        const [lease] = await store.listLeases(t.id);
        assert.equal(lease?.epoch, 2);
      });

      it('fences tenures with growing epochs: re-acquire, renew, release, expiry takeover', async () => {
        const t = await store.insertTask(newTask('t-lease'));
        const key = { taskId: t.id, flow: 'a->b', shard: 0 };

        const a1 = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
        assert.deepEqual(a1, { epoch: 1 });
        const [held] = await store.listLeases(t.id);
        assert.equal(held?.owner, 'A');
        // expiresAtMs is on the database clock; database and test share this machine's clock.
        assert.ok(Math.abs(held!.expiresAtMs - (Date.now() + 60_000)) < 5_000);

        assert.equal(await other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 }), null, 'held by A');

        // Re-acquiring by the same owner starts a new tenure (documented choice).
        const a2 = await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 });
        assert.deepEqual(a2, { epoch: 2 });
        assert.equal(await store.renewLease(key, 'A', 1, 60_000), false, 'the old tenure is fenced out');
        assert.equal(await store.renewLease(key, 'A', 2, 60_000), true);
        assert.equal(await store.renewLease(key, 'B', 2, 60_000), false);
        assert.equal(await store.releaseLease(key, 'B', 2), false, 'only the holder releases');

        assert.equal(await store.releaseLease(key, 'A', 2), true);
        const released = (await store.listLeases(t.id))[0]!.expiresAtMs;
        assert.ok(Math.abs(released - Date.now()) < 5_000, 'a released lease expires at its release time');
        assert.deepEqual(await other.acquireLease({ ...key, owner: 'B', ttlMs: 100 }), { epoch: 3 }, 'released lease is free');

        await sleep(200);
        assert.deepEqual(await store.acquireLease({ ...key, owner: 'A', ttlMs: 60_000 }), { epoch: 4 }, 'expired lease is taken over');
        assert.equal(await other.renewLease(key, 'B', 3, 60_000), false, 'the expired holder cannot renew after a takeover');

        await rejectsWith(store.acquireLease({ ...key, owner: 'A', ttlMs: 0 }), 'VALIDATION_FAILED');
      });
    });

    describe('shard plans', () => {
      it('starts a new generation on a new count; older leases can no longer renew or checkpoint, and the new layout waits for them', async () => {
        const t = await store.insertTask(newTask('t-plan'));
        const flow = 'forward';
        assert.deepEqual(await store.getShardPlans(t.id), []);
        const p1 = await store.setShardCount(t.id, flow, 2);
        assert.deepEqual([p1.shardCount, p1.generation], [2, 1]);
        assert.equal((await store.setShardCount(t.id, flow, 2)).generation, 1, 'same count, same generation');

        assert.equal(await store.acquireLease({ taskId: t.id, flow, shard: 0, owner: 'A', ttlMs: 60_000 }), null, 'generation 0 is not the plan');
        assert.equal(await store.acquireLease({ taskId: t.id, flow, shard: 2, owner: 'A', ttlMs: 60_000, generation: 1 }), null, 'shard outside the plan');
        const a = await store.acquireLease({ taskId: t.id, flow, shard: 1, owner: 'A', ttlMs: 60_000, generation: 1 });
        assert.ok(a);
        const holder = { taskId: t.id, flow, shard: 1, owner: 'A', epoch: a.epoch };
        await store.saveCheckpoints(holder, [{ topic: 'orders', broker: 'b', queueId: 0, nextOffset: 5 }]);
        assert.equal(await store.renewLease(holder, 'A', a.epoch, 60_000, { lag: 7, rate: 12.5 }), true);
        const [held] = await store.listLeases(t.id);
        assert.deepEqual([held?.generation, held?.lag, held?.rate], [1, 7, 12.5]);

        const p2 = await store.setShardCount(t.id, flow, 3);
        assert.deepEqual([p2.shardCount, p2.generation], [3, 2]);
        assert.equal(await store.renewLease(holder, 'A', a.epoch, 60_000), false, 'the old layout cannot renew');
        await rejectsWith(store.saveCheckpoints(holder, [{ topic: 'orders', broker: 'b', queueId: 0, nextOffset: 9 }]), 'STALE_EPOCH');
        assert.equal((await store.getCheckpoints(t.id, flow))[0]?.nextOffset, 5);
        assert.equal(await other.acquireLease({ taskId: t.id, flow, shard: 0, owner: 'B', ttlMs: 60_000, generation: 2 }), null, 'waits while a lease of generation 1 is live');
        assert.equal(await store.releaseLease(holder, 'A', a.epoch), true);
        const b = await other.acquireLease({ taskId: t.id, flow, shard: 1, owner: 'B', ttlMs: 60_000, generation: 2 });
        assert.ok(b, 'the new layout starts once the old one released');
        await other.saveCheckpoints({ taskId: t.id, flow, shard: 1, owner: 'B', epoch: b.epoch }, [{ topic: 'orders', broker: 'b', queueId: 0, nextOffset: 9, exact: true }]);
        const [c] = await store.getCheckpoints(t.id, flow);
        assert.deepEqual([c?.nextOffset, c?.exact], [9, true]);
        assert.deepEqual(await store.countCheckpoints(t.id), { [flow]: 1 });
        await rejectsWith(store.setShardCount(t.id, flow, 0), 'VALIDATION_FAILED');
        await rejectsWith(store.setShardCount('no-such-task', flow, 1), 'NOT_FOUND');
      });
    });

    describe('checkpoints', () => {
      it('rejects a checkpoint write with a stale epoch and keeps the stored offsets', async () => {
        const t = await store.insertTask(newTask('t-ckpt'));
        const key = { taskId: t.id, flow: 'a->b', shard: 1 };
        const big = 2 ** 52 + 3; // int8 round-trips as an exact JS number

        const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 100 });
        assert.ok(a);
        await store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 10 },
          { topic: 'orders', broker: 'broker-a', queueId: 1, nextOffset: big },
        ]);

        await sleep(200);
        const b = await other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 });
        assert.deepEqual(b, { epoch: a.epoch + 1 });

        await rejectsWith(
          store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [
            { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 99 },
            { topic: 'orders', broker: 'broker-a', queueId: 2, nextOffset: 7 },
          ]),
          'STALE_EPOCH',
        );
        await rejectsWith(
          store.saveCheckpoints({ ...key, owner: 'A', epoch: b!.epoch }, [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 98 }]),
          'STALE_EPOCH',
          // right epoch, wrong owner
        );
        await rejectsWith(
          store.saveCheckpoints({ ...key, shard: 9, owner: 'A', epoch: 1 }, [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 97 }]),
          'STALE_EPOCH',
          // no lease at all
        );

        const afterReject = await store.getCheckpoints(t.id, 'a->b');
        assert.deepEqual(
          afterReject.map((c) => [c.queueId, c.nextOffset, c.epoch]),
          [[0, 10, a.epoch], [1, big, a.epoch]],
        );
        assert.equal(typeof afterReject[1]?.nextOffset, 'number');

        await other.saveCheckpoints({ ...key, owner: 'B', epoch: b!.epoch }, [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 20 },
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 21 }, // duplicate key: last wins
        ]);
        const current = await store.getCheckpoints(t.id, 'a->b');
        assert.deepEqual(current.map((c) => [c.queueId, c.nextOffset, c.epoch]), [[0, 21, b!.epoch], [1, big, a.epoch]]);
        assert.ok(current.every((c) => c.taskId === t.id && c.flow === 'a->b' && c.topic === 'orders' && c.updatedAt instanceof Date));
      });

      it('holds off a takeover until an in-flight fenced write has committed', async () => {
        const t = await store.insertTask(newTask('t-ckpt'));
        const key = { taskId: t.id, flow: 'a->b', shard: 0 };
        const a = await store.acquireLease({ ...key, owner: 'A', ttlMs: 1 });
        assert.ok(a);
        await sleep(20); // A's lease has expired: B may take it over at any moment

        let takeover: Promise<{ epoch: number } | null> | undefined;
        let tookOverEarly = false;
        await store.withTransaction(async (tx) => {
          await tx.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 100 }]);
          // The fenced write still holds the lease row: B's takeover must wait for it to commit,
          // otherwise A's offsets could land after B started from the old ones.
          takeover = other.acquireLease({ ...key, owner: 'B', ttlMs: 60_000 });
          takeover.then(() => { tookOverEarly = true; }, () => {});
          await sleep(150);
        });
        assert.equal(tookOverEarly, false, 'takeover waited for the fenced write');
        assert.deepEqual(await takeover, { epoch: a.epoch + 1 });

        const [ckpt] = await store.getCheckpoints(t.id, 'a->b');
        assert.deepEqual([ckpt?.nextOffset, ckpt?.epoch], [100, a.epoch]);
        await rejectsWith(
          store.saveCheckpoints({ ...key, owner: 'A', epoch: a.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 101 }]),
          'STALE_EPOCH',
        );
      });

      it('fences out an earlier tenure of the same owner', async () => {
        const t = await store.insertTask(newTask('t-ckpt'));
        const key = { taskId: t.id, flow: 'a->b', shard: 0 };
        const first = await store.acquireLease({ ...key, owner: 'fn-instance-1', ttlMs: 60_000 });
        const second = await store.acquireLease({ ...key, owner: 'fn-instance-1', ttlMs: 60_000 });
        assert.ok(first && second && second.epoch > first.epoch);
        await store.saveCheckpoints({ ...key, owner: 'fn-instance-1', epoch: second.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 5 }]);
        await rejectsWith(
          store.saveCheckpoints({ ...key, owner: 'fn-instance-1', epoch: first.epoch }, [{ topic: 't', broker: 'b', queueId: 0, nextOffset: 1 }]),
          'STALE_EPOCH',
        );
        assert.deepEqual((await store.getCheckpoints(t.id, 'a->b')).map((c) => c.nextOffset), [5]);
      });

      it('sets checkpoints unfenced for start-offset capture and reset', async () => {
        const t = await store.insertTask(newTask('t-ckpt'));
        await store.setCheckpoints(t.id, 'a->b', [
          { topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 1000 },
          { topic: 'orders', broker: 'broker-b', queueId: 0, nextOffset: 2000 },
        ]);
        await store.setCheckpoints(t.id, 'b->a', [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 3 }]);
        await store.setCheckpoints(t.id, 'a->b', [{ topic: 'orders', broker: 'broker-a', queueId: 0, nextOffset: 0 }]);
        await store.setCheckpoints(t.id, 'a->b', []);

        const ab = await store.getCheckpoints(t.id, 'a->b');
        assert.deepEqual(ab.map((c) => [c.broker, c.nextOffset, c.epoch]), [['broker-a', 0, 0], ['broker-b', 2000, 0]]);
        assert.deepEqual((await store.getCheckpoints(t.id, 'b->a')).map((c) => c.nextOffset), [3]);
        await rejectsWith(
          store.setCheckpoints(t.id, 'a->b', [{ topic: 'orders', broker: 'x', queueId: 0, nextOffset: -1 }]),
          'VALIDATION_FAILED',
        );
      });
    });

    describe('metrics', () => {
      it('adds counters into minute buckets, overwrites gauges and keeps the largest delay max', async () => {
        const t = await store.insertTask(newTask('t-metrics'));
        const m0 = 28_000_000 * MINUTE;
        await store.addMetrics([
          { taskId: t.id, flow: 'a->b', minuteMs: m0, consumed: 10, replicated: 8, filtered: 1, loopSkipped: 1, lag: 50, delayP50Ms: 12.5, delayP99Ms: 80, delayMaxMs: 95 },
          { taskId: t.id, flow: 'a->b', minuteMs: m0, consumed: 5, failed: 2 }, // same bucket in one call
          { taskId: t.id, flow: 'b->a', minuteMs: m0, consumed: 7, replicated: 7 },
        ]);
        await other.addMetrics([
          { taskId: t.id, flow: 'a->b', minuteMs: m0, consumed: 1, replicated: 1, throttled: 3, lag: 20, delayP99Ms: 40, delayMaxMs: 60 },
          { taskId: t.id, flow: 'a->b', minuteMs: m0 + MINUTE, replicated: 4 },
        ]);

        const rows = await store.queryMetrics(t.id, m0, m0 + 2 * MINUTE);
        assert.deepEqual(rows.map((r) => [r.minuteMs, r.flow]), [[m0, 'a->b'], [m0, 'b->a'], [m0 + MINUTE, 'a->b']]);
        assert.deepEqual(rows[0], {
          taskId: t.id, flow: 'a->b', minuteMs: m0,
          consumed: 16, replicated: 9, filtered: 1, loopSkipped: 1, failed: 2, throttled: 3,
          lag: 20, delayP50Ms: 12.5, delayP99Ms: 40, delayMaxMs: 95, // given gauges replace, absent ones stay; max is the largest
        });
        assert.deepEqual(rows[2], {
          taskId: t.id, flow: 'a->b', minuteMs: m0 + MINUTE,
          consumed: 0, replicated: 4, filtered: 0, loopSkipped: 0, failed: 0, throttled: 0,
          lag: null, delayP50Ms: null, delayP99Ms: null, delayMaxMs: null,
        });
        await other.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0, delayMaxMs: 130 }]);
        assert.equal((await store.queryMetrics(t.id, m0, m0 + MINUTE))[0]!.delayMaxMs, 130);
        assert.deepEqual((await store.queryMetrics(t.id, m0 + MINUTE, m0 + 2 * MINUTE)).map((r) => r.minuteMs), [m0 + MINUTE]);
        assert.deepEqual(await store.queryMetrics(t.id, m0 - MINUTE, m0), [], 'toMs is exclusive');

        await rejectsWith(store.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: m0 + 1, consumed: 1 }]), 'VALIDATION_FAILED');
      });

      it('loses no increments when shards add to the same bucket concurrently', async () => {
        const t = await store.insertTask(newTask('t-metrics'));
        const pool = await racers(20);
        await Promise.all(pool.map((s) => s.addMetrics([{ taskId: t.id, flow: 'a->b', minuteMs: 0, consumed: 1, replicated: 2 }])));
        const [row] = await store.queryMetrics(t.id, 0, MINUTE);
        assert.equal(row?.consumed, 20);
        assert.equal(row?.replicated, 40);
      });
    });

    describe('parked messages', () => {
      it('keeps a parked message\'s flag and born time', async () => {
        const t = await store.insertTask(newTask('t-parked-flag'));
        const base = { taskId: t.id, flow: 'forward', topic: 'orders', broker: 'broker-a', queueId: 0, reason: 'too large', payload: new Uint8Array([1]), properties: {} };
        await store.parkMessage({ ...base, queueOffset: 1, flag: 7, bornTimestamp: 1_700_000_000_123 });
        await store.parkMessage({ ...base, queueOffset: 2 });
        const got = await store.listParked(t.id, { limit: 10 });
        assert.deepEqual(got.map((p) => [p.flag, p.bornTimestamp]), [[7, 1_700_000_000_123], [0, null]]);
      });

      it('parks, lists, retries on request and resolves', async () => {
        const t = await store.insertTask(newTask('t-parked'));
        const base = { taskId: t.id, topic: 'orders', broker: 'broker-a', queueId: 2, reason: 'SEND_FAILED: timeout' };
        const id1 = await store.parkMessage({ ...base, flow: 'a->b', queueOffset: 100, payload: new Uint8Array([1, 2, 3]), properties: { KEYS: 'k1', ferry_origin: 'c1' } });
        const id2 = await store.parkMessage({ ...base, flow: 'a->b', queueOffset: 101, payload: new Uint8Array([0, 255]), properties: {} });
        const id3 = await store.parkMessage({ ...base, flow: 'b->a', queueOffset: 7, payload: new Uint8Array([]), properties: {} });
        assert.ok(id1 < id2 && id2 < id3);

        const light = await store.listParked(t.id, { limit: 10 });
        assert.deepEqual(light.map((p) => [p.id, p.payloadSize, p.payload]), [[id1, 3, undefined], [id2, 2, undefined], [id3, 0, undefined]]);
        assert.deepEqual(await store.countParked(t.id), { 'a->b': 2, 'b->a': 1 });
        assert.deepEqual(light[0]?.properties, { KEYS: 'k1', ferry_origin: 'c1' });
        assert.equal(light[0]?.queueOffset, 100);
        assert.equal(light[0]?.retryRequestedAt, null);

        const full = await store.listParked(t.id, { limit: 2, includePayload: true });
        assert.deepEqual(full.map((p) => p.payload), [new Uint8Array([1, 2, 3]), new Uint8Array([0, 255])]);

        assert.deepEqual(await store.takeRetryBatch(t.id, 'a->b', 10), [], 'nothing requested yet');
        assert.equal(await store.requestRetry(t.id), 3);
        assert.ok((await store.listParked(t.id, { limit: 10 })).every((p) => p.retryRequestedAt instanceof Date));

        assert.deepEqual(await store.retryRequestedFlows(t.id), ['a->b', 'b->a']);
        const batch = await store.takeRetryBatch(t.id, 'a->b', 10);
        assert.deepEqual(batch.map((p) => [p.id, p.flow]), [[id1, 'a->b'], [id2, 'a->b']]);
        assert.deepEqual(batch[0]?.payload, new Uint8Array([1, 2, 3]));
        assert.deepEqual(await store.takeRetryBatch(t.id, 'a->b', 10), [], 'a taken message is not handed out twice');

        assert.equal(await store.resolveParked([id1]), 1);
        assert.equal(await store.resolveParked([id1]), 0, 'already resolved');
        assert.deepEqual((await store.listParked(t.id, { limit: 10 })).map((p) => p.id), [id2, id3], 'resolved hidden by default');
        assert.deepEqual(await store.countParked(t.id), { 'a->b': 1, 'b->a': 1 }, 'resolved not counted');
        const withResolved = await store.listParked(t.id, { limit: 10, includeResolved: true });
        assert.ok(withResolved.find((p) => p.id === id1)?.resolvedAt instanceof Date);

        // id2 failed again (left unresolved): a new request brings it back, with the still-pending id3.
        assert.equal(await store.requestRetry(t.id), 2);
        assert.deepEqual((await store.takeRetryBatch(t.id, 'a->b', 10)).map((p) => p.id), [id2]);
        assert.deepEqual((await store.takeRetryBatch(t.id, 'b->a', 10)).map((p) => p.id), [id3]);
        assert.equal(await store.resolveParked([id2, id3]), 2);
        assert.deepEqual(await store.listParked(t.id, { limit: 10 }), []);
        assert.equal(await store.requestRetry(t.id), 0);
        assert.deepEqual(await store.countParked(t.id), {});
      });

      it('hands each retry-requested message to only one of several concurrent takers', async () => {
        const t = await store.insertTask(newTask('t-parked'));
        const ids: number[] = [];
        for (let i = 0; i < 12; i++) {
          ids.push(await store.parkMessage({
            taskId: t.id, flow: 'a->b', topic: 'orders', broker: 'b', queueId: 0, queueOffset: i,
            reason: 'x', payload: new Uint8Array([i]), properties: {},
          }));
        }
        assert.equal(await store.requestRetry(t.id), 12);
        const pool = await racers(4);
        const batches = await Promise.all(pool.map((s) => s.takeRetryBatch(t.id, 'a->b', 5)));
        const taken = batches.flat().map((p) => p.id).sort((x, y) => x - y);
        assert.deepEqual(taken, ids, 'every message taken exactly once');
      });
    });

    describe('metadata sync', () => {
      it('round-trips snapshots per side and item outcomes', async () => {
        const t = await store.insertTask(newTask('t-meta'));
        const source = { topics: [{ name: 'orders', queues: 8, perm: 6 }], groups: [{ name: 'GID_a', retry: 16 }] };
        await store.saveSnapshot(t.id, 'source', source);
        const first = await store.getSnapshot(t.id, 'source');
        assert.deepEqual(first?.items, source);
        assert.equal(first?.side, 'source');
        assert.equal(await store.getSnapshot(t.id, 'target'), null);

        await store.saveSnapshot(t.id, 'source', [{ name: 'orders', queues: 16 }]);
        const replaced = await store.getSnapshot(t.id, 'source');
        assert.deepEqual(replaced?.items, [{ name: 'orders', queues: 16 }]);
        assert.ok(replaced!.takenAt.getTime() >= first!.takenAt.getTime());

        const when = new Date('2025-03-01T10:00:00.000Z');
        await store.upsertMetadataItems(t.id, [
          { kind: 'topic', name: 'orders', direction: 'source_to_target', action: 'create', status: 'synced', syncedAt: when },
          { kind: 'group', name: 'GID_a', direction: 'source_to_target', action: 'create', status: 'failed', error: 'SUBSCRIPTION_GROUP_NOT_EXIST' },
          { kind: 'role', name: 'ops', direction: 'target_to_source', action: 'create', status: 'unsupported' },
        ]);
        await store.upsertMetadataItems(t.id, [
          { kind: 'group', name: 'GID_a', direction: 'source_to_target', action: 'update', status: 'synced' },
          { kind: 'topic', name: 'orders', direction: 'target_to_source', action: 'update', status: 'synced' },
        ]);

        const items = await store.listMetadataItems(t.id);
        assert.deepEqual(
          items.map((i) => [i.kind, i.name, i.direction, i.action, i.status, i.error]),
          [
            ['group', 'GID_a', 'source_to_target', 'update', 'synced', null],
            ['role', 'ops', 'target_to_source', 'create', 'unsupported', null],
            ['topic', 'orders', 'source_to_target', 'create', 'synced', null],
            ['topic', 'orders', 'target_to_source', 'update', 'synced', null],
          ],
        );
        assert.deepEqual(items[2]?.syncedAt, when);
        assert.ok(items.every((i) => i.taskId === t.id && i.syncedAt instanceof Date));
      });
    });
  });
};

storeContract(embeddedAdapter);
storeContract(postgresAdapter);

// The PostgreSQL adapter's timeouts and its recovery, against real servers: a statement longer than
// statement_timeout is cancelled by the server; a server that accepts a connection and then says
// nothing fails the connection within connectTimeoutMs instead of hanging its caller; and a private
// throwaway PostgreSQL instance (initdb on a free port — never the machine's shared server) is
// restarted while a replicator-like loop keeps renewing a lease and writing checkpoints: the writes
// fail while it is down, then go on through fresh connections, and nothing is lost or re-ordered.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PostgresDatabase } from '../../shared/store/postgres.ts';
import { openStore } from '../../shared/store/index.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { plainTaskSpec } from '../support/task-spec.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('PostgreSQL statement and connect timeouts', () => {
  let db: Throwaway<string>;
  let silent: Server;
  const sockets: Socket[] = [];
  before(async () => {
    db = await throwawayPostgres();
    silent = createServer((s) => sockets.push(s)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    silent?.close();
    await db?.drop();
  });

  it('a statement over statement_timeout is cancelled by the server (57014), the pool stays usable', async () => {
    const pgdb = new PostgresDatabase(db.value, { statementTimeoutMs: 300 });
    try {
      const t0 = Date.now();
      await assert.rejects(pgdb.query('SELECT pg_sleep(5)'), (err: { code?: string }) => err.code === '57014');
      assert.ok(Date.now() - t0 < 3000, `cancelled after ${Date.now() - t0} ms`);
      assert.deepEqual(await pgdb.query<{ one: number }>('SELECT 1 AS one'), [{ one: 1 }]);
    } finally {
      await pgdb.close();
    }
  });

  it('a server that never answers fails the connection within connectTimeoutMs', async () => {
    const port = (silent.address() as { port: number }).port;
    const pgdb = new PostgresDatabase(`postgres://postgres@127.0.0.1:${port}/x`, { connectTimeoutMs: 400 });
    try {
      const t0 = Date.now();
      await assert.rejects(pgdb.query('SELECT 1'));
      assert.ok(Date.now() - t0 < 3000, `gave up after ${Date.now() - t0} ms`);
    } finally {
      await pgdb.close().catch(() => undefined);
    }
  });
});

describe('PostgreSQL restarted mid-stream (a private throwaway instance)', { skip: !privatePostgresAvailable() }, () => {
  let pg: PrivatePostgres;
  before(async () => {
    pg = await startPrivatePostgres();
  });
  after(() => pg?.stop());

  it('lease renewals and checkpoint writes fail while it is down and go on after; every acknowledged write is kept', async () => {
    const store = await openStore({
      databaseUrl: pg.url,
      dataDir: '/unused',
      postgres: { connectTimeoutMs: 1000, statementTimeoutMs: 2000 },
    });
    try {
      const task = await store.insertTask({
        id: 'task-pg-restart',
        tenant: 't',
        name: 'pg-restart',
        spec: plainTaskSpec(),
        desiredState: 'running',
        status: 'running',
      });
      const key = { taskId: task.id, flow: 'forward', shard: 0 };
      const lease = await store.acquireLease({ ...key, owner: 'r', ttlMs: 60_000 });
      assert.ok(lease);
      const holder = { ...key, owner: 'r', epoch: lease.epoch };
      let acknowledged = 0;
      let failures = 0;
      let restarted = false;
      // Asynchronous, so the loop below keeps calling while the server is down.
      const restart = (async () => {
        await sleep(500);
        await pg.restart();
        restarted = true;
      })();
      const deadline = Date.now() + 60_000;
      let afterRestart = 0;
      for (let next = 1; Date.now() < deadline && afterRestart < 20; ) {
        const t0 = Date.now();
        try {
          assert.equal(await store.renewLease(key, 'r', holder.epoch, 60_000), true);
          await store.saveCheckpoints(holder, [{ topic: 'orders', broker: 'b0', queueId: 0, nextOffset: next }]);
          acknowledged = next++;
          if (restarted) afterRestart++;
        } catch {
          failures++;
          await sleep(100);
        }
        assert.ok(Date.now() - t0 < 10_000, 'no call hangs past the timeouts');
      }
      await restart;
      assert.ok(failures > 0, 'the restart was noticed');
      assert.equal(afterRestart, 20, 'writes went on after the restart');
      const [cp] = await store.getCheckpoints(task.id, 'forward');
      assert.equal(cp?.nextOffset, acknowledged, 'the last acknowledged checkpoint is the stored one');
      console.log(`# PostgreSQL restart: ${acknowledged} checkpoint writes acknowledged, ${failures} failed while it was down`);
    } finally {
      await store.close();
    }
  });
});

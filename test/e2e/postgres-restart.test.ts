// PostgreSQL restarted in the middle of a 100,000-message stream. The store is a private server
// (test/support/private-postgres.ts) that is stopped for a few seconds while replicators (child
// processes) copy: their lease renewals and checkpoint writes fail, their tenures end, the
// reconciler cannot read the tasks; once the server is back the reconciler dispatches again and
// the new tenures resume from the checkpoints and the target's tail. The target must then hold
// every message exactly once, in each queue's order.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { ChildInvoker } from '../support/child-invoker.ts';
import { privatePostgresAvailable, startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';
import { readUntilQuiet, side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 8;
const MESSAGES = 100_000;
/** The restart starts once this many messages were sent, and the server stays down this long. */
const RESTART_AT = 30_000;
const DOWN_MS = 4000;
const admin: Principal = { tenant: 'pg-restart', role: 'admin', subject: 'pg-restart-test' };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('PostgreSQL restarted in the middle of a stream', { skip: !privatePostgresAvailable() }, () => {
  let pg: PrivatePostgres;
  before(async () => {
    pg = await startPrivatePostgres();
  });
  after(() => pg?.stop());

  it('100,000 messages, the store down for 4 s while replicators copy: 0 lost, 0 duplicated, order kept', async () => {
    const key = randomBytes(32);
    const env = {
      ...process.env,
      DATABASE_URL: pg.url,
      FERRY_SECRET_KEY: key.toString('base64'),
      FERRY_LEASE_TTL_MS: '2000',
      FERRY_REPLICATOR_BUDGET_MS: '60000',
      FERRY_PG_CONNECT_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'info',
    };
    const store: Store = await openStore({
      databaseUrl: pg.url,
      dataDir: '',
      postgres: { connectTimeoutMs: 1000, statementTimeoutMs: 5000 },
    });
    const invoker = new ChildInvoker(env, undefined, true);
    const a = side(await testCluster('v5'));
    const b = side(await testCluster('v4'));
    const topic = `pg_restart_${Date.now()}`;
    let reconciling = true;
    try {
      for (const s of [a, b])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
      const task = await new TaskService(store, aesGcmCipher(key), { requireManagedSide: false }).create(admin, {
        name: 'pg-restart',
        direction: 'one-way',
        source: { clusterType: 'self-built', clusterId: a.c.name, nameServer: a.c.nameServer, networkType: 'public' },
        target: { clusterType: 'self-built', clusterId: b.c.name, nameServer: b.c.nameServer, networkType: 'public' },
        filter: { topics: { include: [topic], exclude: [] } },
        idempotentResume: true,
        shards: 2,
      });
      const deps = { store, cipher: aesGcmCipher(key), log: createLogger('silent'), invoker };
      const tick = () => reconcile(deps, { redispatchAfterMs: 1000 });
      while ((await store.getTask(admin.tenant, task.id))!.status !== 'running') await tick();
      let failedTicks = 0;
      const reconciler = (async () => {
        while (reconciling) {
          await tick().catch(() => failedTicks++);
          await sleep(300);
        }
      })();

      const sent: string[] = [];
      let restart: { from: number; to: number; copied: number } | undefined;
      let restarting: Promise<void> | undefined;
      const targetCount = async () => {
        let n = 0;
        for (let q = 0; q < QUEUES; q++) n += await b.broker.maxOffset(b.addr, topic, q);
        return n;
      };
      for (let i = 0; i < MESSAGES; i += 100) {
        if (i === RESTART_AT) {
          const from = Date.now();
          const copied = await targetCount();
          restarting = pg.restart(DOWN_MS).then(() => {
            restart = { from, to: Date.now(), copied };
          });
        }
        const r = await a.broker.sendBatch(
          a.addr,
          topic,
          (i / 100) % QUEUES,
          Array.from({ length: 100 }, (_, j) => ({ body: Buffer.from(`m${i + j}`) })),
        );
        sent.push(...r.msgIds);
        await sleep(25);
      }
      await restarting;
      const perQueue = await readUntilQuiet(b, topic, QUEUES, { expect: sent.length, timeoutMs: 240_000 });
      reconciling = false;
      await reconciler;
      invoker.killAll();

      const got = perQueue.flat().map((m) => m.uniqKey!);
      const unique = new Set(got);
      const lost = sent.filter((id) => !unique.has(id)).length;
      let outOfOrder = 0;
      for (const messages of perQueue) {
        let last = -1;
        for (const m of messages) {
          const o = Number(m.properties.FERRY_ORIGIN_OFFSET);
          if (o <= last) outOfOrder++;
          last = Math.max(last, o);
        }
      }
      // The restart met running replicators: copying was under way (some but not all copied),
      // tenures ended while the store was gone and new ones took the shards after it came back.
      assert.ok(restart, 'the server was restarted');
      const { from, to } = restart;
      const taken = invoker.logs.flatMap((l) => l.lines.filter((x) => x.entry.msg === 'shard lease taken').map((x) => x.at));
      const before = taken.filter((at) => at < from).length;
      const afterwards = taken.filter((at) => at > to).length;
      const figures = { sent: sent.length, received: got.length, lost, duplicates: got.length - unique.size, outOfOrder };
      const restartFigures = { copiedAtRestart: restart.copied, downMs: to - from, failedReconcilerTicks: failedTicks };
      const tenures = { tenuresBefore: before, tenuresAfter: afterwards };
      console.log(`# PostgreSQL restart mid-stream: ${JSON.stringify({ ...figures, ...restartFigures, ...tenures })}`);
      assert.ok(restart.copied > 0 && restart.copied < MESSAGES, `copying was under way at the restart (${restart.copied} copied)`);
      assert.ok(failedTicks > 0, 'the reconciler met the store down');
      assert.ok(
        before >= 2 && afterwards >= 2,
        `both shards were held before the restart and taken again after (${before}, ${afterwards})`,
      );
      assert.equal(lost, 0, 'nothing lost');
      assert.equal(got.length - unique.size, 0, 'nothing duplicated');
      assert.equal(outOfOrder, 0, 'per-queue order kept');
      assert.equal(got.length, MESSAGES);
    } finally {
      reconciling = false;
      invoker.killAll();
      a.remoting.close();
      b.remoting.close();
      await store.close();
    }
  });
});

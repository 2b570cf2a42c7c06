// Chaos: replicators run in child processes that are SIGKILLed 20 times while 100,000 messages
// stream through and the flow's shard count changes up and down (1 → 4 → 2 → 3 → 1, each change a
// new shard layout). With idempotent resume nothing is lost, nothing is duplicated and every
// queue's order holds; without it nothing is lost and the duplicates are counted and reported.
// Every kill must land while messages move: the target's count grows between kills.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { ChildInvoker } from '../support/child-invoker.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 8;
const SHARD_STEPS = [4, 2, 3, 1];
const admin: Principal = { tenant: 'chaos', role: 'admin', subject: 'chaos-test' };

async function scenario(opts: { messages: number; kills: number; idempotentResume: boolean }) {
  const db: Throwaway<string> = await throwawayPostgres();
  const key = randomBytes(32);
  const env = {
    ...process.env,
    DATABASE_URL: db.value,
    FERRY_SECRET_KEY: key.toString('base64'),
    FERRY_LEASE_TTL_MS: '2000',
    FERRY_REPLICATOR_BUDGET_MS: '60000',
    LOG_LEVEL: 'warn',
  };
  const store: Store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const invoker = new ChildInvoker(env);
  const a = side(await testCluster('v5'));
  const b = side(await testCluster('v4'));
  const topic = `chaos_${opts.idempotentResume ? 'on' : 'off'}_${Date.now()}`;
  // Read by the reconciler loop below; cleared in `finally` too, so a failed run leaves no loop behind.
  let reconciling = true;
  try {
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    const task = await new TaskService(store, cipher, { requireManagedSide: false }).create(admin, {
      name: `chaos-${opts.idempotentResume}`,
      direction: 'one-way',
      source: { clusterType: 'self-built', clusterId: a.c.name, nameServer: a.c.nameServer, networkType: 'public' },
      target: { clusterType: 'self-built', clusterId: b.c.name, nameServer: b.c.nameServer, networkType: 'public' },
      filter: { topics: { include: [topic], exclude: [] } },
      idempotentResume: opts.idempotentResume,
      shards: 1,
    });
    const deps = { store, cipher, log: createLogger('warn'), invoker };
    const tick = () => reconcile(deps, { redispatchAfterMs: 1000 });
    while ((await store.getTask('chaos', task.id))!.status !== 'running') await tick();

    const reconciler = (async () => {
      while (reconciling) {
        await tick().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    // Produce in the background while a killer takes the replicator down again and again.
    const sent: string[] = [];
    const producer = (async () => {
      for (let i = 0; i < opts.messages; i += 100) {
        const r = await a.broker.sendBatch(
          a.addr,
          topic,
          (i / 100) % QUEUES,
          Array.from({ length: 100 }, (_, j) => ({ body: Buffer.from(`m${i + j}`) })),
        );
        sent.push(...r.msgIds);
        // Spread over about 8 s per kill (a kill waits for the restarted replicator to move the
        // target again, seconds on a busy machine), so every kill lands while messages move.
        await new Promise((res) => setTimeout(res, (opts.kills * 8000) / (opts.messages / 100)));
      }
    })();
    // The target's size, to see that each kill interrupted copying.
    const targetCount = async () => {
      let n = 0;
      for (let q = 0; q < QUEUES; q++) n += await b.broker.maxOffset(b.addr, topic, q);
      return n;
    };
    let kills = 0;
    let step = 0;
    let producing = true;
    void producer.finally(() => (producing = false));
    const movedBetweenKills: number[] = [];
    let before = await targetCount();
    const killsUntil = Date.now() + 300_000;
    while (kills < opts.kills && Date.now() < killsUntil) {
      await new Promise((r) => setTimeout(r, 1200 + Math.random() * 800));
      // Every few kills the shard count moves: the next layout starts once the old one stopped.
      if (
        kills % Math.ceil(opts.kills / (SHARD_STEPS.length + 1)) === 0 &&
        kills > 0 &&
        step < SHARD_STEPS.length &&
        opts.idempotentResume
      ) {
        const t = (await store.getTask('chaos', task.id))!;
        await store.updateTask('chaos', t.id, t.version, { spec: { ...t.spec, shards: SHARD_STEPS[step++] } });
      }
      const now = await targetCount();
      if (!producing && now >= sent.length) break; // everything is across: a kill would interrupt nothing
      if (now === before) continue; // nothing moved since the last kill: wait for the copy to run again
      if (invoker.killOne()) {
        kills++;
        movedBetweenKills.push(now - before);
        before = now;
      }
    }
    await producer;

    // Let it catch up, then count what the target holds.
    const deadline = Date.now() + 180_000;
    let got: string[] = [];
    let outOfOrder = 0;
    let stableSince = 0;
    while (Date.now() < deadline) {
      got = [];
      outOfOrder = 0;
      for (let q = 0; q < QUEUES; q++) {
        let offset = 0;
        // Source queue q lands on target queue q: its origin offsets must only grow there (a
        // duplicate after a crash would show as a step back).
        let last = -1;
        for (;;) {
          const r = await b.broker.pull(b.addr, { topic, queueId: q, offset, maxMessages: 32 });
          if (r.messages.length === 0) break;
          for (const m of r.messages) {
            got.push(m.uniqKey!);
            const o = Number(m.properties.FERRY_ORIGIN_OFFSET);
            if (o <= last && opts.idempotentResume) outOfOrder++;
            last = Math.max(last, o);
          }
          offset = r.nextBeginOffset;
        }
      }
      if (got.length >= sent.length) {
        stableSince ||= Date.now();
        if (Date.now() - stableSince > 3000) break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    reconciling = false;
    await reconciler;
    invoker.killAll();
    const unique = new Set(got);
    const lost = sent.filter((id) => !unique.has(id)).length;
    const plans = await store.getShardPlans(task.id);
    return {
      sent: sent.length,
      received: got.length,
      lost,
      duplicates: got.length - unique.size,
      kills,
      movedBetweenKills,
      outOfOrder,
      layouts: plans[0]?.generation ?? 0,
    };
  } finally {
    reconciling = false;
    invoker.killAll();
    a.remoting.close();
    b.remoting.close();
    await store.close();
    await db.drop();
  }
}

describe('replicator killed with SIGKILL mid-stream', () => {
  it('100,000 messages, 20 kills, idempotent resume on: 0 lost, 0 duplicated', async () => {
    const r = await scenario({ messages: 100_000, kills: 20, idempotentResume: true });
    console.log(`# chaos (idempotent resume on): ${JSON.stringify(r)}`);
    assert.equal(r.kills, 20);
    assert.ok(
      r.movedBetweenKills.every((n) => n > 0),
      'every kill interrupted a copy that was moving',
    );
    assert.equal(r.lost, 0);
    assert.equal(r.duplicates, 0);
    assert.equal(r.outOfOrder, 0, 'per-queue order kept');
    assert.equal(r.received, 100_000);
    assert.ok(
      r.layouts >= 1 + SHARD_STEPS.length,
      `the shard count changed ${SHARD_STEPS.length} times mid-stream (layouts: ${r.layouts})`,
    );
  });

  it('idempotent resume off: 0 lost, duplicates counted and reported', async () => {
    const r = await scenario({ messages: 20_000, kills: 5, idempotentResume: false });
    console.log(`# chaos (idempotent resume off): ${JSON.stringify(r)} — duplicates are expected at-least-once delivery`);
    assert.equal(r.lost, 0);
    assert.equal(r.received, r.sent + r.duplicates);
  });
});

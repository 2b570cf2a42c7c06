// Chaos: replicators run in child processes that are SIGKILLed 20 times while 100,000 messages
// stream through and the flow's shard count changes up and down (1 → 4 → 2 → 3 → 1, each change a
// new shard layout). With idempotent resume nothing is lost, nothing is duplicated and every
// queue's order holds; without it nothing is lost and the duplicates are counted and reported.
// Every kill must land while messages move, and the children's own logs and checkpoints show it:
// the victim held its shard's lease and had been copying for a while, it wrote checkpoints for
// its queues, the target's count grew since the previous kill, and (with idempotent resume) each
// queue it left behind was resumed by a later replicator that read the target's tail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { isOwnQueue } from '../../shared/replication/assignment.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { ChildInvoker, type ChildLog } from '../support/child-invoker.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { readUntilQuiet, side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 8;
const SHARD_STEPS = [4, 2, 3, 1];
const admin: Principal = { tenant: 'chaos', role: 'admin', subject: 'chaos-test' };
/** A victim has been copying at least this long (its copiers started, messages flowing). */
const COPYING_FOR_MS = 1500;
/** …and not so long that it may be closing at the end of its 60-s budget (clean, exact checkpoints). */
const COPYING_AT_MOST_MS = 45_000;
const RESUMED = 'resuming after an unclean stop: target tail read';

/** One kill, as the test saw it. */
interface Kill {
  at: number;
  pid: number;
  shard: number;
  shards: number;
  /** The victim's lease epoch, from its own 'shard lease taken' line. */
  epoch: number;
  /** The target's message count at the kill, and its growth since the previous kill. */
  target: number;
  moved: number;
  /** Queues the victim wrote checkpoints for (never closed: a crash), with their next offsets. */
  checkpointed: { queue: string; nextOffset: number }[];
}

const linesOf = (l: ChildLog, msg: string) => l.lines.filter((x) => x.entry.msg === msg);

async function scenario(opts: { messages: number; kills: number; idempotentResume: boolean }) {
  const db: Throwaway<string> = await throwawayPostgres();
  const key = randomBytes(32);
  const env = {
    ...process.env,
    DATABASE_URL: db.value,
    FERRY_SECRET_KEY: key.toString('base64'),
    FERRY_LEASE_TTL_MS: '2000',
    FERRY_REPLICATOR_BUDGET_MS: '60000',
    // The children's info lines are the evidence: lease taken (epoch), copying, resumed from the tail.
    LOG_LEVEL: 'info',
  };
  const store: Store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const invoker = new ChildInvoker(env, undefined, true);
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
    // Produce in the background while a killer takes the replicator down again and again. The
    // messages come in kills + 1 shares, each released by a kill, so the last share is produced only
    // after the last kill: copying still goes on at every kill, however fast the replicators are.
    const sent: string[] = [];
    const kills: Kill[] = [];
    const producer = (async () => {
      for (let i = 0; i < opts.messages; i += 100) {
        while (kills.length < opts.kills && i >= ((kills.length + 1) / (opts.kills + 1)) * opts.messages)
          await new Promise((res) => setTimeout(res, 200));
        const r = await a.broker.sendBatch(
          a.addr,
          topic,
          (i / 100) % QUEUES,
          Array.from({ length: 100 }, (_, j) => ({ body: Buffer.from(`m${i + j}`) })),
        );
        sent.push(...r.msgIds);
        await new Promise((res) => setTimeout(res, (opts.kills * 8000) / (opts.messages / 100)));
      }
    })();
    // The target's size, to see that each kill interrupted copying.
    const targetCount = async () => {
      let n = 0;
      for (let q = 0; q < QUEUES; q++) n += await b.broker.maxOffset(b.addr, topic, q);
      return n;
    };
    let step = 0;
    let movedAt = 0;
    let producing = true;
    void producer.finally(() => (producing = false));
    let before = await targetCount();
    const killsUntil = Date.now() + 600_000;
    while (kills.length < opts.kills && Date.now() < killsUntil) {
      await new Promise((r) => setTimeout(r, 1200 + Math.random() * 800));
      // Every few kills the shard count moves (once per step): the next layout starts once the old one stopped.
      const n = kills.length;
      if (opts.idempotentResume && n > 0 && n % Math.ceil(opts.kills / (SHARD_STEPS.length + 1)) === 0 && n !== movedAt) {
        if (step < SHARD_STEPS.length) {
          const t = (await store.getTask('chaos', task.id))!;
          await store.updateTask('chaos', t.id, t.version, { spec: { ...t.spec, shards: SHARD_STEPS[step++] } });
        }
        movedAt = n;
      }
      const now = await targetCount();
      if (!producing && now >= sent.length) break; // everything is across: a kill would interrupt nothing
      // A victim holds its lease and has been copying its queues for a while (by its own log).
      const victims = invoker.liveLogs().filter((l) => {
        const copying = linesOf(l, 'shard copying')[0];
        const age = copying ? Date.now() - copying.at : -1;
        return (
          Number(copying?.entry.queues) > 0 &&
          age >= COPYING_FOR_MS &&
          age <= COPYING_AT_MOST_MS &&
          linesOf(l, 'shard lease taken').length > 0 &&
          linesOf(l, 'replicator invocation done').length === 0
        );
      });
      // …and has copied something itself: an idle tenure writes no checkpoint (nothing moved for its
      // queues since it took them), so killing it would interrupt nothing.
      const written = await store.getCheckpoints(task.id, 'forward');
      const copied = victims.filter((l) => {
        const epoch = Number(linesOf(l, 'shard lease taken')[0]!.entry.epoch);
        return written.some(
          (c) => c.epoch === epoch && !c.exact && isOwnQueue({ topic: c.topic, brokerName: c.broker, queueId: c.queueId }, l.job),
        );
      });
      const victim = copied[Math.floor(Math.random() * copied.length)];
      if (!victim || !(await invoker.kill(victim.pid))) continue;
      const at = Date.now();
      // Let a checkpoint write the victim had in flight land (or not) before reading what it left.
      await new Promise((r) => setTimeout(r, 500));
      const epoch = Number(linesOf(victim, 'shard lease taken')[0]!.entry.epoch);
      const checkpointed = (await store.getCheckpoints(task.id, 'forward'))
        .filter(
          (c) => c.epoch === epoch && !c.exact && isOwnQueue({ topic: c.topic, brokerName: c.broker, queueId: c.queueId }, victim.job),
        )
        .map((c) => ({ queue: `${c.topic}/${c.broker}/${c.queueId}`, nextOffset: c.nextOffset }));
      const { shard, shards = 1 } = victim.job;
      kills.push({ at, pid: victim.pid, shard, shards, epoch, target: now, moved: now - before, checkpointed });
      before = now;
    }
    await producer;

    // Let it catch up, reading the target until nothing new comes; source queue q lands on target
    // queue q, where its origin offsets must only grow (a duplicate after a crash would step back).
    const perQueue = await readUntilQuiet(b, topic, QUEUES, { expect: sent.length, timeoutMs: 240_000 });
    const got = perQueue.flat().map((m) => m.uniqKey!);
    let outOfOrder = 0;
    for (const messages of perQueue) {
      let last = -1;
      for (const m of messages) {
        const o = Number(m.properties.FERRY_ORIGIN_OFFSET);
        if (o <= last && opts.idempotentResume) outOfOrder++;
        last = Math.max(last, o);
      }
    }
    // Each queue a victim left behind is taken up again by a replicator that reads the target's
    // tail first (its log line, after the kill, from at least the victim's last checkpoint).
    const resumedAfter = (k: Kill, c: Kill['checkpointed'][number]) =>
      invoker.logs.some((l) =>
        linesOf(l, RESUMED).some((x) => x.at > k.at && x.entry.queue === c.queue && Number(x.entry.checkpoint) >= c.nextOffset),
      );
    const notResumed = () =>
      kills.flatMap((k, i) => k.checkpointed.filter((c) => !resumedAfter(k, c)).map((c) => `kill ${i + 1}: ${c.queue}`));
    for (const until = Date.now() + 120_000; opts.idempotentResume && notResumed().length > 0 && Date.now() < until; )
      await new Promise((r) => setTimeout(r, 1000));
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
      notResumed: opts.idempotentResume ? notResumed() : [],
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

/** Every kill landed on a replicator that was copying, and messages moved between kills. */
function assertKillsInterruptedCopying(kills: readonly Kill[], expected: number): void {
  assert.equal(kills.length, expected, `${kills.length} of ${expected} kills landed on a copying replicator`);
  for (const [i, k] of kills.entries()) {
    assert.ok(k.moved > 0, `kill ${i + 1}: the target grew since the previous kill (${k.moved})`);
    assert.ok(k.checkpointed.length > 0, `kill ${i + 1}: the victim (shard ${k.shard}/${k.shards}, epoch ${k.epoch}) wrote checkpoints`);
  }
}

const summary = (r: Awaited<ReturnType<typeof scenario>>) =>
  JSON.stringify({
    ...r,
    kills: r.kills.length,
    movedBetweenKills: r.kills.map((k) => k.moved),
    queuesPerKill: r.kills.map((k) => k.checkpointed.length),
  });

describe('replicator killed with SIGKILL mid-stream', () => {
  it('100,000 messages, 20 kills, idempotent resume on: 0 lost, 0 duplicated', async () => {
    const r = await scenario({ messages: 100_000, kills: 20, idempotentResume: true });
    console.log(`# chaos (idempotent resume on): ${summary(r)}`);
    assertKillsInterruptedCopying(r.kills, 20);
    assert.deepEqual(r.notResumed, [], 'every queue a victim left was resumed after reading the target tail');
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
    console.log(`# chaos (idempotent resume off): ${summary(r)} — duplicates are expected at-least-once delivery`);
    assertKillsInterruptedCopying(r.kills, 5);
    assert.equal(r.lost, 0);
    assert.equal(r.received, r.sent + r.duplicates);
  });
});

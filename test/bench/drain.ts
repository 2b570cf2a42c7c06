// `npm run bench -- drain [messages] [queues]`: a backlog (default 1,000,000 messages of 512 B over
// 64 queues) drained from one fresh 5.3.3 cluster to another, twice: with the flow's shards pinned
// to 1, then with `shards: "auto"`. As on a function platform, the reconciler (every second here)
// dispatches replicator invocations and each one is a child process (a bundle of
// infra/local/replicator-process.ts) with the default 60-s budget, so hand-overs are part of the
// figures. Drain rate = messages / (first to last replica's target store time). Prints the shard
// counts the reconciler chose, the peak total RSS of the replicator processes, duplicates, then
// ONE JSON line. With FERRY_TESTBED set (a shared, busy machine) the test bed's 5.3.3 pair is used.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import type { RocketMQCluster } from '../testbed/cluster.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { BrokerBusyError } from '../../shared/rocketmq/remoting/errors.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { bundleReplicatorEntry, ChildInvoker } from '../support/child-invoker.ts';
import { throwawayPostgres } from '../support/databases.ts';
import { side, type Side } from '../support/sides.ts';
import { TESTBED_ENV, testCluster } from '../support/testbed.ts';
import type { Bench } from './run.ts';
import { startPair } from './_clusters.ts';

const BODY = Buffer.alloc(512, 'd');
const STALL_MS = 90_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const admin: Principal = { tenant: 'bench', role: 'admin', subject: 'drain-bench' };
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

async function produce(s: Side, topic: string, queues: number, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: queues }, async (_, q) => {
      const mine = Math.floor(count / queues) + (q < count % queues ? 1 : 0);
      for (let sent = 0; sent < mine; ) {
        const n = Math.min(64, mine - sent);
        try {
          await s.broker.sendBatch(
            s.addr,
            topic,
            q,
            Array.from({ length: n }, () => ({ body: BODY })),
          );
          sent += n;
        } catch (err) {
          if (!(err instanceof BrokerBusyError)) throw err;
          await sleep(50);
        }
      }
    }),
  );
}

async function total(s: Side, topic: string, queues: number): Promise<number> {
  const offsets = await Promise.all(Array.from({ length: queues }, (_, q) => s.broker.maxOffset(s.addr, topic, q)));
  return offsets.reduce((a, b) => a + b, 0);
}

/** Store time of the first and the last message of each target queue: the span the drain took on the target. */
async function span(s: Side, topic: string, queues: number): Promise<{ first: number; last: number }> {
  let first = Infinity;
  let last = 0;
  for (let q = 0; q < queues; q++) {
    const max = await s.broker.maxOffset(s.addr, topic, q);
    if (max === 0) continue;
    const [a] = (await s.broker.pull(s.addr, { topic, queueId: q, offset: 0, maxMessages: 1 })).messages;
    const [z] = (await s.broker.pull(s.addr, { topic, queueId: q, offset: max - 1, maxMessages: 1 })).messages;
    if (a) first = Math.min(first, a.storeTimestamp);
    if (z) last = Math.max(last, z.storeTimestamp);
  }
  return { first, last };
}

const rssKb = (pid: number): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
};

const bench: Bench = async (args) => {
  const [count = 1_000_000, queues = 64] = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const shared = Boolean(process.env[TESTBED_ENV]);
  const owned: RocketMQCluster[] = [];
  if (!shared) owned.push(...(await startPair(['drain-a', 'drain-b'])));
  const a = side(shared ? await testCluster('v5') : owned[0]!.info);
  const b = side(shared ? await testCluster('v5acl') : owned[1]!.info);
  console.log(
    `drain bench: ${count} messages of ${BODY.length} B over ${queues} queues, ${a.c.name} → ${b.c.name}; each invocation a child ` +
      `process (60-s budget); load average ${load()}`,
  );
  const db = await throwawayPostgres();
  const key = randomBytes(32);
  const store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const entry = await bundleReplicatorEntry();
  const env = { ...process.env, DATABASE_URL: db.value, FERRY_SECRET_KEY: key.toString('base64'), LOG_LEVEL: 'warn' };
  const results: Record<string, { rate: number; seconds: number; shards: string; peakRssMb: number; duplicates: number }> = {};
  const invoker = new ChildInvoker(env, entry);
  try {
    // An unmeasured warm-up drain first: fresh brokers store and serve their first messages slowly.
    for (const mode of ['warm-up', 1, 'auto'] as const) {
      const topic = `Drain_${mode}_${Date.now().toString(36)}`;
      for (const s of [a, b])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6 });
      const t0 = performance.now();
      const n = mode === 'warm-up' ? Math.min(50_000, count) : count;
      await produce(a, topic, queues, n);
      console.log(`  [shards ${mode}] backlog of ${n} produced in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const task = await new TaskService(store, cipher, { requireManagedSide: false }).create(admin, {
        name: `drain-${mode}`,
        direction: 'one-way',
        source: { clusterType: 'self-built', clusterId: a.c.name, nameServer: a.c.nameServer, networkType: 'public' },
        target: {
          clusterType: 'self-built',
          clusterId: b.c.name,
          nameServer: b.c.nameServer,
          networkType: 'public',
          ...(b.c.acl ? { acl: { enabled: true, accessKey: b.c.acl.accessKey, secretKey: b.c.acl.secretKey } } : {}),
        },
        startOffset: { type: 'earliest' },
        filter: { topics: { include: [topic], exclude: [] } },
        shards: mode === 'warm-up' ? 1 : mode,
      });
      const deps = { store, cipher, log: createLogger('warn'), invoker };
      const counts = new Set<number>();
      let peakRssKb = 0;
      let last = -1;
      let movedAt = Date.now();
      let got = 0;
      for (;;) {
        await reconcile(deps, { redispatchAfterMs: 5000 });
        const plan = (await store.getShardPlans(task.id))[0];
        if (plan) counts.add(plan.shardCount);
        peakRssKb = Math.max(
          peakRssKb,
          invoker.pids().reduce((n, pid) => n + rssKb(pid), 0),
        );
        got = await total(b, topic, queues);
        if (got !== last) {
          last = got;
          movedAt = Date.now();
        }
        if (got >= n) break;
        if (Date.now() - movedAt > STALL_MS) throw new Error(`[shards ${mode}] stalled at ${got} of ${n}`);
        await sleep(1000);
      }
      await sleep(3000); // late duplicates would show here
      got = await total(b, topic, queues);
      const t = (await store.getTask('bench', task.id))!;
      await store.updateTask('bench', task.id, t.version, { desiredState: 'stopped', status: 'stopped' });
      const { first, last: end } = await span(b, topic, queues);
      const seconds = (end - first) / 1000;
      results[String(mode)] = {
        rate: n / seconds,
        seconds,
        shards: [...counts].join('→'),
        peakRssMb: Math.round(peakRssKb / 1024),
        duplicates: got - n,
      };
      console.log(
        `  [shards ${mode}] drained in ${seconds.toFixed(1)} s: ${(n / seconds).toFixed(0)} msgs/s; shard counts ` +
          `${[...counts].join(' → ')}; peak RSS of the replicators ${Math.round(peakRssKb / 1024)} MiB; duplicates ${got - n}; load ` +
          `average ${load()}`,
      );
      await sleep(5000); // the replicators see the stop and exit
      invoker.killAll();
    }
  } finally {
    invoker.killAll();
    await store.close();
    await db.drop();
    a.remoting.close();
    b.remoting.close();
    await Promise.all(owned.map((c) => c.stop()));
  }
  const one = results['1']!;
  const auto = results.auto!;
  console.log(`  auto vs 1 shard: ${(auto.rate / one.rate).toFixed(2)}× on this ${availableParallelism()}-core machine`);
  return {
    messages: count,
    queues,
    oneShardMsgsPerSec: Math.round(one.rate),
    autoMsgsPerSec: Math.round(auto.rate),
    autoShardCounts: auto.shards,
    speedup: Math.round((auto.rate / one.rate) * 100) / 100,
    oneShardPeakRssMb: one.peakRssMb,
    autoPeakRssMb: auto.peakRssMb,
    duplicates: one.duplicates + auto.duplicates,
  };
};
export default bench;

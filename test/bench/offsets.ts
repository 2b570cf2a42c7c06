// `npm run bench -- offsets [groups] [queues]`: consumer offset translation at scale, and what
// recording offset pairs costs the replicator. Two 5.3.3 clusters (the test bed's `v5` → `v5acl`
// with FERRY_TESTBED set, else fresh ones), a PostgreSQL store, the product as a user runs it
// (`npm start`'s runtime, tasks through the HTTP API).
//
// - Pairs' cost (run first, on clusters not yet holding the translation's commits, with the offset
//   sync timer set past the drains): a backlog of DRAIN_COUNT 1-KiB messages over 8 queues drained by
//   a one-shard task with offset sync on (pairs recorded in the checkpoint transaction) and by one
//   with it off, in alternating rounds on fresh topics after one unmeasured drain; rate = count /
//   (last − first replica's target store time).
// - Translation (default 1,000 groups × 100 queues: ten topics of `queues / 10` queues): the groups
//   are made on A, a task A → B (groups filter on them) starts, metadata sync makes them on B, and
//   64 messages per queue are replicated, so the replicator records its offset pairs. Then the
//   runtime is stopped and every group commits an offset on every queue on A (a random one of the
//   64); one translation cycle (syncTaskOffsets, as the runtime's timer runs it) is timed in this
//   process, then a second with nothing changed.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pLimit from 'p-limit';
import { createLogger } from '../../shared/log.ts';
import { syncTaskOffsets } from '../../shared/replication/offset-sync.ts';
import { ConsumerOffsetClient } from '../../shared/rocketmq/remoting/consumer-offsets.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { throwawayPostgres } from '../support/databases.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import type { Bench } from './run.ts';
import { startPair } from './_clusters.ts';

const TOPICS = 10;
const PER_QUEUE = 64;
const DRAIN_COUNT = 50_000;
const DRAIN_QUEUES = 8;
const ROUNDS = 4;
const BODY = Buffer.alloc(1024, 'o');
const load = () => loadavg()[0]!.toFixed(1);
const secs = (ms: number) => Math.round(ms / 10) / 100;

async function clusters(): Promise<{ a: ClusterInfo; b: ClusterInfo; stop: () => Promise<void> }> {
  const shared = process.env.FERRY_TESTBED;
  if (shared) {
    const bed = JSON.parse(shared) as Record<string, ClusterInfo>;
    return { a: bed.v5!, b: bed.v5acl!, stop: async () => undefined };
  }
  const [ca, cb] = await startPair(['bench-os-a', 'bench-os-b']);
  return { a: ca.info, b: cb.info, stop: () => Promise.all([ca.stop(), cb.stop()]).then(() => undefined) };
}

async function newTopic(sides: Side[], name: string, queues: number): Promise<void> {
  for (const s of sides)
    await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: name, readQueueNums: queues, writeQueueNums: queues, perm: 6 });
}

/** `perQueue` messages to every queue of the topic, batches of 32 (one born time a batch). */
async function produce(s: Side, topic: string, queues: number, perQueue: number): Promise<void> {
  await pLimit(4).map(
    Array.from({ length: queues }, (_, q) => q),
    async (q) => {
      for (let n = 0; n < perQueue; n += 32) {
        const batch = Array.from({ length: Math.min(32, perQueue - n) }, () => ({ body: BODY }));
        await s.broker.sendBatch(s.addr, topic, q, batch);
      }
    },
  );
}

async function until(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function translation(rt: Runtime, a: Side, b: Side, groups: number, queues: number, tag: string, secretKey: string) {
  const api = client(rt);
  const perTopic = Math.max(1, Math.round(queues / TOPICS));
  const topics = Array.from({ length: TOPICS }, (_, i) => `bench_os_${tag}_t${i}`);
  const groupNames = Array.from({ length: groups }, (_, i) => `bench_os_${tag}_g${i}`);
  for (const t of topics) await newTopic([a, b], t, perTopic);
  for (let i = 0; i < groups; i += 1000)
    await a.admin.createOrUpdateGroupList(
      a.addr,
      groupNames.slice(i, i + 1000).map((groupName) => ({ groupName })),
    );
  const created = await api('POST', '/v1/tasks', {
    name: `bench-offsets-${tag}`,
    direction: 'one-way',
    source: endpointOf(a.c),
    target: endpointOf(b.c),
    startOffset: { type: 'earliest' },
    filter: { topics: { include: [`bench_os_${tag}_t.*`], exclude: [] } },
    groups: { include: [`bench_os_${tag}_g.*`], exclude: [] },
  });
  if (created.status !== 201) throw new Error(`task: ${created.status} ${created.text}`);
  const taskId = created.body.id as string;
  await waitForStatus(api, taskId, 'running', 120_000);
  await until(`${groups} groups on B`, 300_000, async () => {
    const onB = await b.admin.getAllGroups(b.addr);
    return groupNames.every((g) => onB.has(g));
  });
  for (const t of topics) await produce(a, t, perTopic, PER_QUEUE);
  const total = TOPICS * perTopic * PER_QUEUE;
  await until(`${total} replicas on B`, 300_000, async () => {
    let n = 0;
    for (const t of topics) for (let q = 0; q < perTopic; q++) n += await b.broker.maxOffset(b.addr, t, q);
    return n >= total;
  });
  await api('POST', `/v1/tasks/${taskId}/stop`);
  await waitForStatus(api, taskId, 'stopped', 120_000);
  const dbUrl = rt.databaseUrl!;
  await rt.stop();

  // Every group commits a random offset on every queue on A.
  const offsets = new ConsumerOffsetClient(a.remoting);
  const t0 = performance.now();
  const commits = groupNames.flatMap((g) => topics.flatMap((t) => Array.from({ length: perTopic }, (_, q) => ({ g, t, q }))));
  await pLimit(64).map(commits, (c) => offsets.updateOffset(a.addr, c.g, c.t, c.q, 1 + Math.floor(Math.random() * PER_QUEUE)));
  console.log(`  ${commits.length} commits made on A in ${secs(performance.now() - t0)} s (not measured)`);

  const store = await openStore({ databaseUrl: dbUrl, dataDir: '' });
  try {
    // The store's share of a cycle: time inside each store call (concurrent calls overlap), by method.
    const storeMs = new Map<string, number>();
    const timed = new Proxy(store, {
      get(target, name, receiver) {
        const v = Reflect.get(target, name, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const t0 = performance.now();
          try {
            return await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            storeMs.set(String(name), (storeMs.get(String(name)) ?? 0) + performance.now() - t0);
          }
        };
      },
    });
    const deps = { store: timed, cipher: aesGcmCipher(Buffer.from(secretKey, 'base64')), log: createLogger('warn') };
    const cycle = async () => {
      // The task is stopped: a cycle is what the timer would run for it were it running.
      const row = (await store.getTask('default', taskId))!;
      storeMs.clear();
      const started = performance.now();
      const r = await syncTaskOffsets({ ...row, desiredState: 'running', status: 'running' }, deps);
      const inStore = [...storeMs].map(([k, v]) => `${k} ${secs(v)} s`).join(', ');
      return { ...r, seconds: secs(performance.now() - started), inStore };
    };
    const first = await cycle();
    console.log(
      `  first cycle: ${first.seconds} s — ${first.groups} groups, ${first.synced} synced, ${first.noMapping} no mapping, ` +
        `${first.skipped} skipped, ${first.failed} failed (${first.outcome}); load ${load()}\n    in store calls: ${first.inStore}`,
    );
    const again = await cycle();
    console.log(
      `  second cycle, nothing changed: ${again.seconds} s — ${again.synced} synced (${again.outcome}); load ${load()}` +
        `\n    in store calls: ${again.inStore}`,
    );
    return { commits: commits.length, first, again };
  } finally {
    await store.close();
  }
}

/** One round of the pairs' cost: a fresh topic's backlog drained by a one-shard task; replicas per second. */
async function drain(rt: Runtime, a: Side, b: Side, offsetSync: boolean, tag: string): Promise<number> {
  const api = client(rt);
  const topic = `bench_os_${tag}`;
  await newTopic([a, b], topic, DRAIN_QUEUES);
  await produce(a, topic, DRAIN_QUEUES, DRAIN_COUNT / DRAIN_QUEUES);
  const created = await api('POST', '/v1/tasks', {
    name: topic,
    direction: 'one-way',
    source: endpointOf(a.c),
    target: endpointOf(b.c),
    startOffset: { type: 'earliest' },
    filter: { topics: { include: [topic], exclude: [] } },
    shards: 1,
    offsetSync: { enabled: offsetSync, nothingLeftBehind: false },
  });
  if (created.status !== 201) throw new Error(`task: ${created.status} ${created.text}`);
  const taskId = created.body.id as string;
  const got = (await readUntilQuiet(b, topic, DRAIN_QUEUES, { expect: DRAIN_COUNT, timeoutMs: 600_000, quietMs: 3000 })).flat();
  await api('POST', `/v1/tasks/${taskId}/stop`);
  if (got.length < DRAIN_COUNT) throw new Error(`${topic}: ${got.length} of ${DRAIN_COUNT} replicated`);
  const times = got.map((m) => m.storeTimestamp);
  const spanMs = Math.max(...times) - Math.min(...times);
  return Math.round(DRAIN_COUNT / Math.max(spanMs / 1000, 0.001));
}

const bench: Bench = async (args) => {
  const [groups = 1000, queues = 100] = args.filter((x) => /^\d+$/.test(x)).map(Number);
  const secretKey = randomBytes(32).toString('base64');
  const cs = await clusters();
  const a = side(cs.a);
  const b = side(cs.b);
  const tag = Date.now().toString(36);
  const env = {
    FERRY_SECRET_KEY: secretKey,
    LOG_LEVEL: 'warn',
    FERRY_METADATA_SYNC_INTERVAL_MS: '5000',
    FERRY_RECONCILE_INTERVAL_MS: '1000',
  };
  try {
    console.log(`offsets bench: ${groups} groups × ${queues} queues, ${cs.a.name} → ${cs.b.name}, PostgreSQL store; load ${load()}`);
    // First, on clusters not yet holding the translation's 100,000 commits. The translation cycle does
    // not run meanwhile (its timer set past the drains): what is compared is the replicator with and
    // without recording pairs.
    console.log(`pairs' cost: ${DRAIN_COUNT} messages of 1 KiB over ${DRAIN_QUEUES} queues, one shard, ${ROUNDS} rounds each way`);
    const rt = await startRuntime({ store: 'postgres', env: { ...env, FERRY_METADATA_SYNC_INTERVAL_MS: '3600000' } });
    const rates = { on: [] as number[], off: [] as number[] };
    try {
      // Unmeasured: the brokers' and the runtime's first drain is slower whichever way it goes.
      console.log(`  warm-up drain (not counted): ${await drain(rt, a, b, true, `${tag}_warm`)} msgs/s`);
      for (let r = 0; r < ROUNDS; r++) {
        // Alternating which goes first, so a drift of the machine falls on both.
        for (const on of r % 2 === 0 ? [true, false] : [false, true]) {
          const rate = await drain(rt, a, b, on, `${tag}_${on ? 'on' : 'off'}${r}`);
          rates[on ? 'on' : 'off'].push(rate);
          console.log(`  round ${r + 1}, offset sync ${on ? 'on ' : 'off'}: ${rate} msgs/s (load ${load()})`);
        }
      }
    } finally {
      await rt.stop();
    }

    const db = await throwawayPostgres();
    let t: Awaited<ReturnType<typeof translation>>;
    try {
      t = await translation(await startRuntime({ store: 'postgres', databaseUrl: db.value, env }), a, b, groups, queues, tag, secretKey);
    } finally {
      await db.drop();
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((s, x) => s + x, 0) / xs.length);
    const ratio = Math.round((mean(rates.on) / mean(rates.off)) * 1000) / 1000;
    console.log(`  mean with pairs ${mean(rates.on)} msgs/s, without ${mean(rates.off)} msgs/s: ${ratio}× (goal ≥ 0.95)`);
    return {
      groups,
      queues,
      commits: t.commits,
      firstCycleS: t.first.seconds,
      firstCycleSynced: t.first.synced,
      firstCycleFailed: t.first.failed,
      firstCycleNoMapping: t.first.noMapping,
      secondCycleS: t.again.seconds,
      drainWithPairs: mean(rates.on),
      drainWithoutPairs: mean(rates.off),
      drainRatio: ratio,
      ratesWithPairs: rates.on.join(' '),
      ratesWithoutPairs: rates.off.join(' '),
      loadAvg1m: Number(load()),
    };
  } finally {
    a.remoting.close();
    b.remoting.close();
    await cs.stop();
  }
};

export default bench;

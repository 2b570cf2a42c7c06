// `npm run bench -- replication --grpc [count]` and `npm run bench -- replication --grpc --soak [minutes]`:
// the gRPC routes beside the remoting one, on the product as a user runs it (`npm start` on
// PostgreSQL, replicators in-process, tasks made through the HTTP API), between two 5.3.3 clusters
// (the test bed's `v5` → `v5acl` with FERRY_TESTBED set, else clusters started for the run).
//
// - Drain (default): per route (remoting→remoting, remoting→gRPC, gRPC→remoting, gRPC→gRPC) a task
//   over a fresh 8-queue topic, `shards: 1`, started at `latest` (a gRPC source starts where its
//   consumer group does); once it runs, `count` 1-KiB messages are sent to the source as fast as one
//   remoting client sends (batches of 32). Rate = count / (last − first replica's target store time);
//   the target is read back over remoting: lost and duplicated by producer message id.
// - Soak: two tasks at once, remoting→gRPC and gRPC→remoting, a steady RATE messages/s each for
//   `minutes` (default 10; replicators hand over every 300 s inside it). The runtime's resident set is
//   sampled every 10 s, with its heap in use and external memory from its /metrics: growth = last
//   minute's mean over the second minute's (the first holds start-up), and a per-minute series.
//   Error- and warning-level lines of the gRPC client (`"client":"rocketmq-grpc"`) and of Ferry are
//   counted from the runtime's log; at the end lost and duplicated per task.
import { loadavg } from 'node:os';
import type { Bench } from './run.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';
import { rssKb } from './_proc-stats.ts';

const QUEUES = 8;
const BODY = Buffer.alloc(1024, 'g');
const SOAK_RATE = 200;
const load = () => loadavg()[0]!.toFixed(1);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Kind = 'remoting' | 'grpc';
type Figures = Awaited<ReturnType<Bench>>;
/** A route's short name in the JSON line: r2g = remoting→gRPC. */
const short = (from: Kind, to: Kind) => `${from[0]}2${to[0]}`;
const endpoint = (c: ClusterInfo, kind: Kind) =>
  kind === 'grpc' ? { ...endpointOf(c), protocol: 'grpc', nameServer: c.grpcEndpoint! } : endpointOf(c);

async function newTopic(s: Side[], name: string): Promise<void> {
  for (const x of s)
    await x.admin.createOrUpdateTopicInCluster(x.c.name, { topicName: name, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
}

/** A task from a's topic to b's, running; a gRPC source's consumer given a moment to subscribe. */
async function runningTask(rt: Runtime, a: Side, b: Side, from: Kind, to: Kind, topic: string): Promise<string> {
  const api = client(rt);
  const res = await api('POST', '/v1/tasks', {
    name: topic,
    direction: 'one-way',
    source: endpoint(a.c, from),
    target: endpoint(b.c, to),
    filter: { topics: { include: [topic], exclude: [] } },
    startOffset: { type: 'latest' },
    metadataSync: { kinds: [] },
    offsetSync: { enabled: false },
    shards: 1,
  });
  if (res.status !== 201) throw new Error(`task ${topic}: ${res.status} ${res.text}`);
  const id = (res.body as { id: string }).id;
  await waitForStatus(api, id, 'running', 120_000);
  await sleep(from === 'grpc' ? 8000 : 3000);
  return id;
}

/** Sends `count` messages in batches of 32 over the queues; their producer ids. */
async function produce(a: Side, topic: string, count: number, offset = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 32) {
    const n = Math.min(32, count - i);
    const r = await a.broker.sendBatch(
      a.addr,
      topic,
      ((offset + i) / 32) % QUEUES,
      Array.from({ length: n }, () => ({ body: BODY })),
    );
    ids.push(...r.msgIds);
  }
  return ids;
}

/** Every message on b's topic, read until `expect` are there and nothing new came for 5 s (or the timeout). */
async function readTarget(b: Side, topic: string, expect: number, timeoutMs: number): Promise<StoredMessage[]> {
  const next = Array.from({ length: QUEUES }, () => 0);
  const got: StoredMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  let lastNew = Date.now();
  for (;;) {
    for (let q = 0; q < QUEUES; q++)
      for (;;) {
        const r = await b.broker.pull(b.addr, { topic, queueId: q, offset: next[q]!, maxMessages: 32 });
        if (r.messages.length === 0) break;
        got.push(...r.messages);
        next[q] = r.nextBeginOffset;
        lastNew = Date.now();
      }
    if ((got.length >= expect && Date.now() - lastNew > 5000) || Date.now() > deadline) return got;
    await sleep(500);
  }
}

function tally(sent: readonly string[], got: readonly StoredMessage[]) {
  const ids = new Set(got.map((m) => m.uniqKey));
  return { lost: sent.filter((id) => !ids.has(id)).length, duplicated: got.length - ids.size };
}

async function drain(rt: Runtime, a: Side, b: Side, count: number): Promise<Figures> {
  const routes: [Kind, Kind][] = [
    ['remoting', 'remoting'],
    ['remoting', 'grpc'],
    ['grpc', 'remoting'],
    ['grpc', 'grpc'],
  ];
  const figures: Figures = { count };
  for (const [from, to] of routes) {
    const topic = `BenchGrpc_${from}_${to}_${Date.now().toString(36)}`;
    await newTopic([a, b], topic);
    await runningTask(rt, a, b, from, to, topic);
    const t0 = Date.now();
    const sent = await produce(a, topic, count);
    const sendMs = Date.now() - t0;
    const got = await readTarget(b, topic, count, 600_000);
    const times = got.map((m) => m.storeTimestamp).sort((x, y) => x - y);
    const spanMs = Math.max(1, times.at(-1)! - times[0]!);
    const r = { route: `${from}→${to}`, msgsPerSec: Math.round((got.length * 1000) / spanMs), sendMs, ...tally(sent, got), load: load() };
    console.log(
      `  ${r.route.padEnd(20)} ${String(r.msgsPerSec).padStart(7)} msgs/s   lost ${r.lost}, duplicated ${r.duplicated}` +
        `   (sent in ${sendMs} ms; load ${r.load})`,
    );
    const k = short(from, to);
    Object.assign(figures, {
      [`${k}MsgsPerSec`]: r.msgsPerSec,
      [`${k}Lost`]: r.lost,
      [`${k}Duplicated`]: r.duplicated,
      [`${k}Load`]: r.load,
    });
  }
  return figures;
}

async function soak(rt: Runtime, a: Side, b: Side, minutes: number): Promise<Figures> {
  const run = Date.now().toString(36);
  const tasks = [
    { from: 'remoting' as Kind, to: 'grpc' as Kind, topic: `SoakR2G_${run}` },
    { from: 'grpc' as Kind, to: 'remoting' as Kind, topic: `SoakG2R_${run}` },
  ];
  for (const t of tasks) {
    await newTopic([a, b], t.topic);
    await runningTask(rt, a, b, t.from, t.to, t.topic);
  }
  const sent = new Map<string, string[]>(tasks.map((t) => [t.topic, []]));
  const rss: { at: number; kb: number }[] = [];
  // The runtime's own view (/metrics, prom-client's process figures): heap in use and off-heap buffers.
  const heap: { at: number; usedMb: number; externalMb: number }[] = [];
  const api = client(rt);
  const gauge = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
  const t0 = Date.now();
  const end = t0 + minutes * 60_000;
  let nextSample = t0;
  for (let tick = 0; Date.now() < end; tick++) {
    const at = t0 + tick * 100;
    if (at > Date.now()) await sleep(at - Date.now());
    for (const t of tasks) sent.get(t.topic)!.push(...(await produce(a, t.topic, SOAK_RATE / 10, tick * 32)));
    if (Date.now() >= nextSample) {
      rss.push({ at: Date.now() - t0, kb: rssKb(rt.pid!) });
      const m = (await api('GET', '/metrics')).text;
      heap.push({
        at: Date.now() - t0,
        usedMb: gauge(m, 'nodejs_heap_size_used_bytes'),
        externalMb: gauge(m, 'nodejs_external_memory_bytes'),
      });
      nextSample += 10_000;
    }
  }
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
  const second = mean(rss.filter((s) => s.at >= 60_000 && s.at < 120_000).map((s) => s.kb));
  const last = mean(rss.filter((s) => s.at >= (minutes - 1) * 60_000).map((s) => s.kb));
  const heapOf = (from: number, to: number) => mean(heap.filter((h) => h.at >= from && h.at < to).map((h) => h.usedMb));
  const heapSecond = heapOf(60_000, 120_000);
  const heapLast = heapOf((minutes - 1) * 60_000, Infinity);
  // Per minute: RSS, heap in use, external (MiB), to tell a leak (a steady climb) from a heap that settles.
  const perMinute = Array.from({ length: minutes }, (_, i) => {
    const inMinute = <T extends { at: number }>(xs: T[]) => xs.filter((x) => x.at >= i * 60_000 && x.at < (i + 1) * 60_000);
    const r = Math.round(mean(inMinute(rss).map((x) => x.kb)) / 1024);
    const h = inMinute(heap);
    return `${r}/${Math.round(mean(h.map((x) => x.usedMb)))}/${Math.round(mean(h.map((x) => x.externalMb)))}`;
  });
  const perTask: Figures = {};
  for (const t of tasks) {
    const ids = sent.get(t.topic)!;
    const { lost, duplicated } = tally(ids, await readTarget(b, t.topic, ids.length, 300_000));
    const k = short(t.from, t.to);
    Object.assign(perTask, { [`${k}Sent`]: ids.length, [`${k}Lost`]: lost, [`${k}Duplicated`]: duplicated });
  }
  const lines = rt.output().split('\n');
  const level = (l: string, n: number) => l.includes(`"level":${n}`);
  const figures = {
    minutes,
    ratePerTask: SOAK_RATE,
    ...perTask,
    rssSecondMinuteMb: Math.round(second / 1024),
    rssLastMinuteMb: Math.round(last / 1024),
    rssGrowthPct: Math.round(((last - second) / second) * 1000) / 10,
    heapSecondMinuteMb: Math.round(heapSecond),
    heapLastMinuteMb: Math.round(heapLast),
    heapGrowthPct: Math.round(((heapLast - heapSecond) / heapSecond) * 1000) / 10,
    perMinuteRssHeapExternalMb: perMinute.join(' '),
    clientErrorLines: lines.filter((l) => l.includes('"client":"rocketmq-grpc"') && (level(l, 50) || level(l, 60))).length,
    clientWarnLines: lines.filter((l) => l.includes('"client":"rocketmq-grpc"') && level(l, 40)).length,
    ferryErrorLines: lines.filter((l) => level(l, 50) || level(l, 60)).length,
    load: load(),
  };
  console.log(`  per task (r2g = remoting→gRPC): ${JSON.stringify(perTask)}`);
  console.log(
    `  runtime RSS: second minute ${figures.rssSecondMinuteMb} MiB, last minute ${figures.rssLastMinuteMb} MiB` +
      ` (growth ${figures.rssGrowthPct} %; goal < 20 %); heap in use ${figures.heapSecondMinuteMb} → ${figures.heapLastMinuteMb} MiB` +
      ` (${figures.heapGrowthPct} %)`,
  );
  console.log(`  per minute, RSS/heap/external MiB: ${figures.perMinuteRssHeapExternalMb}`);
  console.log(
    `  gRPC client lines: ${figures.clientErrorLines} error, ${figures.clientWarnLines} warning;` +
      ` Ferry error lines ${figures.ferryErrorLines}; load ${figures.load}`,
  );
  return figures;
}

export async function grpcBench(args: readonly string[]): Promise<Figures> {
  const soakAt = args.indexOf('--soak');
  const number = (i: number) => (args[i] !== undefined && /^\d+$/.test(args[i]!) ? Number(args[i]) : undefined);
  const a = side(await testCluster('v5'));
  const b = side(await testCluster('v5acl'));
  const rt = await startRuntime({ store: 'postgres', env: { LOG_LEVEL: 'info' } });
  try {
    if (soakAt >= 0) {
      const minutes = number(soakAt + 1) ?? 10;
      console.log(
        `gRPC soak: ${minutes} min, ${SOAK_RATE} msgs/s per task, remoting→gRPC and gRPC→remoting,` +
          ` ${a.c.name} → ${b.c.name}; load ${load()}`,
      );
      return { mode: 'soak', ...(await soak(rt, a, b, minutes)) };
    }
    const count = Number(args.find((x) => /^\d+$/.test(x)) ?? 20_000);
    console.log(`gRPC routes beside remoting: ${count} messages of 1 KiB per route, ${a.c.name} → ${b.c.name}; load ${load()}`);
    return { mode: 'drain', ...(await drain(rt, a, b, count)) };
  } finally {
    await rt.stop();
    a.remoting.close();
    b.remoting.close();
  }
}

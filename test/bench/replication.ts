// `npm run bench -- replication [count]`: Ferry's replicator vs a Java pull→send pipe (FerryPeer
// bench-pipe: DefaultLitePullConsumer + DefaultMQProducer, one sender thread per queue) between two
// fresh 5.3.3 clusters, 1 KiB messages over 8 queues. With FERRY_TESTBED set (a shared, busy
// machine) the test bed's 5.3.3 pair is used instead: `v5` → `v5acl`.
//
// How it measures (the output says the same next to each figure):
// - Ferry runs as the product does with FERRY_INVOKER=process: the reconciler (called every second
//   by this process) dispatches each replicator invocation, and every invocation is a child process
//   — an esbuild bundle of infra/local/replicator-process.ts run by plain node — started by the
//   product's ChildProcessInvoker with its hand-over on (a replicator near the end of its budget asks
//   it for a fresh process, its successor). A 60-s budget (the product default is 300 s: a shorter one
//   puts a hand-over inside every phase), the default 64 MiB buffer. The task is pinned to
//   `shards: 1`: one replicator process vs one Java pipe.
// - The brokers (not the pipes) are warmed first: this process copies WARMUP_COUNT messages from A
//   to B itself. No part of a measured pipe's run is discarded; every pipe run is a fresh process.
// - Throughput: per round, each pipe drains a backlog of `count` messages produced beforehand (our
//   client, batches of 32 that share one born time); ROUNDS rounds in alternating order. Rate =
//   count / (last − first replica's target store time); "from start" = count / (last replica's
//   store time − the process's start), start-up included (the JVM's is longer than node's). Each
//   round's ratio and the minimum are reported, with the machine's busy cores meanwhile.
// - Born time: Ferry keeps it exactly (a send batch holds only messages born in the same ms). Its
//   worst case, a backlog where every message has its own born time (single sends with increasing
//   bornTimestamp), is drained the same way and set beside the batched backlog's rate.
// - Delay at half load: production paced at half of the pipe's mean drain rate for DELAY_PHASE_MS
//   (≥ 90 s, so a 60-s invocation hands over inside it); delay = target store time − source store
//   time of every replica produced in the phase, the whole phase counted. Beside it the old method's
//   figure from the same run: the first OLD_WARMUP_MS of the phase discarded and only the messages
//   the first (long) invocation replicated.
// - CPU per GB: utime+stime (/proc) of the pipe's processes — every replicator process Ferry
//   started, the JVM for Java — from before it started to its last replica, divided by the GB
//   (10^9 B) of message bodies replicated. The reconciler (this process) and PostgreSQL are not in it.
// - Cold start: a fresh replicator process drains a backlog sized to last ~COLD_DRAIN_S; delivered
//   messages per second (replicas' target store times) for each of its first COLD_SECONDS seconds
//   after the process started, the steady rate (from second COLD_STEADY_FROM_S to the last
//   replica), and how many leading seconds stay below 80 % of it; the same with Node/V8 flags for
//   the child, runs without and with flags interleaved (order rotated), COLD_REPEATS times each.
// Ferry's replicas are checked message by message (every source offset present; duplicates counted),
// except in the cold-start runs (by count); a stall or a pipe that died fails the run. The load
// average is printed with the figures. Readable figures first, then ONE JSON line.
// `--grpc`: the gRPC routes and their soak instead (test/bench/_grpc.ts).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import pLimit from 'p-limit';
import type { RocketMQCluster, ClusterInfo } from '../testbed/cluster.ts';
import { javaPeer, javaPeerClasses, type JavaPeerResult } from '../testbed/java-peer.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { createLogger } from '../../shared/log.ts';
import { HOP, ORIGIN } from '../../shared/replication/origin.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { BrokerBusyError } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { REPLICATOR_ENTRY } from '../support/child-invoker.ts';
import { throwawayPostgres } from '../support/databases.ts';
import { TESTBED_ENV, testCluster } from '../support/testbed.ts';
import { childPidsMatching, childrenCpuSeconds, machineBusySeconds, peakRssKb, sampleCpu } from './_proc-stats.ts';
import type { Bench } from './run.ts';
import { startPair } from './_clusters.ts';
import { grpcBench } from './_grpc.ts';

const QUEUES = 8;
const BODY = Buffer.alloc(1024, 'r');
/** Throughput rounds; each pipe drains `count` messages per round, the order alternating. */
const ROUNDS = 3;
/** Delay phase: paced production this long; a 60-s invocation hands over inside it. */
const DELAY_PHASE_MS = 90_000;
/** The old method discarded this much of the start of the delay phase. */
const OLD_WARMUP_MS = 8_000;
/** Largest batch the Java pipe sends (its per-queue sender merges waiting polls up to it). */
const SEND_BATCH = 256;
/**
 * The paced producer sends what is due as one batch per queue every PACE_MS (a batching producer:
 * at most 1000 / PACE_MS born times per queue and second, which Ferry sends as that many batches).
 */
const PACE_MS = 20;
/** Messages this process copies from A to B before anything is measured: fresh brokers are slow at first. */
const WARMUP_COUNT = 100_000;
/** A phase fails when the target count has not moved for this long. */
const STALL_MS = 60_000;
/** How often this process runs the reconciler while Ferry runs. */
const RECONCILE_EVERY_MS = 1000;
/** The replicator budget the bench sets (shorter than the default, so phases hold hand-overs) and the replicator's stop margin. */
const BUDGET_MS = 60_000;
const STOP_MARGIN_MS = 1500;
/** Cold start: per-second figures for this many seconds; backlog sized to drain in about COLD_DRAIN_S. */
const COLD_SECONDS = 10;
const COLD_STEADY_FROM_S = 5;
const COLD_DRAIN_S = 12;
const COLD_MAX_COUNT = 300_000;
/**
 * Node/V8 flags tried on the replicator process against its cold start, given as its node
 * arguments. Of these only --max-semi-space-size may also go in NODE_OPTIONS (what a function
 * platform offers); the others need the command line or v8.setFlagsFromString.
 */
const COLD_FLAGS = [
  '--max-semi-space-size=64',
  '--min-semi-space-size=16 --max-semi-space-size=64',
  '--always-sparkplug --no-lazy-feedback-allocation',
];
/**
 * Runs without flags and with each set, interleaved, the order rotated each repeat (a run's place in
 * the sequence — e.g. right after the backlogs were produced — must not decide): the spread between
 * runs shows beside the differences.
 */
const COLD_REPEATS = 3;
const COLD_RUNS = Array.from({ length: COLD_REPEATS }, (_, r) => ['', ...COLD_FLAGS].map((_, i, all) => all[(i + r) % all.length]!)).flat();

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
const admin: Principal = { tenant: 'bench', role: 'admin', subject: 'replication-bench' };
const GB = 1e9;
const mean = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
const r2 = (x: number) => Math.round(x * 100) / 100;
const r0 = (x: number) => Math.round(x);
const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

type Side = {
  c: ClusterInfo;
  remoting: RemotingClient;
  broker: BrokerClient;
  admin: RemotingAdmin;
  addr: string;
  name: string;
  ns: string;
};
const side = (c: ClusterInfo): Side => {
  const remoting = new RemotingClient({ credentials: c.acl });
  return {
    c,
    remoting,
    broker: new BrokerClient(remoting),
    admin: new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer)),
    addr: c.brokers[0]!.address,
    name: c.name,
    ns: c.nameServer,
  };
};

/** The pipe's Java arguments for one side's credentials, if it has any. */
const javaAcl = (prefix: 'src' | 'dst', c: ClusterInfo) =>
  c.acl ? [`--${prefix}-ak`, c.acl.accessKey, `--${prefix}-sk`, c.acl.secretKey] : [];
const endpoint = (c: ClusterInfo) => ({
  clusterType: 'self-built' as const,
  clusterId: c.name,
  nameServer: c.nameServer,
  networkType: 'public' as const,
  ...(c.acl ? { acl: { enabled: true, accessKey: c.acl.accessKey, secretKey: c.acl.secretKey } } : {}),
});

/** Retries a send the broker refused as busy (nothing stored). */
async function busyRetry<T>(send: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof BrokerBusyError)) throw err;
      await sleep(50);
    }
  }
}

/**
 * `count` messages over the 8 queues. Default: batches of up to 32 per send, all messages of a
 * batch born in the same millisecond; paced to `perSecond` in total when given (what is due every
 * PACE_MS per queue). `distinctBorn`: single sends, each message with its own born time (increasing
 * ms values), 4 in flight per queue. Returns the rate actually produced.
 */
async function produce(s: Side, topic: string, count: number, opts: { perSecond?: number; distinctBorn?: boolean } = {}): Promise<number> {
  const t0 = performance.now();
  let born = Date.now() - count - 60_000;
  await Promise.all(
    Array.from({ length: QUEUES }, async (_, q) => {
      const mine = Math.floor(count / QUEUES) + (q < count % QUEUES ? 1 : 0);
      if (opts.distinctBorn) {
        await pLimit(4).map(Array.from({ length: mine }), () => {
          const bornTimestamp = born++;
          return busyRetry(() => s.broker.send(s.addr, topic, q, { body: BODY, bornTimestamp }));
        });
        return;
      }
      for (let sent = 0, tick = 1; sent < mine; ) {
        let n = Math.min(32, mine - sent);
        if (opts.perSecond) {
          // One batch of what is due per queue per PACE_MS tick (a send slower than a tick delays the next).
          const wait = t0 + tick * PACE_MS - performance.now();
          if (wait > 0) await sleep(wait);
          tick = Math.max(tick + 1, Math.floor((performance.now() - t0) / PACE_MS) + 1);
          n = Math.min(mine - sent, Math.floor(((performance.now() - t0) / 1000) * (opts.perSecond / QUEUES)) - sent);
          if (n <= 0) continue;
        }
        await busyRetry(() =>
          s.broker.sendBatch(
            s.addr,
            topic,
            q,
            Array.from({ length: n }, () => ({ body: BODY })),
          ),
        );
        sent += n;
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

async function targetCount(s: Side, topic: string): Promise<number> {
  const offsets = await Promise.all(Array.from({ length: QUEUES }, (_, q) => s.broker.maxOffset(s.addr, topic, q)));
  return offsets.reduce((x, y) => x + y, 0);
}

/** Resolves once `count` messages are on the target; fails on a stall or when the pipe ended early. */
async function waitFor(s: Side, topic: string, count: number, ended: () => string | undefined): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const n = await targetCount(s, topic);
    if (n >= count) return;
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    }
    const why = ended();
    if (why) throw new Error(`${topic}: ${n} of ${count} arrived and the pipe ended: ${why}`);
    if (Date.now() - movedAt > STALL_MS) throw new Error(`${topic}: ${n} of ${count} arrived, nothing new for ${STALL_MS / 1000} s`);
    await sleep(100);
  }
}

/**
 * Waits until the target count has not moved for 3 s, then returns it: late extras (retried sends)
 * show as duplicates, and with duplicates the expected count is reached before every message is.
 */
async function settle(s: Side, topic: string): Promise<number> {
  let n = await targetCount(s, topic);
  for (let quietSince = Date.now(); Date.now() - quietSince < 3000; ) {
    await sleep(500);
    const m = await targetCount(s, topic);
    if (m !== n) [n, quietSince] = [m, Date.now()];
  }
  return n;
}

/** Target store times of the first and the last replica. */
async function span(s: Side, topic: string): Promise<{ first: number; last: number }> {
  let first = Infinity;
  let last = -Infinity;
  for (let q = 0; q < QUEUES; q++) {
    const max = await s.broker.maxOffset(s.addr, topic, q);
    if (max === 0) continue;
    const [head] = (await s.broker.pull(s.addr, { topic, queueId: q, offset: 0, maxMessages: 1 })).messages;
    const [tail] = (await s.broker.pull(s.addr, { topic, queueId: q, offset: max - 1, maxMessages: 1 })).messages;
    first = Math.min(first, head!.storeTimestamp);
    last = Math.max(last, tail!.storeTimestamp);
  }
  return { first, last };
}

interface Replicas {
  /** Target store time of every replica. */
  stored: number[];
  /** Source store time (from `property`) of every replica, NaN where absent. */
  source: number[];
  /** Replicas carrying FERRY_ORIGIN_BORN_TS whose born time differs from it. */
  bornChanged: number;
  bornChecked: number;
  /** Distinct source messages among Ferry's replicas (by FERRY_SRC_QUEUE/FERRY_SRC_OFFSET). */
  distinct: number;
}

/** Every replica on the target topic, read back (queues in parallel). */
async function readReplicas(s: Side, topic: string, property: string): Promise<Replicas> {
  const out: Replicas = { stored: [], source: [], bornChanged: 0, bornChecked: 0, distinct: 0 };
  const seen = new Set<number>();
  await Promise.all(
    Array.from({ length: QUEUES }, async (_, q) => {
      for (let offset = 0; ; ) {
        const r = await s.broker.pull(s.addr, { topic, queueId: q, offset, maxMessages: 32 });
        if (r.messages.length === 0) break;
        for (const m of r.messages) {
          out.stored.push(m.storeTimestamp);
          out.source.push(Number(m.properties[property] ?? NaN));
          const srcQueue = m.properties[HOP.queue];
          if (srcQueue !== undefined) seen.add(Number(srcQueue) * 2 ** 32 + Number(m.properties[HOP.offset]));
          const born = m.properties[ORIGIN.bornTimestamp];
          if (born !== undefined) {
            out.bornChecked++;
            if (Number(born) !== m.bornTimestamp) out.bornChanged++;
          }
        }
        offset = r.nextBeginOffset;
      }
    }),
  );
  out.distinct = seen.size;
  return out;
}

/** Ferry's replicas hold every source message (else the run fails); returns the duplicates. */
function exactlyOnce(what: string, rep: Replicas, expected: number): number {
  if (rep.distinct < expected)
    throw new Error(`${what}: ${expected - rep.distinct} of ${expected} source messages never arrived (${rep.stored.length} replicas)`);
  return rep.stored.length - rep.distinct;
}

/**
 * The replicator as it is deployed: one esbuild bundle (serverless.yml's settings) run by plain
 * node — not under tsx, whose loader thread alone adds tens of MiB to the RSS measured.
 */
async function bundleReplicator(): Promise<string> {
  // Two directories below the root: the store finds infra/migrations at ../../ from the bundle.
  // A file of its own: another bench running meanwhile rebuilds its bundle under its own name.
  const out = join(root, 'node_modules', '.ferry-bench', 'replicator-bench-replication.mjs');
  await build({
    entryPoints: [REPLICATOR_ENTRY],
    outfile: out,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: ['@electric-sql/pglite', 'pg-native'],
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return out;
}

interface ChildRecord {
  pid: number;
  /** Started as a successor (asked for by the holder near its budget's end), else dispatched by the reconciler. */
  successor: boolean;
  spawnedAt: number;
  exitedAt?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
}

/**
 * The product's process invoker (FERRY_INVOKER=process) with its hand-over on, as in `npm start`: a
 * replicator near the end of its budget asks it for its successor, which it starts at once.
 * (test/support's ChildInvoker turns the hand-over off and leaves it to the caller's reconciler —
 * not what the product does.) Records every child it starts.
 */
class BenchInvoker extends ChildProcessInvoker {
  readonly children: ChildRecord[] = [];

  constructor(env: NodeJS.ProcessEnv, bundle: string, nodeArgs: readonly string[] = []) {
    super({
      args: [...nodeArgs, bundle],
      env,
      log: createLogger('warn'),
      output: process.env.FERRY_BENCH_CHILD_OUTPUT ? 'inherit' : 'ignore',
    });
  }

  override async invokeReplicator(job: ReplicatorJob): Promise<void> {
    const before = new Set(this.live.values());
    const at = Date.now();
    await super.invokeReplicator(job);
    for (const c of this.live.values()) {
      if (before.has(c) || !c.pid) continue;
      const rec: ChildRecord = { pid: c.pid, successor: job.successor === true, spawnedAt: at };
      this.children.push(rec);
      c.once('exit', (code, signal) => Object.assign(rec, { exitedAt: Date.now(), exitCode: code, signal }));
    }
  }

  /** Children started and not reaped yet. */
  unreaped(): number[] {
    return this.children.filter((c) => c.exitedAt === undefined).map((c) => c.pid);
  }
}

const bench: Bench = async (args) => {
  // The gRPC routes (and their soak) are measured on their own: test/bench/_grpc.ts.
  if (args.includes('--grpc')) return grpcBench(args.filter((a) => a !== '--grpc'));
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  const shared = Boolean(process.env[TESTBED_ENV]);
  const owned: RocketMQCluster[] = [];
  const started = Date.now();
  console.log(
    `replication bench: a backlog of ${count} messages of 1 KiB per pipe per round, ${ROUNDS} rounds, ${QUEUES} queues; load ` +
      `average ${load()}`,
  );
  if (!shared) owned.push(...(await startPair(['bench-a', 'bench-b'])));
  const a = side(shared ? await testCluster('v5') : owned[0]!.info);
  const b = side(shared ? await testCluster('v5acl') : owned[1]!.info);
  console.log(`  ${a.name} → ${b.name} (5.3.3 → 5.3.3${b.c.acl ? ', ACL on the target' : ''})`);
  console.log(
    '  Ferry: the reconciler (this process, every 1 s) dispatches replicator invocations, each a child process (esbuild bundle of ' +
      'infra/local/replicator-process.ts,\n' +
      "  plain node) started by the product's ChildProcessInvoker as with FERRY_INVOKER=process (hand-over on: a fresh process per " +
      'budget);\n' +
      `  budget ${BUDGET_MS / 1000} s (product default 300 s), buffer 64 MiB (default), task pinned to shards: 1. ` +
      'Java: FerryPeer bench-pipe (lite ' +
      `pull consumer + producer,\n` +
      `  a sender thread per queue, batches up to ${SEND_BATCH}), a fresh JVM per phase.`,
  );
  const run = Date.now().toString(36);
  const T = {
    ferry: Array.from({ length: ROUNDS }, (_, r) => `RepFerry_${run}_${r}`),
    java: Array.from({ length: ROUNDS }, (_, r) => `RepJava_${run}_${r}`),
    born: `RepBorn_${run}`,
    warm: `RepWarm_${run}`,
    ferryDelay: `RepFerryDelay_${run}`,
    javaDelay: `RepJavaDelay_${run}`,
    cold: COLD_RUNS.map((_, i) => `RepCold_${run}_${i}`),
  };
  const db = await throwawayPostgres();
  const key = randomBytes(32);
  const store: Store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const tasks = new TaskService(store, cipher, { requireManagedSide: false });
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: db.value, FERRY_SECRET_KEY: key.toString('base64'), LOG_LEVEL: 'warn' };
  // A 60-s budget (hand-overs inside the phases) and the default 64 MiB buffer.
  env.FERRY_REPLICATOR_BUDGET_MS = String(BUDGET_MS);
  delete env.FERRY_REPLICATOR_BUFFER_MB;
  const invokers: BenchInvoker[] = [];
  let peakRssKbAll = 0;
  let javaPeakRssKb = 0;
  try {
    for (const t of [...T.ferry, ...T.java, T.born, T.warm, T.ferryDelay, T.javaDelay, ...T.cold]) {
      for (const s of [a, b])
        await s.admin.createOrUpdateTopicInCluster(s.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    await javaPeerClasses('5.3.3'); // compiled before any clock starts
    const bundle = await bundleReplicator();

    // ── Ferry: a task over one topic, started and dispatched by the reconciler.
    const ferry = async (name: string, topic: string, from: 'earliest' | 'latest', nodeArgs: readonly string[] = []) => {
      const cpu0 = childrenCpuSeconds([]);
      const task = await tasks.create(admin, {
        name,
        direction: 'one-way',
        source: endpoint(a.c),
        target: endpoint(b.c),
        startOffset: { type: from },
        filter: { topics: { include: [topic], exclude: [] } },
        idempotentResume: true,
        shards: 1,
      });
      const invoker = new BenchInvoker(env, bundle, nodeArgs);
      invokers.push(invoker);
      const deps = { store, cipher, log: createLogger('warn'), invoker };
      let reconciling = true;
      let reconcileError: unknown;
      const loop = (async () => {
        while (reconciling) {
          await reconcile(deps, { redispatchAfterMs: 5000 }).catch((err: unknown) => (reconcileError = err));
          await sleep(RECONCILE_EVERY_MS);
        }
      })();
      let hwmKb = 0;
      const sampler = setInterval(() => {
        for (const pid of invoker.unreaped()) hwmKb = Math.max(hwmKb, peakRssKb(pid));
        if (nodeArgs.length === 0) peakRssKbAll = Math.max(peakRssKbAll, hwmKb); // the product's settings only
      }, 200);
      // Started: its start offsets are fixed (for `latest`, nothing produced from now on is skipped).
      for (let by = Date.now() + 60_000; (await store.getTask('bench', task.id))!.status !== 'running'; await sleep(100)) {
        if (Date.now() > by)
          throw new Error(`task ${name} not running after 60 s: ${JSON.stringify(await store.getTask('bench', task.id))}`);
      }
      return {
        invoker,
        /** CPU seconds of this task's replicator processes so far. */
        cpu: () => childrenCpuSeconds(invoker.unreaped()) - cpu0,
        peakRssKb: () => hwmKb,
        firstSpawnAt: () => invoker.children[0]?.spawnedAt ?? NaN,
        ended: () => {
          if (reconcileError) return `reconcile failed: ${String(reconcileError)}`;
          const bad = invoker.children.find((c) => c.exitedAt !== undefined && c.exitCode !== 0);
          return bad
            ? `replicator process ${bad.pid} exited with ${bad.exitCode ?? bad.signal} (FERRY_BENCH_CHILD_OUTPUT=1 shows its output)`
            : undefined;
        },
        stop: async () => {
          reconciling = false;
          await loop;
          const t = (await store.getTask('bench', task.id))!;
          await store.updateTask('bench', task.id, t.version, { desiredState: 'stopped', status: 'stopped' });
          await invoker.drain(); // SIGTERM: the replicator checkpoints, releases and exits; waited for
          clearInterval(sampler);
        },
      };
    };

    // ── Java: the pipe on one topic, once it has positioned every queue.
    const pipe = async (topic: string, n: number, from: 'earliest' | 'latest') => {
      const ready = join(tmpdir(), `ferry-pipe-${topic}-${process.pid}`);
      rmSync(ready, { force: true });
      const cpu0 = childrenCpuSeconds([]);
      const launchedAt = Date.now();
      const proc = javaPeer(
        '5.3.3',
        [
          'bench-pipe',
          '--src-namesrv',
          a.ns,
          '--dst-namesrv',
          b.ns,
          ...javaAcl('src', a.c),
          ...javaAcl('dst', b.c),
          '--topic',
          topic,
          '--count',
          String(n),
          '--from',
          from,
          '--pull-batch',
          '32',
          '--pull-threads',
          String(2 * QUEUES),
          '--send-batch',
          String(SEND_BATCH),
          '--ready-file',
          ready,
        ],
        { timeoutMs: 900_000 },
      );
      let result: JavaPeerResult | undefined;
      void proc.then((r) => (result = r));
      const ended = () =>
        result && (result.exitCode !== 0 || result.timedOut) ? `exit ${result.exitCode}: ${result.stderr.slice(-2000)}` : undefined;
      const readyBy = Date.now() + 120_000;
      while (!existsSync(ready)) {
        // The pipe can fail before it is ready: wait for the file OR the process, never forever.
        if (result) throw new Error(`Java pipe ended before it was ready: ${ended() ?? 'exit 0'}`);
        if (Date.now() > readyBy) throw new Error('Java pipe not ready after 120 s');
        await sleep(50);
      }
      rmSync(ready, { force: true });
      const [pid] = childPidsMatching(['bench-pipe', topic]);
      const readyCpu = childrenCpuSeconds(pid ? [pid] : []) - cpu0;
      let hwmKb = 0;
      const sampler = setInterval(() => {
        if (pid) hwmKb = Math.max(hwmKb, peakRssKb(pid));
        javaPeakRssKb = Math.max(javaPeakRssKb, hwmKb);
      }, 200);
      void proc.finally(() => clearInterval(sampler));
      return {
        run: proc,
        ended,
        launchedAt,
        /** CPU seconds of the JVM so far (start-up included), and what it had used once ready. */
        cpu: () => childrenCpuSeconds(pid && !result ? [pid] : []) - cpu0,
        readyCpu,
      };
    };

    // ── Backlogs for the throughput and born-time phases, produced before any pipe runs.
    let t0 = performance.now();
    for (const t of [...T.ferry, ...T.java]) await produce(a, t, count);
    console.log(
      `  backlogs: ${2 * ROUNDS} × ${count} in batches of 32 sharing a born time ` +
        `(${((2 * ROUNDS * count) / ((performance.now() - t0) / 1000)).toFixed(0)} msgs/s)`,
    );
    t0 = performance.now();
    await produce(a, T.born, count, { distinctBorn: true });
    console.log(
      `  backlog: ${count} single sends, each with its own born time (${(count / ((performance.now() - t0) / 1000)).toFixed(0)} msgs/s)`,
    );

    // ── Broker warm-up (not a pipe): this process copies WARMUP_COUNT messages from A to B.
    await produce(a, T.warm, WARMUP_COUNT);
    await Promise.all(
      Array.from({ length: QUEUES }, async (_, q) => {
        for (let offset = 0; ; ) {
          const r = await a.broker.pull(a.addr, { topic: T.warm, queueId: q, offset, maxMessages: 32 });
          if (r.messages.length === 0) break;
          await busyRetry(() =>
            b.broker.sendBatch(
              b.addr,
              T.warm,
              q,
              r.messages.map((m) => ({ body: m.body, properties: { WARM: '1' } })),
            ),
          );
          offset = r.nextBeginOffset;
        }
      }),
    );
    console.log(
      `  brokers warmed: ${WARMUP_COUNT} messages pulled from ${a.name} and sent to ${b.name} by this process (neither pipe; not ` +
        `measured); load average ${load()}`,
    );

    // ── Throughput: rounds in alternating order (Ferry, Java; Java, Ferry; …).
    console.log(
      `  throughput — per round each pipe drains its own backlog of ${count}; rate = count / (last − first replica's target store ` +
        `time);\n` +
        '  "from start" = count / (last replica − process start); CPU = utime+stime of the pipe\'s processes from start to the last ' +
        'replica:',
    );
    const rounds = { ferry: [] as number[], java: [] as number[], ferryFromStart: [] as number[], javaFromStart: [] as number[] };
    const cpu = { ferry: 0, java: 0, javaAfterReady: 0 };
    let duplicates = 0;
    let javaDuplicates = 0;
    let ferryHandOversInRounds = 0;
    /** Busy cores of the whole machine while a pipe drains (the pipe, the brokers, this process, anything else). */
    const machineLoad = () => {
      const [t, busy] = [performance.now(), machineBusySeconds()];
      return () => (machineBusySeconds() - busy) / ((performance.now() - t) / 1000);
    };
    const ferryDrain = async (name: string, topic: string) => {
      const machine = machineLoad();
      const f = await ferry(name, topic, 'earliest');
      await waitFor(b, topic, count, f.ended);
      const used = f.cpu();
      const cores = machine();
      await settle(b, topic);
      await f.stop();
      const rep = await readReplicas(b, topic, ORIGIN.storeTimestamp);
      const dup = exactlyOnce(name, rep, count);
      const first = rep.stored.reduce((x, y) => Math.min(x, y), Infinity);
      const last = rep.stored.reduce((x, y) => Math.max(x, y), -Infinity);
      return {
        rate: count / ((last - first) / 1000),
        fromStart: count / ((last - f.firstSpawnAt()) / 1000),
        cpu: used,
        dup,
        toFirstMs: first - f.firstSpawnAt(),
        processes: f.invoker.children.length,
        rssKb: f.peakRssKb(),
        rep,
        cores,
      };
    };
    for (let r = 0; r < ROUNDS; r++) {
      const line: string[] = [];
      for (const who of r % 2 === 0 ? (['ferry', 'java'] as const) : (['java', 'ferry'] as const)) {
        if (who === 'ferry') {
          const d = await ferryDrain(`bench-round-${r}`, T.ferry[r]!);
          rounds.ferry[r] = d.rate;
          rounds.ferryFromStart[r] = d.fromStart;
          cpu.ferry += d.cpu;
          duplicates += d.dup;
          ferryHandOversInRounds += d.processes - 1;
          line.push(
            `Ferry ${r0(d.rate)} msgs/s (from start ${r0(d.fromStart)}; first replica ${d.toFirstMs} ms after start; ` +
              `${d.cpu.toFixed(2)} CPU-s; ${d.processes} process${d.processes > 1 ? 'es' : ''}; machine ${d.cores.toFixed(2)} cores busy)`,
          );
        } else {
          const topic = T.java[r]!;
          const machine = machineLoad();
          const j = await pipe(topic, count, 'earliest');
          await waitFor(b, topic, count, j.ended);
          const used = j.cpu();
          const cores = machine();
          await j.run;
          javaDuplicates += (await settle(b, topic)) - count;
          const { first, last } = await span(b, topic);
          rounds.java[r] = count / ((last - first) / 1000);
          rounds.javaFromStart[r] = count / ((last - j.launchedAt) / 1000);
          cpu.java += used;
          cpu.javaAfterReady += used - j.readyCpu;
          line.push(
            `Java ${r0(rounds.java[r]!)} msgs/s (from start ${r0(rounds.javaFromStart[r]!)}; first replica ${first - j.launchedAt} ` +
              `ms after start; ${used.toFixed(2)} CPU-s, ${j.readyCpu.toFixed(2)} of them before ready; machine ${cores.toFixed(2)} ` +
              `cores busy)`,
          );
        }
      }
      console.log(
        `    round ${r + 1}: ${line.join('; ')} → ${(rounds.ferry[r]! / rounds.java[r]!).toFixed(2)}× (from start ` +
          `${(rounds.ferryFromStart[r]! / rounds.javaFromStart[r]!).toFixed(2)}×); load average ${load()}`,
      );
    }
    const ratios = rounds.ferry.map((f, r) => f / rounds.java[r]!);
    const ratiosFromStart = rounds.ferryFromStart.map((f, r) => f / rounds.javaFromStart[r]!);
    const ferryRate = mean(rounds.ferry);
    const javaRate = mean(rounds.java);
    console.log(
      `    Ferry ${rounds.ferry.map(r0).join('/')} msgs/s (mean ${r0(ferryRate)}; every message arrived, ${duplicates} duplicates; ` +
        `${ferryHandOversInRounds} hand-overs), Java ${rounds.java.map(r0).join('/')} (mean ${r0(javaRate)}; ${javaDuplicates} duplicates)`,
    );
    console.log(
      `    ratio per round ${ratios.map((x) => x.toFixed(2)).join('/')}: min ${Math.min(...ratios).toFixed(2)}×, mean ` +
        `${mean(ratios).toFixed(2)}×; from start ${ratiosFromStart.map((x) => x.toFixed(2)).join('/')}, min ` +
        `${Math.min(...ratiosFromStart).toFixed(2)}×`,
    );
    const gbRounds = (ROUNDS * count * BODY.length) / GB;
    const cpuPerGb = { ferry: cpu.ferry / gbRounds, java: cpu.java / gbRounds, javaAfterReady: cpu.javaAfterReady / gbRounds };
    console.log(
      `  CPU per GB of bodies at saturation (the ${ROUNDS} rounds, ${gbRounds.toFixed(3)} GB per pipe): Ferry ` +
        `${cpuPerGb.ferry.toFixed(1)} CPU-s/GB (every replicator process, start-up included),` +
        ` Java ${cpuPerGb.java.toFixed(1)} CPU-s/GB (the JVM, start-up included; ${cpuPerGb.javaAfterReady.toFixed(1)} from its ` +
        `ready point)`,
    );

    // ── Born time: every message its own born time (worst case for batching) vs batched.
    const bornDrain = await ferryDrain('bench-born', T.born);
    duplicates += bornDrain.dup;
    const bornCheck = bornDrain.rep;
    console.log(
      `  born time kept exactly (a send batch only holds messages born in the same ms): Ferry drains ${count} messages each with ` +
        `its own born time at ${r0(bornDrain.rate)} msgs/s` +
        ` (${(bornDrain.cpu / ((count * BODY.length) / GB)).toFixed(1)} CPU-s/GB) vs ${r0(ferryRate)} msgs/s for batches sharing a ` +
        `born time (mean of the rounds):` +
        ` ${(bornDrain.rate / ferryRate).toFixed(2)}× — same measure as the rounds; replicas whose born time differs from the ` +
        `source's: ${bornCheck.bornChanged} of ${bornCheck.bornChecked}; ${bornDrain.dup} duplicates`,
    );

    // ── Delay at half of each pipe's own mean drain rate, the whole phase counted.
    const delayPhase = async (who: 'ferry' | 'java', rate: number) => {
      const topic = who === 'ferry' ? T.ferryDelay : T.javaDelay;
      const perSecond = Math.round(rate / 2);
      const n = Math.round((perSecond * DELAY_PHASE_MS) / 1000);
      const f = who === 'ferry' ? await ferry('bench-delay', topic, 'latest') : undefined;
      const j = who === 'java' ? await pipe(topic, QUEUES + n, 'latest') : undefined;
      const ended = () => (f ? f.ended() : j!.ended());
      // One message per queue, waited for on the target: the pipe has started (the phase starts then).
      await produce(a, topic, QUEUES);
      await waitFor(b, topic, QUEUES, ended);
      const cpu0 = f ? f.cpu() : j!.cpu();
      const phaseStart = Date.now();
      const sampler = sampleCpu(f ? f.cpu : j!.cpu);
      const produced = await produce(a, topic, n, { perSecond });
      const phaseEnd = Date.now();
      const cpuSeconds = sampler.stop();
      const per10 = (xs: number[]) =>
        Array.from({ length: Math.ceil(xs.length / 10) }, (_, w) => mean(xs.slice(w * 10, w * 10 + 10)).toFixed(2));
      await waitFor(b, topic, QUEUES + n, ended);
      const used = (f ? f.cpu() : j!.cpu()) - cpu0;
      const total = await settle(b, topic);
      if (f) await f.stop();
      if (j) await j.run;
      const rep = await readReplicas(b, topic, who === 'ferry' ? ORIGIN.storeTimestamp : 'FERRY_PIPE_STORE_TS');
      const dup = f ? exactlyOnce('delay phase', rep, QUEUES + n) : total - QUEUES - n;
      const all: number[] = [];
      const old: number[] = [];
      const windows: number[][] = Array.from({ length: Math.ceil((phaseEnd - phaseStart) / 10_000) }, () => []);
      /** Per second of the phase (by source store time): messages and the worst delay, for the record file. */
      const seconds = Array.from({ length: Math.ceil((phaseEnd - phaseStart) / 1000) }, () => ({ n: 0, max: 0 }));
      // The old method: one long invocation, the phase's first OLD_WARMUP_MS discarded. From this
      // run: the messages produced from then until 1 s before the first invocation's deadline.
      const firstSpawn = f?.firstSpawnAt() ?? NaN;
      const oldEnd = f ? firstSpawn + BUDGET_MS - STOP_MARGIN_MS - 1000 : Infinity;
      for (let i = 0; i < rep.stored.length; i++) {
        const src = rep.source[i]!;
        if (!(src >= phaseStart)) continue;
        const d = rep.stored[i]! - src;
        all.push(d);
        windows[Math.min(windows.length - 1, Math.floor((src - phaseStart) / 10_000))]!.push(d);
        const sec = seconds[Math.min(seconds.length - 1, Math.floor((src - phaseStart) / 1000))]!;
        sec.n++;
        sec.max = Math.max(sec.max, d);
        if (src >= phaseStart + OLD_WARMUP_MS && src < oldEnd) old.push(d);
      }
      all.sort((x, y) => x - y);
      old.sort((x, y) => x - y);
      const windowP99 = windows.map((w) =>
        pct(
          w.sort((x, y) => x - y),
          0.99,
        ),
      );
      // The replicator processes, and around each hand-over (a successor started during the phase,
      // until 5 s after the process it took over from ended): the longest pause between deliveries
      // and the worst delay of a message produced meanwhile.
      const children = f?.invoker.children ?? [];
      const rel = (t: number | undefined) => (t === undefined ? 'end' : `${((t - phaseStart) / 1000).toFixed(1)} s`);
      const processes = children.map((c) => `${c.successor ? 'successor' : 'dispatched'} ${rel(c.spawnedAt)}–${rel(c.exitedAt)}`);
      const stored = [...rep.stored].sort((x, y) => x - y);
      const handOvers = children.flatMap((c) => {
        if (!c.successor || c.spawnedAt < phaseStart || c.spawnedAt > phaseEnd) return [];
        const pred = children.find((p) => p !== c && p.spawnedAt < c.spawnedAt && (p.exitedAt ?? Infinity) > c.spawnedAt);
        const from = c.spawnedAt;
        const to = (pred?.exitedAt ?? c.spawnedAt + 10_000) + 5000;
        let pause = 0;
        for (let i = 1; i < stored.length; i++)
          if (stored[i]! > from && stored[i - 1]! < to) pause = Math.max(pause, stored[i]! - Math.max(from, stored[i - 1]!));
        let worst = NaN;
        rep.stored.forEach((t, i) => {
          const src = rep.source[i]!;
          if (src >= from && src < to && !(t - src <= worst)) worst = t - src;
        });
        return [{ at: (from - phaseStart) / 1000, overlapMs: (pred?.exitedAt ?? NaN) - from, pause, worst }];
      });
      return {
        perSecond,
        produced,
        n,
        dup,
        cpu: used,
        all,
        old,
        windowP99,
        seconds,
        processes,
        handOvers,
        pipeCores: per10(cpuSeconds.pipe),
        machineCores: per10(cpuSeconds.machine),
        pipeCoresMean: mean(cpuSeconds.pipe),
        machineCoresMean: mean(cpuSeconds.machine),
        oldSeconds: (Math.min(oldEnd, phaseEnd) - phaseStart - OLD_WARMUP_MS) / 1000,
      };
    };
    console.log(
      `  delay at half load — ${DELAY_PHASE_MS / 1000}-s phase of paced production (one batch per queue every ${PACE_MS} ms) at ` +
        `half the pipe's mean drain rate, from once the pipe`,
    );
    console.log(
      '  has delivered a first message per queue; delay = target − source store time of every replica produced in the phase (none ' +
        'discarded, hand-overs included):',
    );
    const fd = await delayPhase('ferry', ferryRate);
    console.log(
      `    Ferry at ${r0(fd.produced)} msgs/s: p50 ${pct(fd.all, 0.5)} ms, p99 ${pct(fd.all, 0.99)} ms, max ${fd.all.at(-1)} ms ` +
        `over ${fd.all.length} messages (${fd.dup} duplicates); load average ${load()}`,
    );
    console.log(
      `      p99 per 10 s of the phase: ${fd.windowP99.join(' ')} ms; replicator processes (phase time): ${fd.processes.join(', ')}`,
    );
    console.log(
      `      cores used per 10 s by the replicator processes: ${fd.pipeCores.join(' ')}; by the whole machine (2 cores): ` +
        `${fd.machineCores.join(' ')}`,
    );
    for (const h of fd.handOvers) {
      console.log(
        `      hand-over: successor started at ${h.at.toFixed(1)} s, the holder ended ${h.overlapMs} ms later; longest pause in ` +
          `deliveries ${h.pause} ms, worst delay ${h.worst} ms`,
      );
    }
    console.log(
      `    old method from the same run (first ${OLD_WARMUP_MS / 1000} s discarded; the first invocation's next ` +
        `${fd.oldSeconds.toFixed(0)} s only, no hand-over): p50 ${pct(fd.old, 0.5)} ms, p99 ${pct(fd.old, 0.99)} ms, max ` +
        `${fd.old.at(-1)} ms`,
    );
    const jd = await delayPhase('java', javaRate);
    console.log(
      `    Java at ${r0(jd.produced)} msgs/s: p50 ${pct(jd.all, 0.5)} ms, p99 ${pct(jd.all, 0.99)} ms, max ${jd.all.at(-1)} ms over ` +
        `${jd.all.length} messages (one JVM; ${jd.dup} duplicates);` +
        ` old method (first ${OLD_WARMUP_MS / 1000} s discarded): p50 ${pct(jd.old, 0.5)} ms, p99 ${pct(jd.old, 0.99)} ms; load ` +
        `average ${load()}`,
    );
    console.log(
      `      p99 per 10 s of the phase: ${jd.windowP99.join(' ')} ms; cores used per 10 s by the JVM: ${jd.pipeCores.join(' ')}; by ` +
        `the whole machine: ${jd.machineCores.join(' ')}`,
    );
    const halfLoadPerGb = { ferry: fd.cpu / ((fd.n * BODY.length) / GB), java: jd.cpu / ((jd.n * BODY.length) / GB) };
    console.log(
      `  CPU per GB at half load (the delay phases, from the phase's start to its last replica): Ferry ` +
        `${halfLoadPerGb.ferry.toFixed(1)} CPU-s/GB, Java ${halfLoadPerGb.java.toFixed(1)} CPU-s/GB`,
    );
    duplicates += fd.dup;
    javaDuplicates += jd.dup;

    // ── Cold start: a fresh replicator process draining a backlog, second by second; then with V8 flags.
    const coldCount = Math.min(COLD_MAX_COUNT, Math.max(count, Math.round(ferryRate * COLD_DRAIN_S)));
    t0 = performance.now();
    for (const t of T.cold) await produce(a, t, coldCount);
    console.log(
      `  cold start — a fresh replicator process drains a backlog of ${coldCount} (${COLD_RUNS.length} × produced in ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s beforehand);` +
        ` deliveries per second after the process started (replicas' target store times), steady = rate from second ` +
        `${COLD_STEADY_FROM_S} to the last replica:`,
    );
    const cold: {
      flags: string;
      below80: number;
      reach80S: number;
      steady: number;
      perSecond: number[];
      toFirstMs: number;
      cpuPerGb: number;
      rssMb: number;
    }[] = [];
    for (const [i, flags] of COLD_RUNS.entries()) {
      const topic = T.cold[i]!;
      const f = await ferry(`bench-cold-${i}`, topic, 'earliest', flags.split(' ').filter(Boolean));
      await waitFor(b, topic, coldCount, f.ended);
      const used = f.cpu();
      duplicates += (await settle(b, topic)) - coldCount; // by count: the per-message check is done in the rounds
      await f.stop();
      const spawn = f.firstSpawnAt();
      const stored = (await readReplicas(b, topic, ORIGIN.storeTimestamp)).stored.sort((x, y) => x - y);
      const end = stored.at(-1)!;
      const perSecond = Array.from({ length: COLD_SECONDS }, () => 0);
      for (const t of stored) {
        const s = Math.floor((t - spawn) / 1000);
        if (s < COLD_SECONDS) perSecond[s]!++;
      }
      perSecond.length = Math.min(COLD_SECONDS, Math.ceil((end - spawn) / 1000)); // the last one may be partial
      // Steady: from COLD_STEADY_FROM_S after the start to the last replica (the drain's last third if that is too short).
      const from = end - spawn > (COLD_STEADY_FROM_S + 3) * 1000 ? spawn + COLD_STEADY_FROM_S * 1000 : end - (end - stored[0]!) / 3;
      const steady = stored.filter((t) => t >= from).length / ((end - from) / 1000);
      // How long the fresh process runs below speed: its leading seconds under 80 % of steady.
      let below80 = perSecond.findIndex((x) => x >= 0.8 * steady);
      if (below80 < 0) below80 = COLD_SECONDS;
      // Finer: when a sliding 1-s window first holds 80 % of a steady second.
      let reach80S = NaN;
      for (let lo = 0, k = 0; k < stored.length; k++) {
        while (stored[lo]! <= stored[k]! - 1000) lo++;
        if (k - lo + 1 >= 0.8 * steady) {
          reach80S = (stored[k]! - spawn) / 1000;
          break;
        }
      }
      const row = {
        flags: flags || '(none)',
        below80,
        reach80S,
        steady,
        perSecond,
        toFirstMs: stored[0]! - spawn,
        cpuPerGb: used / ((coldCount * BODY.length) / GB),
        rssMb: f.peakRssKb() / 1024,
      };
      cold.push(row);
      console.log(
        `    node ${row.flags}: first replica ${row.toFirstMs} ms after the start; seconds 1–${COLD_SECONDS}: ` +
          `${perSecond.join(' ')}; steady ${r0(steady)} msgs/s;` +
          ` its first ${below80} s below 80 % of steady (a sliding 1-s window first reaches 80 % at ${reach80S.toFixed(1)} s);` +
          ` ${row.cpuPerGb.toFixed(1)} CPU-s/GB; peak RSS ${row.rssMb.toFixed(0)} MiB; load average ${load()}`,
      );
    }
    const byFlags = ['(none)', ...COLD_FLAGS].map((flags) => {
      const runs = cold.filter((c) => c.flags === flags);
      return {
        flags,
        below80: mean(runs.map((c) => c.below80)),
        reach80S: mean(runs.map((c) => c.reach80S)),
        steady: mean(runs.map((c) => c.steady)),
        rssMb: Math.max(...runs.map((c) => c.rssMb)),
        each: runs.map((c) => `${c.below80} s (${c.reach80S.toFixed(1)})`).join(', '),
      };
    });
    const base = byFlags[0]!;
    for (const v of byFlags) {
      console.log(
        `    ${v.flags === '(none)' ? 'without flags' : v.flags}: leading seconds below 80 % ${v.each} → mean ` +
          `${v.below80.toFixed(1)} s, 80 % reached at ${v.reach80S.toFixed(1)} s;` +
          ` steady ${r0(v.steady)} msgs/s; peak RSS ${v.rssMb.toFixed(0)} MiB`,
      );
    }
    // Second-by-second record of the delay phases and the cold starts, for a closer look.
    const record = join(tmpdir(), `ferry-bench-replication-${run}.json`);
    writeFileSync(
      record,
      JSON.stringify({
        ferryDelay: { processes: fd.processes, perSecond: fd.seconds },
        javaDelay: { perSecond: jd.seconds },
        cold: cold.map(({ flags, perSecond }) => ({ flags, perSecond })),
      }),
    );
    console.log(`  per-second record of the delay phases (messages and worst delay by source second) and cold starts: ${record}`);
    console.log(
      `  peak RSS of a replicator process (VmHWM; any phase, without flags): ${(peakRssKbAll / 1024).toFixed(0)} MiB; Java pipe JVM ` +
        `${(javaPeakRssKb / 1024).toFixed(0)} MiB; run took ${((Date.now() - started) / 60_000).toFixed(1)} min; load average ${load()}`,
    );

    const figures: Record<string, number | string | null> = {
      count,
      rounds: ROUNDS,
      msgsPerSec: r0(ferryRate),
      javaMsgsPerSec: r0(javaRate),
      ferryRounds: rounds.ferry.map(r0).join('/'),
      javaRounds: rounds.java.map(r0).join('/'),
      ratioRounds: ratios.map((x) => x.toFixed(2)).join('/'),
      ratioMin: r2(Math.min(...ratios)),
      ratioMean: r2(mean(ratios)),
      ratioMinFromStart: r2(Math.min(...ratiosFromStart)),
      delayLoadMsgsPerSec: r0(fd.produced),
      delayP50Ms: pct(fd.all, 0.5),
      delayP99Ms: pct(fd.all, 0.99),
      delayMaxMs: fd.all.at(-1) ?? null,
      handOversInDelayPhase: fd.handOvers.length,
      delayP50OldMethodMs: pct(fd.old, 0.5),
      delayP99OldMethodMs: pct(fd.old, 0.99),
      javaDelayLoadMsgsPerSec: r0(jd.produced),
      javaDelayP50Ms: pct(jd.all, 0.5),
      javaDelayP99Ms: pct(jd.all, 0.99),
      javaDelayP99OldMethodMs: pct(jd.old, 0.99),
      ferryCoresAtHalfLoad: r2(fd.pipeCoresMean),
      javaCoresAtHalfLoad: r2(jd.pipeCoresMean),
      machineCoresDuringDelayPhases: `${fd.machineCoresMean.toFixed(2)}/${jd.machineCoresMean.toFixed(2)}`,
      cpuSecPerGbFerry: r2(cpuPerGb.ferry),
      cpuSecPerGbJava: r2(cpuPerGb.java),
      cpuSecPerGbJavaFromReady: r2(cpuPerGb.javaAfterReady),
      cpuSecPerGbFerryHalfLoad: r2(halfLoadPerGb.ferry),
      cpuSecPerGbJavaHalfLoad: r2(halfLoadPerGb.java),
      peakRssMb: r0(peakRssKbAll / 1024),
      javaPeakRssMb: r0(javaPeakRssKb / 1024),
      bornDistinctMsgsPerSec: r0(bornDrain.rate),
      bornBatchedMsgsPerSec: r0(ferryRate),
      bornChanged: bornCheck.bornChanged,
      coldSecondsBelow80: r2(base.below80),
      coldReach80S: r2(base.reach80S),
      coldSteadyMsgsPerSec: r0(base.steady),
      coldFirstSeconds: cold[0]!.perSecond.join('/'),
      duplicates,
      javaDuplicates,
      loadAverage: load(),
    };
    for (const c of byFlags.slice(1)) {
      const k = c.flags.replace(/^--/, '').replace(/[^a-z0-9]+/gi, '_');
      figures[`coldSecondsBelow80_${k}`] = r2(c.below80);
      figures[`coldReach80S_${k}`] = r2(c.reach80S);
      figures[`peakRssMb_${k}`] = r0(c.rssMb);
    }
    return figures;
  } finally {
    for (const i of invokers) await i.drain().catch(() => undefined);
    a.remoting.close();
    b.remoting.close();
    await store.close();
    await db.drop();
    await Promise.all(owned.map((c) => c.stop()));
  }
};

export default bench;

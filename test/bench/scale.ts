// `npm run bench -- scale [topics] [queues] [burst]` (default 1,000 topics × 8 queues, a burst of
// 50,000): Ferry at scale, as `npm start` runs it. Two fresh 5.3.3 clusters (the harness's small
// heaps); the topics are created on the SOURCE only (Ferry's metadata sync makes them on the
// target); the local runtime (infra/local/main.ts under tsx, a child process) on a throwaway
// PostgreSQL database at LOG_LEVEL=info; ONE one-way task over all topics created through the
// HTTP API. Phases:
//   1. baseline    every JVM of both clusters (namesrv, proxy+broker) over IDLE_MS, no task yet
//   2. Ferry idle  the task running, its topics on the target, nothing written: the same JVMs and
//                  the runtime process over FERRY_IDLE_MS → broker extra = (2) − (1), Ferry idle cores
//   3. trickle     a message to EVERY queue every ~8 s (≈1,000 msgs/s at 8,000 queues) for 60 s
//   4. burst       `burst` messages as fast as the producer sends them (64 in flight), then the
//                  wait until every one is on the target
// The producer is this process with Ferry's own BrokerClient (single sends with explicit queue
// ids, one connection): FerryPeer produces to one topic per JVM, too dear for thousands of topics.
// Every replica is then read back from the target: delay = target store time − FERRY_ORIGIN_STORE_TS
// (the source's store time, set on every replica by Ferry), per phase; missing/duplicates by
// UNIQ_KEY (the producer's id, which a replica keeps). CPU = utime+stime from /proc/<pid>/stat;
// RSS = VmRSS sampled every second and the kernel's VmHWM at the end, of the runtime process, which
// hosts the API, reconciler, metadata sync AND every replicator invocation (and tsx's loader):
// an upper bound for one replicator process. Error lines: the runtime's JSON log lines with
// level ≥ 50 (pino error/fatal). Shards: the task's live leases in the store, sampled during the run.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import pLimit from 'p-limit';
import pg from 'pg';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { createUniqKey } from '../../shared/rocketmq/remoting/uniq-key.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import type { Bench } from './run.ts';
import { startPair } from './_clusters.ts';

const VERSION = '5.3.3';
const CREATE_BATCH = 1000;
/** The baseline window (no Ferry). */
const IDLE_MS = 60_000;
/** Ferry's idle window spans a whole replicator budget (the product default), so its hand-overs are in the figure. */
const FERRY_IDLE_MS = 300_000;
/** Before each idle window: timers, first sync cycles and JIT settle. */
const SETTLE_MS = 15_000;
const TRICKLE_MS = 60_000;
/** Trickle: each queue gets a message every N/TRICKLE_RATE s, kept within 1–8 s. */
const TRICKLE_RATE = 1000;
const TRICKLE_INFLIGHT = 512;
const BURST_INFLIGHT = 64;
const BODY = Buffer.alloc(128, 's');
const PHASE_PROP = 'BENCH_PHASE';
/** Waiting for the target: give up when its count has not moved for this long. */
const STALL_MS = 120_000;
const GOALS = { p99Ms: 1000, rssMb: 256, errorLines: 0, ferryIdleCores: 0.05, brokerExtraCores: 0.05, failedSends: 0 };

/** Waiting for the target: give up after this long in all. */
const TARGET_WAIT_MS = 900_000;

/** Set by SIGINT/SIGTERM: the next pause throws, so the run ends through its cleanup. */
let interrupted = false;
const sleep = (ms: number) =>
  new Promise<void>((resolve, reject) => setTimeout(() => (interrupted ? reject(new Error('interrupted')) : resolve()), ms));
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const round = (x: number, digits = 3) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : null);

/** utime + stime of a process, seconds (undefined once it is gone). */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Child processes of pid (the runtime's replicator processes). */
function childrenOf(pid: number | undefined): number[] {
  if (!pid) return [];
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds of a process and all its children so far: its own, its reaped children's, its live children's. */
function treeCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
    return own + childrenOf(pid).reduce((n, c) => n + (cpuSeconds(c) ?? 0), 0);
  } catch {
    return 0;
  }
}

/** CPU cores a process tree used over a window: call it, then the function it returns. */
function treeCpuWindow(pid: number | undefined) {
  const t0 = performance.now();
  const c0 = treeCpuSeconds(pid);
  return () => (treeCpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000);
}

/** VmRSS / VmHWM of a process, KiB. */
function memKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (!pid) return 0;
  try {
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** The process exists and is not a zombie. */
function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** CPU cores the processes used over a window: call start(), then end(). */
function cpuWindow(pids: () => (number | undefined)[]) {
  const t0 = performance.now();
  const c0 = pids().map(cpuSeconds);
  return () => {
    const secs = (performance.now() - t0) / 1000;
    const c1 = pids().map(cpuSeconds);
    let used = 0;
    c1.forEach((c, i) => {
      if (c !== undefined && c0[i] !== undefined) used += c - c0[i]!;
    });
    return used / secs;
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it returns a value, failing after `ms`. */
async function waitFor<T>(what: string, ms: number, everyMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s`);
    await sleep(everyMs);
  }
}

const pct = (d: number[], p: number) => d[Math.min(d.length - 1, Math.floor(d.length * p))] ?? NaN;

const endpoint = (c: ClusterInfo) => ({ clusterType: 'self-built', clusterId: c.name, nameServer: c.nameServer, networkType: 'public' });

interface Queue {
  topic: string;
  queueId: number;
}

const bench: Bench = async (args) => {
  const [topicCount = 1000, queueCount = 8, burstCount = 50_000] = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const inProcess = args.includes('--in-process');
  const totalQueues = topicCount * queueCount;
  const intervalMs = Math.min(8000, Math.max(1000, (totalQueues / TRICKLE_RATE) * 1000));
  console.log(
    `scale bench: ${topicCount} topics × ${queueCount} queues (${totalQueues} queues), RocketMQ ${VERSION} → ${VERSION} (1 broker ` +
      `each), local runtime on PostgreSQL; ` +
      `trickle: a message per queue every ${(intervalMs / 1000).toFixed(1)} s for ${TRICKLE_MS / 1000} s, then a burst of ` +
      `${burstCount}; ${availableParallelism()} CPUs, load average ${load()}`,
  );

  const onSignal = () => {
    if (interrupted) process.exit(130); // a second signal: the harness's exit handlers kill the JVMs
    interrupted = true;
    console.error('  interrupted: cleaning up (again to exit at once)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let runtimePidForExit: number | undefined;
  const killRuntimeOnExit = () => {
    try {
      if (runtimePidForExit) process.kill(runtimePidForExit, 'SIGKILL');
    } catch {
      // gone
    }
  };
  process.once('exit', killRuntimeOnExit);

  const [ca, cb] = await startPair(['scale-a', 'scale-b']);
  let rt: Runtime | undefined;
  const remoting = new RemotingClient({ requestTimeoutMs: 30_000 });
  const broker = new BrokerClient(remoting, { producerGroup: 'BENCH_SCALE_PRODUCER', consumerGroup: 'BENCH_SCALE_READER' });
  let db: pg.Client | undefined;
  let rssTimer: NodeJS.Timeout | undefined;
  let shardTimer: NodeJS.Timeout | undefined;
  try {
    const aAddr = ca.info.brokers[0]!.address;
    const bAddr = cb.info.brokers[0]!.address;
    const aAdmin = new RemotingAdmin(remoting, new NameServerClient(remoting, ca.info.nameServer), { timeoutMs: 30_000 });
    const bAdmin = new RemotingAdmin(remoting, new NameServerClient(remoting, cb.info.nameServer), { timeoutMs: 30_000 });
    const jvmPids = () => [...ca.pids(), ...cb.pids()].map((p) => p.pid);
    const run = Date.now().toString(36);
    const topics = Array.from({ length: topicCount }, (_, i) => `scale_${run}_${i}`);
    const queues: Queue[] = topics.flatMap((topic) => Array.from({ length: queueCount }, (_, queueId) => ({ topic, queueId })));

    // ── setup: topics on the source only; the runtime (no task yet, so it touches no cluster) ──
    const t0 = performance.now();
    for (let i = 0; i < topicCount; i += CREATE_BATCH) {
      await aAdmin.createOrUpdateTopicList(
        aAddr,
        topics
          .slice(i, i + CREATE_BATCH)
          .map((topicName) => ({ cfg: { topicName, readQueueNums: queueCount, writeQueueNums: queueCount, perm: 6 } })),
      );
    }
    const onA = await aAdmin.getAllTopicConfigs(aAddr);
    const missingOnA = topics.filter((t) => !onA.has(t)).length;
    if (missingOnA > 0) throw new Error(`setup: ${missingOnA} topics missing on the source`);
    console.log(
      `  setup: ${topicCount} topics created on the source in ${((performance.now() - t0) / 1000).toFixed(1)} s (list requests of ` +
        `${CREATE_BATCH})`,
    );
    // As on a function platform, every replicator invocation is its own process (FERRY_INVOKER=process);
    // `--in-process` runs them inside the runtime instead.
    rt = await startRuntime({ store: 'postgres', env: { LOG_LEVEL: 'info', ...(inProcess ? {} : { FERRY_INVOKER: 'process' }) } });
    const runtimePid = rt.pid;
    runtimePidForExit = runtimePid;
    const api = client(rt);
    db = new pg.Client({ connectionString: rt.databaseUrl, connectionTimeoutMillis: 5000 });
    await db.connect();
    let peakRssKb = 0;
    let peakReplicatorKb = 0;
    rssTimer = setInterval(() => {
      peakRssKb = Math.max(peakRssKb, memKb(runtimePid, 'VmRSS'));
      for (const c of childrenOf(runtimePid)) peakReplicatorKb = Math.max(peakReplicatorKb, memKb(c, 'VmRSS'));
    }, 1000);

    // ── 1. baseline: the clusters idle, Ferry running without a task ──
    await sleep(SETTLE_MS);
    let end = cpuWindow(jvmPids);
    let endFerry = treeCpuWindow(runtimePid);
    await sleep(IDLE_MS);
    const brokerBaseline = end();
    const ferryNoTask = endFerry();
    const rssNoTaskMb = Math.round(memKb(runtimePid, 'VmRSS') / 1024);
    console.log(
      `  1. baseline over ${IDLE_MS / 1000} s, no task: the 4 JVMs of both clusters ${brokerBaseline.toFixed(3)} cores (runtime ` +
        `without tasks ${ferryNoTask.toFixed(3)} cores, RSS ${rssNoTaskMb} MiB); load average ${load()}`,
    );

    // ── the task, through the HTTP API ──
    const created = await withTimeout(
      api('POST', '/v1/tasks', { name: 'scale-bench', direction: 'one-way', source: endpoint(ca.info), target: endpoint(cb.info) }),
      30_000,
      'POST /v1/tasks',
    );
    if (created.status !== 201) throw new Error(`POST /v1/tasks: ${created.status} ${created.text}`);
    const taskId = String(created.body.id);
    const c0 = performance.now();
    let described: Record<string, unknown> = {};
    await waitFor('task running', 180_000, 500, async () => {
      const r = await withTimeout(api('GET', `/v1/tasks/${taskId}`), 30_000, 'GET /v1/tasks/{id}');
      described = r.body ?? {};
      if (r.body?.status === 'start_failed') throw new Error(`task start failed: ${r.body.statusReason ?? r.text}`);
      return r.body?.status === 'running' ? true : undefined;
    });
    const runningS = (performance.now() - c0) / 1000;
    await waitFor('the topics on the target (metadata sync)', 300_000, 1000, async () => {
      const onB = await bAdmin.getAllTopicConfigs(bAddr);
      return topics.every((t) => onB.get(t)?.writeQueueNums === queueCount) ? true : undefined;
    });
    const syncedS = (performance.now() - c0) / 1000;

    /** Live leases of the task's replication flows (the shards being replicated now; not metadata sync's lease), from the store. */
    let leaseError: string | undefined;
    const liveShards = async (): Promise<number | undefined> => {
      try {
        const r = await db!.query(
          `SELECT count(*)::int AS n FROM leases WHERE task_id = $1 AND flow <> 'metadata' AND expires_at_ms > (extract(epoch FROM ` +
            `clock_timestamp()) * 1000)::bigint`,
          [taskId],
        );
        return r.rows[0].n as number;
      } catch (err) {
        leaseError = (err as Error).message;
        return undefined;
      }
    };
    /** The shard plans' counts per flow, where the store has them (a table the replicator rewrite adds). */
    const plannedShards = async (): Promise<string | undefined> => {
      try {
        const r = await db!.query(`SELECT flow, shard_count FROM shard_plans WHERE task_id = $1 ORDER BY flow`, [taskId]);
        return r.rows.length
          ? r.rows.map((x: { flow: string; shard_count: number }) => `${x.flow} ${x.shard_count}`).join(', ')
          : 'no rows';
      } catch {
        return undefined;
      }
    };
    let shardsMax = 0;
    await waitFor('a replicator holding a lease', 120_000, 500, async () => ((await liveShards()) ?? 1) > 0 || undefined);
    const sampleShards = async () => (shardsMax = Math.max(shardsMax, (await liveShards()) ?? 0));
    await sampleShards();
    const shardField = Object.keys(described).find((k) => /shard/i.test(k));
    console.log(
      `  task ${taskId}: running after ${runningS.toFixed(1)} s, all ${topicCount} topics on the target after ${syncedS.toFixed(1)} s; ` +
        `live leases (shards) ${shardsMax}${leaseError ? ` (leases table: ${leaseError})` : ''}; GET /v1/tasks/{id} ` +
        `${shardField ? `${shardField}: ${JSON.stringify(described[shardField])}` : 'names no shard count'}`,
    );

    // ── the producer ──
    const acked = new Map<string, 'warm' | 'trickle' | 'burst'>();
    const failedKeys = new Set<string>();
    const failures = new Map<string, number>();
    let inflight = 0;
    const send = (q: Queue, phase: 'warm' | 'trickle' | 'burst'): Promise<void> => {
      const uniqKey = createUniqKey();
      inflight++;
      return broker
        .send(aAddr, q.topic, q.queueId, { body: BODY, uniqKey, properties: { [PHASE_PROP]: phase } })
        .then(
          (r) => {
            if (r.status === 'SEND_OK') acked.set(uniqKey, phase);
            else {
              failedKeys.add(uniqKey);
              failures.set(r.status, (failures.get(r.status) ?? 0) + 1);
            }
          },
          (err: Error) => {
            failedKeys.add(uniqKey);
            const why = err.message.slice(0, 120);
            failures.set(why, (failures.get(why) ?? 0) + 1);
          },
        )
        .finally(() => inflight--);
    };
    const drainSends = () => waitFor('the producer’s last sends', 60_000, 10, async () => (inflight === 0 ? true : undefined));

    // ── warm-up: one message per queue, so both brokers have made every queue's files (a new
    // queue's first message costs the broker a file; real clusters' queues exist already) ──
    const targetCount = async () => {
      let n = 0;
      await pLimit(32).map(queues, async (q) => {
        const max = await broker.maxOffset(bAddr, q.topic, q.queueId);
        n += max;
      });
      return n;
    };
    const w0 = performance.now();
    await pLimit(64).map(queues, (q) => send(q, 'warm'));
    await drainSends();
    await waitFor('the warm-up messages on the target', TARGET_WAIT_MS, 1000, async () =>
      (await targetCount()) >= acked.size ? true : undefined,
    );
    console.log(
      `  warm-up: one message per queue (${queues.length}) sent and on the target in ` +
        `${((performance.now() - w0) / 1000).toFixed(1)} s (not part of the figures)`,
    );

    // ── 2. Ferry idle: the task running, nothing written ──
    await sleep(SETTLE_MS);
    end = cpuWindow(jvmPids);
    endFerry = treeCpuWindow(runtimePid);
    // The runtime process alone (API, reconciler, metadata sync, in-process replicators), the rest
    // being replicator processes: where idle CPU goes.
    const endRuntimeOwn = cpuWindow(() => [runtimePid]);
    await sleep(FERRY_IDLE_MS);
    const brokerFerryIdle = end();
    const ferryIdle = endFerry();
    const ferryIdleRuntime = endRuntimeOwn();
    const brokerExtra = brokerFerryIdle - brokerBaseline;
    console.log(
      `  2. Ferry idle over ${FERRY_IDLE_MS / 1000} s (a whole replicator budget): runtime process ${ferryIdle.toFixed(3)} cores ` +
        `(itself ${ferryIdleRuntime.toFixed(3)}, its replicator processes ${(ferryIdle - ferryIdleRuntime).toFixed(3)}); ` +
        'the 4 JVMs ' +
        `${brokerFerryIdle.toFixed(3)} cores → extra broker CPU ${brokerExtra.toFixed(3)} cores; load average ${load()}`,
    );
    shardTimer = setInterval(() => void sampleShards(), 5000);

    // ── 3. trickle: message k goes to queue k mod N at k·interval/N ──
    const trickleTotal = Math.floor((TRICKLE_MS / intervalMs) * totalQueues);
    let maxBehind = 0;
    end = cpuWindow(jvmPids);
    endFerry = treeCpuWindow(runtimePid);
    const tr0 = performance.now();
    for (let next = 0; next < trickleTotal; ) {
      const due = Math.min(trickleTotal, Math.floor(((performance.now() - tr0) * totalQueues) / intervalMs) + 1);
      for (; next < due && inflight < TRICKLE_INFLIGHT; next++) void send(queues[next % totalQueues]!, 'trickle');
      maxBehind = Math.max(maxBehind, due - next);
      await sleep(5);
    }
    await drainSends();
    const trickleS = (performance.now() - tr0) / 1000;
    const trickleBrokerCores = end();
    const trickleFerryCores = endFerry();
    console.log(
      `  3. trickle: ${trickleTotal} sends in ${trickleS.toFixed(1)} s (${(trickleTotal / trickleS).toFixed(0)} msgs/s; at most ` +
        `${maxBehind} behind schedule), ${failedKeys.size} failed; ` +
        `runtime ${trickleFerryCores.toFixed(2)} cores, the 4 JVMs ${trickleBrokerCores.toFixed(2)} cores; load average ${load()}`,
    );

    // ── 4. burst ──
    const failedBefore = failedKeys.size;
    const bu0 = performance.now();
    await pLimit(BURST_INFLIGHT).map(
      Array.from({ length: burstCount }, (_, k) => k),
      (k) => send(queues[k % totalQueues]!, 'burst'),
    );
    await drainSends();
    const burstS = (performance.now() - bu0) / 1000;
    const burstEnd = performance.now();
    console.log(
      `  4. burst: ${burstCount} sends in ${burstS.toFixed(1)} s (${(burstCount / burstS).toFixed(0)} msgs/s, ${BURST_INFLIGHT} in ` +
        `flight), ${failedKeys.size - failedBefore} failed; load average ${load()}`,
    );

    // ── wait until every acknowledged message is on the target ──
    let onTarget = 0;
    let movedAt = Date.now();
    let stalled = false;
    const waitUntil = Date.now() + TARGET_WAIT_MS;
    for (;;) {
      const n = await targetCount();
      if (n !== onTarget) movedAt = Date.now();
      onTarget = n;
      if (n >= acked.size) break;
      if (Date.now() - movedAt > STALL_MS || Date.now() > waitUntil || !alive(runtimePid)) {
        stalled = true;
        break;
      }
      await sleep(2000);
    }
    const drainedS = (performance.now() - burstEnd) / 1000;
    await sleep(3000); // late extras (re-sent batches) show up as duplicates
    console.log(
      stalled
        ? `  target: ${onTarget} of ${acked.size} acknowledged messages after ${drainedS.toFixed(0)} s — stopped waiting (` +
            (alive(runtimePid)
              ? `nothing new for ${STALL_MS / 1000} s, or ${TARGET_WAIT_MS / 1000} s in all`
              : 'the runtime process has exited') +
            ')'
        : `  target: all ${acked.size} acknowledged messages there ${drainedS.toFixed(1)} s after the burst's last send`,
    );
    clearInterval(shardTimer);
    await sampleShards();

    // ── read every replica back ──
    const delays = { trickle: [] as number[], burst: [] as number[] };
    /** Worst trickle delay per 5-s window of source store time: shows whether slow messages cluster (hand-overs, GC). */
    const windows = new Map<number, number>();
    const seen = new Map<string, number>();
    let received = 0;
    let noOrigin = 0;
    await pLimit(16).map(queues, async (q) => {
      for (let offset = 0; ; ) {
        const r = await broker.pull(bAddr, { topic: q.topic, queueId: q.queueId, offset, maxMessages: 32 });
        for (const m of r.messages) {
          received++;
          const id = m.uniqKey ?? m.properties[ORIGIN.msgId] ?? m.msgId;
          seen.set(id, (seen.get(id) ?? 0) + 1);
          const src = Number(m.properties[ORIGIN.storeTimestamp]);
          const phase = m.properties[PHASE_PROP];
          if (!Number.isFinite(src)) noOrigin++;
          else if (phase === 'trickle' || phase === 'burst') {
            delays[phase].push(m.storeTimestamp - src);
            if (phase === 'trickle')
              windows.set(Math.floor(src / 5000), Math.max(windows.get(Math.floor(src / 5000)) ?? 0, m.storeTimestamp - src));
          }
        }
        if (r.messages.length === 0 || r.nextBeginOffset >= r.maxOffset) break;
        offset = r.nextBeginOffset;
      }
    });
    for (const d of Object.values(delays)) d.sort((x, y) => x - y);
    let missing = 0;
    for (const key of acked.keys()) if (!seen.has(key)) missing++;
    let duplicates = 0;
    let unacked = 0;
    for (const [key, n] of seen) {
      duplicates += n - 1;
      if (!acked.has(key)) unacked++;
    }
    const d = (phase: 'trickle' | 'burst') => ({
      p50: pct(delays[phase], 0.5),
      p99: pct(delays[phase], 0.99),
      max: delays[phase].at(-1) ?? NaN,
    });
    const tr = d('trickle');
    const bu = d('burst');
    console.log(
      `  read back: ${received} replicas on the target for ${acked.size} acknowledged sends: ${missing} missing, ${duplicates} ` +
        `duplicates, ${unacked} of failed sends, ${noOrigin} without ${ORIGIN.storeTimestamp}`,
    );
    const w = [...windows].sort((x, y) => x[0] - y[0]);
    console.log(`  worst trickle delay per 5-s window (ms): ${w.map(([, ms]) => ms).join(' ')}`);
    console.log(
      `  delay (target store time − source store time): trickle p50 ${tr.p50} ms, p99 ${tr.p99} ms, max ${tr.max} ms ` +
        `(${delays.trickle.length}); burst p50 ${bu.p50} ms, p99 ${bu.p99} ms, max ${bu.max} ms (${delays.burst.length})`,
    );

    // ── the runtime's figures ──
    const hwmKb = memKb(runtimePid, 'VmHWM');
    peakRssKb = Math.max(peakRssKb, hwmKb);
    const runtimeRssMb = Math.round(peakRssKb / 1024);
    // The figure the goal is about: one replicator process (in-process runs: the whole runtime, an upper bound).
    const peakRssMb = inProcess ? runtimeRssMb : Math.round(peakReplicatorKb / 1024);
    let errorLines = 0;
    let warnLines = 0;
    const otherLines: string[] = [];
    const errorSamples: string[] = [];
    const warnings = new Map<string, number>();
    for (const line of rt.output().split('\n')) {
      const t = line.trim();
      if (!t) continue;
      let level: number | undefined;
      let msg = '';
      try {
        const j = JSON.parse(t) as { level?: number; msg?: string; err?: { message?: string } };
        level = j.level;
        msg = `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}`;
      } catch {
        otherLines.push(t);
        continue;
      }
      if ((level ?? 0) >= 50) {
        errorLines++;
        if (errorSamples.length < 5) errorSamples.push(msg.slice(0, 200));
      } else if (level === 40) {
        warnLines++;
        warnings.set(msg.slice(0, 120), (warnings.get(msg.slice(0, 120)) ?? 0) + 1);
      }
    }
    // What each replicator invocation said of itself at its end (queues, memory).
    const ends = rt
      .output()
      .split('\n')
      .flatMap((l) => {
        try {
          const j = JSON.parse(l) as {
            msg?: string;
            exit?: string;
            queues?: number;
            rssMb?: number;
            heapUsedMb?: number;
            externalMb?: number;
            ms?: number;
          };
          return j.msg === 'replicator invocation done' ? [j] : [];
        } catch {
          return [];
        }
      });
    const starts = rt
      .output()
      .split('\n')
      .flatMap((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; time?: number; leaseAfterMs?: number; successor?: boolean; ms?: number };
          return j.msg === 'shard lease taken' || j.msg === 'shard copying' ? [j] : [];
        } catch {
          return [];
        }
      });
    if (starts.length)
      console.log(
        '  shard starts: ' +
          starts
            .map((j) =>
              j.msg === 'shard lease taken'
                ? `lease after ${j.leaseAfterMs} ms${j.successor ? ' (successor)' : ''}`
                : `copying after ${j.ms} ms more`,
            )
            .join('; '),
      );
    if (ends.length)
      console.log(
        `  replicator invocations ended: ` +
          `${ends.map((e) => `${e.exit} ${e.queues}q rss ${e.rssMb} heap ${e.heapUsedMb} ext ${e.externalMb} MiB`).join('; ')}`,
      );
    const failedSends = failedKeys.size;
    const runtimeDied = !alive(runtimePid);
    if (runtimeDied) console.log(`  THE RUNTIME PROCESS EXITED during the run (its last output is below)`);
    console.log(
      inProcess
        ? `  runtime process: peak RSS ${runtimeRssMb} MiB (max of VmRSS every second and VmHWM; API, reconciler, metadata sync, ` +
            `every replicator invocation and tsx's loader in ONE process: an upper bound per replicator process)`
        : `  peak RSS: ${peakRssMb} MiB the largest replicator process (VmRSS every second; each invocation its own process, ` +
            `FERRY_INVOKER=process), ${runtimeRssMb} MiB the runtime (API, reconciler, metadata sync)`,
    );
    console.log(
      `  log: ${errorLines} error-level lines (level ≥ 50), ${warnLines} warn lines, ${otherLines.length} lines that are not ` +
        `JSON${errorSamples.length ? `; first errors: ${errorSamples.map((s) => JSON.stringify(s)).join(', ')}` : ''}`,
    );
    if (warnings.size)
      console.log(
        `    warnings: ${[...warnings]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 5)
          .map(([m, n]) => `${n}× ${JSON.stringify(m)}`)
          .join(', ')}`,
      );
    if (otherLines.length)
      console.log(
        `    not JSON:\n${otherLines
          .slice(0, 12)
          .map((s) => `      ${s.slice(0, 200)}`)
          .join('\n')}`,
      );
    const plans = await plannedShards();
    console.log(
      `  shards: at most ${shardsMax} live leases of the task's replication flows ` +
        `(sampled every 5 s)${plans === undefined ? '' : `; shard_plans: ${plans}`}`,
    );
    console.log(
      `  producer (this process, BrokerClient.send with explicit queue ids): ${trickleTotal + burstCount} sends, ${failedSends} ` +
        `failed${failures.size ? `: ${[...failures].map(([w, n]) => `${n}× ${w}`).join('; ')}` : ''}`,
    );

    const missed = [
      !(tr.p99 < GOALS.p99Ms) && 'p99',
      !(peakRssMb < GOALS.rssMb) && 'rss',
      errorLines > GOALS.errorLines && 'errors',
      !(ferryIdle < GOALS.ferryIdleCores) && 'ferryIdle',
      !(brokerExtra < GOALS.brokerExtraCores) && 'brokerExtra',
      failedSends > GOALS.failedSends && 'failedSends',
      (missing > 0 || stalled) && 'missing',
      runtimeDied && 'runtimeExited',
    ].filter(Boolean);
    console.log(
      `  goals at 1,000 × 8: trickle p99 < ${GOALS.p99Ms} ms, RSS < ${GOALS.rssMb} MB, ${GOALS.errorLines} error lines, Ferry idle ` +
        `< ${GOALS.ferryIdleCores} cores, broker extra < ${GOALS.brokerExtraCores} cores, ${GOALS.failedSends} failed sends: ` +
        `${missed.length ? `missed ${missed.join(', ')}` : 'met'}; load average ${load()}`,
    );
    return {
      topics: topicCount,
      queues: queueCount,
      delayP50Ms: round(tr.p50, 0),
      delayP99Ms: round(tr.p99, 0),
      delayMaxMs: round(tr.max, 0),
      burstDelayP50Ms: round(bu.p50, 0),
      burstDelayP99Ms: round(bu.p99, 0),
      burstDelayMaxMs: round(bu.max, 0),
      peakRssMb,
      runtimeRssMb,
      rssNoTaskMb,
      runtimeExited: runtimeDied ? 1 : 0,
      ferryIdleCores: round(ferryIdle),
      ferryIdleRuntimeCores: round(ferryIdleRuntime),
      brokerExtraCores: round(brokerExtra),
      brokerBaselineCores: round(brokerBaseline),
      brokerFerryIdleCores: round(brokerFerryIdle),
      ferryNoTaskCores: round(ferryNoTask),
      ferryTrickleCores: round(trickleFerryCores, 2),
      errorLines,
      warnLines,
      nonJsonLines: otherLines.length,
      shards: shardsMax,
      failedSends,
      sent: trickleTotal + burstCount,
      acked: acked.size,
      received,
      missing,
      duplicates,
      trickleMsgsPerSec: Math.round(trickleTotal / trickleS),
      burstMsgsPerSec: Math.round(burstCount / burstS),
      burstDrainS: stalled ? null : round(drainedS, 1),
      metadataSyncS: round(syncedS, 1),
      goals: missed.length ? `missed: ${missed.join(',')}` : 'met',
      load1: round(loadavg()[0]!, 2),
    };
  } finally {
    clearInterval(rssTimer);
    clearInterval(shardTimer);
    remoting.close();
    await db?.end().catch(() => undefined);
    if (rt) {
      const pid = rt.pid;
      const kill = setTimeout(() => {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }, 20_000);
      await rt.stop().catch((err: unknown) => console.error(`  cleanup: runtime stop: ${(err as Error).message}`));
      clearTimeout(kill);
      runtimePidForExit = undefined;
    }
    await Promise.all([ca.stop(), cb.stop()]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
};
export default bench;

// `npm run bench -- replication [count]`: ONE replicator process (a child, as a function instance
// would be) vs a Java pull→send pipe (FerryPeer bench-pipe: DefaultLitePullConsumer +
// DefaultMQProducer, one sender thread per queue) between the same two 5.3.3 clusters: throughput at
// saturation (1 KiB, 8 queues), end-to-end delay p50/p99 at 50% of that load, and the replicator's
// peak RSS. The clusters are started for the run, or with FERRY_TESTBED set (a shared, busy machine)
// the test bed's 5.3.3 pair is used: `v5` → `v5acl` (AK/SK on the target for both pipes).
//
// Throughput is the drain rate of a backlog produced beforehand, so the producer's speed is not what
// gets measured; both pipes are measured the same way, on the target: count over the span of the
// brokers' store times of the first and the last replica; two rounds in opposite order, averaged,
// after an unmeasured warm-up drain through each (fresh brokers are slow for the first tens of
// thousands of messages). Every phase checks that exactly the messages produced arrived
// (duplicates are reported; a stall or a pipe that died fails the run instead of waiting forever).
// Delay: target store time − source store time of each replica, production paced at half the
// pipe's measured rate, once the pipe has delivered a first message per queue and past the first
// WARMUP_MS of the stream.
import { spawn } from 'node:child_process';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RocketMQCluster, type ClusterInfo } from '../../infra/rocketmq/cluster.ts';
import { javaPeer, javaPeerClasses, type JavaPeerResult } from '../../infra/rocketmq/java-peer.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RemotingResponseError, ResponseCode } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayPostgres } from '../support/databases.ts';
import { TESTBED_ENV, testCluster } from '../support/testbed.ts';
import type { Bench } from './run.ts';

const QUEUES = 8;
const BODY = Buffer.alloc(1024, 'r');
/**
 * Delay phase: this long at half load, the first WARMUP_MS of it not counted: each pipe runs in a
 * fresh process (as a new replicator invocation does), whose JIT takes seconds to reach speed.
 */
const DELAY_PHASE_MS = 30_000;
const WARMUP_MS = 8_000;
/**
 * Largest batch either pipe sends: Ferry merges what its queue reader holds (READ_AHEAD 4 pulls of
 * 32), and the Java pipe's per-queue sender merges waiting polls up to the same bound.
 */
const SEND_BATCH = 256;
/**
 * The paced producer sends what is due every PACE_MS per queue (a batching producer): finer pacing
 * costs the 2-core machine thousands of tiny sends a second, which both pipes then wait behind.
 */
const PACE_MS = 20;
/** Warm-up drains (both pipes, not measured): fresh brokers store and serve the first tens of thousands of messages slowly. */
const WARMUP_COUNT = 20_000;
/** A phase fails when the target count has not moved for this long. */
const STALL_MS = 60_000;
const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Side = { c: ClusterInfo; remoting: RemotingClient; broker: BrokerClient; admin: RemotingAdmin; addr: string; name: string; ns: string };
const side = (c: ClusterInfo): Side => {
  const remoting = new RemotingClient({ credentials: c.acl });
  return { c, remoting, broker: new BrokerClient(remoting), admin: new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer)), addr: c.brokers[0]!.address, name: c.name, ns: c.nameServer };
};

/** The pipe's Java arguments for one side's credentials, if it has any. */
const javaAcl = (prefix: 'src' | 'dst', c: ClusterInfo) => (c.acl ? [`--${prefix}-ak`, c.acl.accessKey, `--${prefix}-sk`, c.acl.secretKey] : []);
const endpoint = (c: ClusterInfo) => ({
  clusterType: 'self-built' as const,
  clusterId: c.name,
  nameServer: c.nameServer,
  networkType: 'public' as const,
  ...(c.acl ? { acl: { enabled: true, accessKey: c.acl.accessKey, secretKey: c.acl.secretKey } } : {}),
});

/**
 * `count` messages over the 8 queues, one sender per queue; paced to `perSecond` in total when
 * given (small batches every few ms, as a steady stream). Returns the rate actually produced.
 */
async function produce(s: Side, topic: string, count: number, perSecond?: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: QUEUES }, async (_, q) => {
      const mine = Math.floor(count / QUEUES) + (q < count % QUEUES ? 1 : 0);
      for (let sent = 0; sent < mine; ) {
        let n = Math.min(perSecond ? 256 : 32, mine - sent);
        if (perSecond) {
          const due = Math.floor(((performance.now() - t0) / 1000) * (perSecond / QUEUES)) - sent;
          if (due <= 0) {
            await sleep(PACE_MS);
            continue;
          }
          n = Math.min(n, due);
        }
        try {
          await s.broker.sendBatch(s.addr, topic, q, Array.from({ length: n }, () => ({ body: BODY })));
        } catch (err) {
          // A busy broker refused the batch (nothing stored): back off and send it again.
          if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.SYSTEM_BUSY) {
            await sleep(50);
            continue;
          }
          throw err;
        }
        sent += n;
      }
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

async function targetCount(s: Side, topic: string): Promise<number> {
  let n = 0;
  for (let q = 0; q < QUEUES; q++) n += await s.broker.maxOffset(s.addr, topic, q);
  return n;
}

/**
 * Waits until `count` messages are on the target, then a little longer, and returns how many are
 * there (more than `count`: duplicates). Fails when nothing new arrives for STALL_MS, or when the
 * pipe process ended before delivering them all.
 */
async function arrived(s: Side, topic: string, count: number, ended?: () => string | undefined): Promise<number> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const n = await targetCount(s, topic);
    if (n >= count) {
      await sleep(2000); // late extras (retried sends) show up as duplicates
      return targetCount(s, topic);
    }
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    }
    const why = ended?.();
    if (why) throw new Error(`${topic}: ${n} of ${count} arrived and the pipe ended: ${why}`);
    if (Date.now() - movedAt > STALL_MS) throw new Error(`${topic}: ${n} of ${count} arrived, nothing new for ${STALL_MS / 1000} s`);
    await sleep(100);
  }
}

/** Messages per second over the span of the target's store times (first replica to last). */
async function drainRate(s: Side, topic: string, count: number): Promise<number> {
  let first = Infinity;
  let lastTs = -Infinity;
  for (let q = 0; q < QUEUES; q++) {
    const max = await s.broker.maxOffset(s.addr, topic, q);
    if (max === 0) continue;
    const head = await s.broker.pull(s.addr, { topic, queueId: q, offset: 0, maxMessages: 1 });
    const tail = await s.broker.pull(s.addr, { topic, queueId: q, offset: max - 1, maxMessages: 1 });
    first = Math.min(first, head.messages[0]!.storeTimestamp);
    lastTs = Math.max(lastTs, tail.messages[0]!.storeTimestamp);
  }
  return count / (Math.max(1, lastTs - first) / 1000);
}

/** Delays (target store time − source store time) of the replicas whose source was stored at or after `from`. */
async function delays(s: Side, topic: string, property: string, from: number): Promise<number[]> {
  const out: number[] = [];
  for (let q = 0; q < QUEUES; q++) {
    let offset = 0;
    for (;;) {
      const r = await s.broker.pull(s.addr, { topic, queueId: q, offset, maxMessages: 32 });
      if (r.messages.length === 0) break;
      for (const m of r.messages) {
        const sourceTs = Number(m.properties[property]);
        if (sourceTs >= from) out.push(m.storeTimestamp - sourceTs);
      }
      offset = r.nextBeginOffset;
    }
  }
  return out.sort((a, b) => a - b);
}
const pct = (d: number[], p: number) => d[Math.min(d.length - 1, Math.floor(d.length * p))] ?? NaN;

/**
 * The replicator as it is deployed: one esbuild bundle (serverless.yml's settings) run by plain
 * node — not under tsx, whose loader thread alone adds tens of MiB to the RSS measured.
 */
async function bundleReplicator(): Promise<string> {
  // Two directories below the root: the store finds infra/migrations at ../../ from the bundle.
  const out = join(root, 'node_modules', '.ferry-bench', 'replicator-child.mjs');
  await build({
    entryPoints: [join(root, 'test/support/replicator-child.ts')],
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

const bench: Bench = async (args) => {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  const shared = Boolean(process.env[TESTBED_ENV]);
  const owned: RocketMQCluster[] = [];
  if (!shared) owned.push(...(await Promise.all([RocketMQCluster.start({ version: '5.3.3', name: 'bench-a' }), RocketMQCluster.start({ version: '5.3.3', name: 'bench-b' })])));
  const a = side(shared ? await testCluster('v5') : owned[0]!.info);
  const b = side(shared ? await testCluster('v5acl') : owned[1]!.info);
  const half = Math.ceil(count / 2);
  console.log(`replication bench: ${count} messages of 1 KiB per pipe (2 rounds of ${half}), ${QUEUES} queues, ${a.name} → ${b.name} (5.3.3 → 5.3.3${b.c.acl ? ', ACL on the target' : ''}); load average ${loadAverage()}`);
  // Topic names unique to the run: the shared clusters keep what earlier runs left.
  const run = Date.now().toString(36);
  const T = {
    ferry: [`RepFerry_${run}_0`, `RepFerry_${run}_1`],
    java: [`RepJava_${run}_0`, `RepJava_${run}_1`],
    warm: [`RepWarmFerry_${run}`, `RepWarmJava_${run}`],
    ferryDelay: `RepFerryDelay_${run}`,
    javaDelay: `RepJavaDelay_${run}`,
  };
  const db = await throwawayPostgres();
  const key = randomBytes(32);
  const store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const env = { ...process.env, DATABASE_URL: db.value, FERRY_SECRET_KEY: key.toString('base64'), FERRY_REPLICATOR_BUDGET_MS: '900000', LOG_LEVEL: 'warn' };
  const children = new Set<ReturnType<typeof spawn>>();
  let peakRssKb = 0;
  try {
    for (const t of [...T.ferry, ...T.java, ...T.warm, T.ferryDelay, T.javaDelay]) {
      for (const s of [a, b]) await s.admin.createOrUpdateTopicInCluster(s.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    await javaPeerClasses('5.3.3'); // compiled before any clock starts
    const replicator = await bundleReplicator();

    // Backlogs for the throughput phases, produced before any pipe runs.
    const t0 = performance.now();
    for (const t of [...T.ferry, ...T.java]) await produce(a, t, half);
    console.log(`  backlogs of ${half} × 4 produced (${((4 * half) / ((performance.now() - t0) / 1000)).toFixed(0)} msgs/s)`);

    /** A task over one topic, started by the reconciler and replicated by ONE child process. */
    const ferry = async (name: string, topic: string, startOffset: { type: 'earliest' | 'latest' }) => {
      const p: Principal = { tenant: 'bench', role: 'admin', subject: 'bench' };
      const task = await new TaskService(store, cipher, { requireManagedSide: false }).create(p, {
        name,
        direction: 'one-way',
        source: endpoint(a.c),
        target: endpoint(b.c),
        startOffset,
        filter: { topics: { include: [topic], exclude: [] } },
        idempotentResume: true,
      });
      const noInvoke = { invokeReplicator: async () => undefined };
      while ((await store.getTask('bench', task.id))!.status !== 'running') await reconcile({ store, cipher, log: createLogger('warn'), invoker: noInvoke }, {});
      const proc = spawn(process.execPath, [replicator, JSON.stringify({ tenant: 'bench', taskId: task.id, flow: 'forward', shard: 0 })], { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(proc);
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const sampler = setInterval(() => {
        try {
          peakRssKb = Math.max(peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))?.[1] ?? 0));
        } catch {
          // exited
        }
      }, 200);
      return {
        ended: () => (proc.exitCode !== null ? `replicator exited ${proc.exitCode}: ${stderr}` : undefined),
        stop: () => {
          clearInterval(sampler);
          proc.kill('SIGTERM');
          children.delete(proc);
        },
      };
    };

    /** The Java pipe on one topic, once it has positioned every queue. */
    const pipe = async (topic: string, n: number, from: 'earliest' | 'latest') => {
      const ready = join(tmpdir(), `ferry-pipe-${topic}-${process.pid}`);
      rmSync(ready, { force: true });
      const proc = javaPeer(
        '5.3.3',
        ['bench-pipe', '--src-namesrv', a.ns, '--dst-namesrv', b.ns, ...javaAcl('src', a.c), ...javaAcl('dst', b.c), '--topic', topic,
          '--count', String(n), '--from', from, '--pull-batch', '32', '--pull-threads', String(2 * QUEUES), '--send-batch', String(SEND_BATCH), '--ready-file', ready],
        { timeoutMs: 600_000 },
      );
      let result: JavaPeerResult | undefined;
      void proc.then((r) => (result = r));
      const ended = () => (result && (result.exitCode !== 0 || result.timedOut) ? `exit ${result.exitCode}: ${result.stderr.slice(-2000)}` : undefined);
      const readyBy = Date.now() + 120_000;
      while (!existsSync(ready)) {
        // The pipe can fail before it is ready: wait for the file OR the process, never forever.
        if (result) throw new Error(`Java pipe ended before it was ready: ${ended() ?? 'exit 0'}`);
        if (Date.now() > readyBy) throw new Error('Java pipe not ready after 120 s');
        await sleep(100);
      }
      rmSync(ready, { force: true });
      return { run: proc, ended };
    };

    // ── Warm-up: both pipes drain a small backlog first, so neither measured round meets cold
    // brokers (JIT, first file mappings) and both pipes' code paths are exercised once.
    for (const t of T.warm) await produce(a, t, WARMUP_COUNT);
    const warmFerry = await ferry('bench-warm', T.warm[0]!, { type: 'earliest' });
    await arrived(b, T.warm[0]!, WARMUP_COUNT, warmFerry.ended);
    warmFerry.stop();
    const warmJava = await pipe(T.warm[1]!, WARMUP_COUNT, 'earliest');
    await arrived(b, T.warm[1]!, WARMUP_COUNT, warmJava.ended);
    await warmJava.run;
    console.log(`  warm-up: ${WARMUP_COUNT} through each pipe (not measured)`);

    // ── Throughput: each drains a backlog; two rounds in opposite order (Ferry, Java; Java,
    // Ferry) so a drift in the shared machine's load does not favour either.
    const rates = { ferry: [] as number[], java: [] as number[] };
    let duplicates = 0;
    let javaDuplicates = 0;
    for (const round of [0, 1]) {
      for (const who of round === 0 ? (['ferry', 'java'] as const) : (['java', 'ferry'] as const)) {
        const topic = T[who][round]!;
        if (who === 'ferry') {
          const f = await ferry(`bench-${round}`, topic, { type: 'earliest' });
          duplicates += (await arrived(b, topic, half, f.ended)) - half;
          f.stop();
        } else {
          const j = await pipe(topic, half, 'earliest');
          javaDuplicates += (await arrived(b, topic, half, j.ended)) - half;
          await j.run;
        }
        rates[who].push(await drainRate(b, topic, half));
        console.log(`  round ${round}: ${who === 'ferry' ? 'Ferry replicator' : 'Java pipe       '} ${rates[who].at(-1)!.toFixed(0).padStart(8)} msgs/s (load average ${loadAverage()})`);
      }
    }
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const ferryRate = mean(rates.ferry);
    const javaRate = mean(rates.java);
    console.log(`  Ferry replicator  ${ferryRate.toFixed(0).padStart(8)} msgs/s  (mean; ${duplicates} duplicates)`);
    console.log(`  Java pipe         ${javaRate.toFixed(0).padStart(8)} msgs/s  (mean; ${javaDuplicates} duplicates)`);

    /** One message per queue, waited for on the target: the pipe is running, not still starting. */
    const live = async (topic: string, ended: () => string | undefined) => {
      await produce(a, topic, QUEUES);
      await arrived(b, topic, QUEUES, ended);
    };

    // ── Delay at half of each one's own throughput, a steady stream for DELAY_PHASE_MS, once the
    // pipe has shown it is running.
    const ferryLoad = Math.round(ferryRate / 2);
    const ferryDelayCount = Math.round((ferryLoad * DELAY_PHASE_MS) / 1000);
    const fDelay = await ferry('bench-delay', T.ferryDelay, { type: 'latest' });
    await live(T.ferryDelay, fDelay.ended);
    const ferryFrom = Date.now() + WARMUP_MS;
    const ferryProduced = await produce(a, T.ferryDelay, ferryDelayCount, ferryLoad);
    await arrived(b, T.ferryDelay, QUEUES + ferryDelayCount, fDelay.ended);
    fDelay.stop();
    const fd = await delays(b, T.ferryDelay, ORIGIN.storeTimestamp, ferryFrom);
    console.log(`  Ferry delay at ${ferryProduced.toFixed(0)} msgs/s: p50 ${pct(fd, 0.5)} ms, p99 ${pct(fd, 0.99)} ms, max ${fd.at(-1)} ms; peak RSS ${(peakRssKb / 1024).toFixed(0)} MiB`);

    const javaLoad = Math.round(javaRate / 2);
    const javaDelayCount = Math.round((javaLoad * DELAY_PHASE_MS) / 1000);
    const jDelay = await pipe(T.javaDelay, QUEUES + javaDelayCount, 'latest');
    await live(T.javaDelay, jDelay.ended);
    const javaFrom = Date.now() + WARMUP_MS;
    const javaProduced = await produce(a, T.javaDelay, javaDelayCount, javaLoad);
    await arrived(b, T.javaDelay, QUEUES + javaDelayCount, jDelay.ended);
    await jDelay.run;
    const jd = await delays(b, T.javaDelay, 'FERRY_PIPE_STORE_TS', javaFrom);
    console.log(`  Java delay at ${javaProduced.toFixed(0)} msgs/s: p50 ${pct(jd, 0.5)} ms, p99 ${pct(jd, 0.99)} ms, max ${jd.at(-1)} ms`);
    const ratio = Math.round((ferryRate / javaRate) * 100) / 100;
    console.log(`  ratio ${ratio}x; load average ${loadAverage()}`);
    return {
      msgsPerSec: Math.round(ferryRate),
      javaMsgsPerSec: Math.round(javaRate),
      ratio,
      delayP50Ms: pct(fd, 0.5),
      delayP99Ms: pct(fd, 0.99),
      peakRssMb: Math.round(peakRssKb / 1024),
      duplicates,
      javaDuplicates,
      ferryRounds: rates.ferry.map(Math.round).join('/'),
      javaRounds: rates.java.map(Math.round).join('/'),
      delayLoadMsgsPerSec: Math.round(ferryProduced),
      javaDelayP50Ms: pct(jd, 0.5),
      javaDelayP99Ms: pct(jd, 0.99),
      javaDelayLoadMsgsPerSec: Math.round(javaProduced),
    };
  } finally {
    for (const c of children) c.kill('SIGTERM');
    a.remoting.close();
    b.remoting.close();
    await store.close();
    await db.drop();
    await Promise.all(owned.map((c) => c.stop()));
  }
};

/** The machine's 1-minute load average, printed with the figures: the test machine is shared. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!;
}

export default bench;

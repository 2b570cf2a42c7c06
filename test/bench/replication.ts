// `npm run bench -- replication [count]`: ONE replicator process (a child, as a function instance
// would be) vs a Java pull→send pipe (FerryPeer bench-pipe: DefaultLitePullConsumer +
// DefaultMQProducer) between the same two 5.3.3 clusters: throughput at saturation (1 KiB, 8
// queues), end-to-end delay p50/p99 at 50% of that load, and the replicator's peak RSS.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RocketMQCluster } from '../../infra/rocketmq/cluster.ts';
import { javaPeer } from '../../infra/rocketmq/java-peer.ts';
import type { Principal } from '../../shared/auth/principal.ts';
import { createLogger } from '../../shared/log.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { throwawayPostgres } from '../support/databases.ts';
import type { Bench } from './run.ts';

const QUEUES = 8;
const BODY = Buffer.alloc(1024, 'r');
const root = join(import.meta.dirname, '..', '..');

type Side = { remoting: RemotingClient; broker: BrokerClient; admin: RemotingAdmin; addr: string; name: string; ns: string };
const side = (c: RocketMQCluster): Side => {
  const remoting = new RemotingClient();
  return { remoting, broker: new BrokerClient(remoting), admin: new RemotingAdmin(remoting, new NameServerClient(remoting, c.info.nameServer)), addr: c.info.brokers[0]!.address, name: c.info.name, ns: c.info.nameServer };
};

async function produce(s: Side, topic: string, count: number, perSecond?: number): Promise<void> {
  const t0 = performance.now();
  for (let sent = 0, i = 0; sent < count; i++) {
    const n = Math.min(32, count - sent);
    await s.broker.sendBatch(s.addr, topic, i % QUEUES, Array.from({ length: n }, () => ({ body: BODY })));
    sent += n;
    if (perSecond) {
      const ahead = (sent / perSecond) * 1000 - (performance.now() - t0);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  }
}

async function targetCount(s: Side, topic: string): Promise<number> {
  let n = 0;
  for (let q = 0; q < QUEUES; q++) n += await s.broker.maxOffset(s.addr, topic, q);
  return n;
}

/** Times from the first to the last arrival of `count` messages on the target. */
async function arrivals(s: Side, topic: string, count: number, timeoutMs = 300_000): Promise<number> {
  let first = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await targetCount(s, topic);
    if (n > 0 && !first) first = performance.now();
    if (n >= count) return count / ((performance.now() - first) / 1000);
    if (Date.now() > deadline) throw new Error(`only ${n} of ${count} arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Delays (target store time − source store time) of every message in the target topic. */
async function delays(s: Side, topic: string, property: string): Promise<number[]> {
  const out: number[] = [];
  for (let q = 0; q < QUEUES; q++) {
    let offset = 0;
    for (;;) {
      const r = await s.broker.pull(s.addr, { topic, queueId: q, offset, maxMessages: 32 });
      if (r.messages.length === 0) break;
      for (const m of r.messages) out.push(m.storeTimestamp - Number(m.properties[property]));
      offset = r.nextBeginOffset;
    }
  }
  return out.sort((a, b) => a - b);
}
const pct = (d: number[], p: number) => d[Math.min(d.length - 1, Math.floor(d.length * p))] ?? NaN;

const bench: Bench = async (args) => {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 100_000);
  console.log(`replication bench: ${count} messages of 1 KiB, ${QUEUES} queues, 5.3.3 → 5.3.3`);
  const [ca, cb] = await Promise.all([RocketMQCluster.start({ version: '5.3.3', name: 'bench-a' }), RocketMQCluster.start({ version: '5.3.3', name: 'bench-b' })]);
  const a = side(ca);
  const b = side(cb);
  const db = await throwawayPostgres();
  const key = randomBytes(32);
  const store = await openStore({ databaseUrl: db.value, dataDir: '' });
  const cipher = aesGcmCipher(key);
  const env = { ...process.env, DATABASE_URL: db.value, FERRY_SECRET_KEY: key.toString('base64'), FERRY_REPLICATOR_BUDGET_MS: '900000', LOG_LEVEL: 'warn' };
  try {
    for (const t of ['RepFerry', 'RepFerryDelay', 'RepJava', 'RepJavaDelay']) {
      for (const s of [a, b]) await s.admin.createOrUpdateTopicInCluster(s.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    // Ferry: a task over both Ferry topics, started by the reconciler, replicated by ONE child process.
    const p: Principal = { tenant: 'bench', role: 'admin', subject: 'bench' };
    const task = await new TaskService(store, cipher, { requireManagedSide: false }).create(p, {
      name: 'bench',
      direction: 'one-way',
      source: { clusterType: 'self-built', clusterId: a.name, nameServer: a.ns, networkType: 'public' },
      target: { clusterType: 'self-built', clusterId: b.name, nameServer: b.ns, networkType: 'public' },
      filter: { topics: { include: ['RepFerry.*'], exclude: [] } },
      idempotentResume: true,
    });
    const noInvoke = { invokeReplicator: async () => undefined };
    while ((await store.getTask('bench', task.id))!.status !== 'running') await reconcile({ store, cipher, log: createLogger('warn'), invoker: noInvoke }, { shardsPerFlow: 1 });
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/support/replicator-child.ts'), JSON.stringify({ tenant: 'bench', taskId: task.id, flow: 'forward', shard: 0 })], { cwd: root, env, stdio: 'ignore' });
    let peakRssKb = 0;
    const sampler = setInterval(() => {
      try {
        peakRssKb = Math.max(peakRssKb, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited
      }
    }, 200);
    await new Promise((r) => setTimeout(r, 4000)); // the child is up and pulling
    const [ferryRate] = await Promise.all([arrivals(b, 'RepFerry', count), produce(a, 'RepFerry', count)]);
    console.log(`  Ferry replicator  ${ferryRate.toFixed(0).padStart(8)} msgs/s`);
    const ferryLoad = Math.round(ferryRate / 2);
    const delayCount = Math.min(ferryLoad * 20, count);
    await Promise.all([arrivals(b, 'RepFerryDelay', delayCount), produce(a, 'RepFerryDelay', delayCount, ferryLoad)]);
    const fd = await delays(b, 'RepFerryDelay', ORIGIN.storeTimestamp);
    console.log(`  Ferry delay at ${ferryLoad} msgs/s: p50 ${pct(fd, 0.5)} ms, p99 ${pct(fd, 0.99)} ms; peak RSS ${(peakRssKb / 1024).toFixed(0)} MiB`);
    child.kill('SIGTERM');
    clearInterval(sampler);

    // Java pipe: same clusters, same shape.
    const pipe = async (topic: string, n: number) => {
      const ready = join(tmpdir(), `ferry-pipe-${topic}-${process.pid}`);
      rmSync(ready, { force: true });
      const run = javaPeer('5.3.3', ['bench-pipe', '--src-namesrv', a.ns, '--dst-namesrv', b.ns, '--topic', topic, '--count', String(n), '--ready-file', ready], { timeoutMs: 600_000 });
      while (!existsSync(ready)) await new Promise((r) => setTimeout(r, 100)); // every queue positioned
      return { run };
    };
    const { run: javaRun } = await pipe('RepJava', count);
    await produce(a, 'RepJava', count);
    const jr = await javaRun;
    const javaRate = (jr.lines.at(-1) as { msgsPerSec?: number } | undefined)?.msgsPerSec;
    if (jr.exitCode !== 0 || !javaRate) throw new Error(`Java pipe failed: ${jr.stderr.slice(-2000)}`);
    console.log(`  Java pipe         ${javaRate.toFixed(0).padStart(8)} msgs/s`);
    const javaLoad = Math.round(javaRate / 2);
    const javaDelayCount = Math.min(javaLoad * 20, count);
    const { run: javaDelayRun } = await pipe('RepJavaDelay', javaDelayCount);
    await produce(a, 'RepJavaDelay', javaDelayCount, javaLoad);
    await javaDelayRun;
    const jd = await delays(b, 'RepJavaDelay', 'FERRY_PIPE_STORE_TS');
    console.log(`  Java delay at ${javaLoad} msgs/s: p50 ${pct(jd, 0.5)} ms, p99 ${pct(jd, 0.99)} ms`);
    const ratio = Math.round((ferryRate / javaRate) * 100) / 100;
    console.log(`  ratio ${ratio}x`);
    return {
      msgsPerSec: Math.round(ferryRate),
      javaMsgsPerSec: Math.round(javaRate),
      ratio,
      delayP50Ms: pct(fd, 0.5),
      delayP99Ms: pct(fd, 0.99),
      peakRssMb: Math.round(peakRssKb / 1024),
      javaDelayP50Ms: pct(jd, 0.5),
      javaDelayP99Ms: pct(jd, 0.99),
    };
  } finally {
    a.remoting.close();
    b.remoting.close();
    await store.close();
    await db.drop();
    await Promise.all([ca.stop(), cb.stop()]);
  }
};
export default bench;

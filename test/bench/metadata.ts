// `npm run bench -- metadata [count]`: metadata sync at scale. Two fresh RocketMQ 5.3.3 clusters
// (one broker each, the harness's small heaps); `count` topics and `count` groups (default 10,000
// each) are created on A with list requests (not measured), then a one-way task A → B is synced
// on a PostgreSQL store:
//   fullSyncS   first cycle, until B holds every item (checked by reading B's brokers)
//   noopCycleS  the next cycle, nothing changed
// 5.3.3 because its list requests let a broker take thousands of topics/groups without rewriting
// its config file per item; 4.x brokers take them one request each.
import { randomBytes } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { RocketMQCluster } from '../testbed/cluster.ts';
import { createLogger } from '../../shared/log.ts';
import type { ClusterAdmin } from '../../shared/metadata/cluster-admin.ts';
import { openClusterAdmin } from '../../shared/metadata/open-cluster-admin.ts';
import { syncTaskMetadata, type MetadataSyncResult } from '../../shared/metadata/sync.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import { throwawayPostgres } from '../support/databases.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';
import type { Bench } from './run.ts';
import { startPair } from './_clusters.ts';

const VERSION = '5.3.3';
const CREATE_BATCH = 1000;

const secs = (ms: number) => Math.round(ms / 10) / 100;
/** User + system CPU of this process since `from`, seconds. */
const cpuSecondsSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return secs((d.user + d.system) / 1000);
};

/** Wall time of the adapters' reads (both sides at once) and writes. */
class Timings {
  private readFrom = Infinity;
  private readTo = 0;
  applyMs = 0;
  get readMs(): number {
    return Math.max(0, this.readTo - this.readFrom);
  }
  reset(): void {
    this.readFrom = Infinity;
    this.readTo = 0;
    this.applyMs = 0;
  }
  wrap(admin: ClusterAdmin): ClusterAdmin {
    const applyMany = admin.applyMany?.bind(admin);
    const timedApply = async <T>(p: Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await p;
      } finally {
        this.applyMs += performance.now() - t0;
      }
    };
    return {
      clusterId: admin.clusterId,
      readSnapshot: async () => {
        this.readFrom = Math.min(this.readFrom, performance.now());
        try {
          return await admin.readSnapshot();
        } finally {
          this.readTo = Math.max(this.readTo, performance.now());
        }
      },
      apply: (a) => timedApply(admin.apply(a)),
      ...(applyMany ? { applyMany: (as: Parameters<typeof applyMany>[0]) => timedApply(applyMany(as)) } : {}),
      close: () => admin.close(),
    };
  }
}

const bench: Bench = async (args) => {
  const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  console.log(
    `metadata bench: ${count} topics + ${count} groups on A, one-way A → B, RocketMQ ${VERSION} (1 broker each), PostgreSQL store`,
  );
  const [ca, cb] = await startPair(['bench-md-a', 'bench-md-b']);
  const remoting = new RemotingClient({ requestTimeoutMs: 30_000 });
  const adminOf = (c: RocketMQCluster) =>
    new RemotingAdmin(remoting, new NameServerClient(remoting, c.info.nameServer), { timeoutMs: 30_000 });
  const a = adminOf(ca);
  const b = adminOf(cb);
  const aAddr = ca.info.brokers[0]!.address;
  const bAddr = cb.info.brokers[0]!.address;
  const topicNames = Array.from({ length: count }, (_, i) => `bench_md_topic_${i}`);
  const groupNames = Array.from({ length: count }, (_, i) => `bench_md_group_${i}`);
  const db = await throwawayPostgres();
  const store = await openStore({ databaseUrl: db.value, dataDir: '' });
  try {
    // ── setup on A (not measured) ──
    const t0 = performance.now();
    for (let i = 0; i < count; i += CREATE_BATCH) {
      await a.createOrUpdateTopicList(
        aAddr,
        topicNames
          .slice(i, i + CREATE_BATCH)
          .map((topicName, k) => ({ cfg: { topicName, readQueueNums: 1 + ((i + k) % 8), writeQueueNums: 1 + ((i + k) % 8), perm: 6 } })),
      );
      await a.createOrUpdateGroupList(
        aAddr,
        groupNames.slice(i, i + CREATE_BATCH).map((groupName, k) => ({ groupName, retryMaxTimes: (i + k) % 17 })),
      );
    }
    const [aTopics, aGroups] = await Promise.all([a.getAllTopicConfigs(aAddr), a.getAllGroups(aAddr)]);
    const missingOnA = topicNames.filter((n) => !aTopics.has(n)).length + groupNames.filter((n) => !aGroups.has(n)).length;
    if (missingOnA > 0) throw new Error(`setup: ${missingOnA} items missing on A`);
    console.log(
      `  setup: ${count} topics + ${count} groups created on A in ${secs(performance.now() - t0)} s (list requests of ${CREATE_BATCH})`,
    );

    // ── the task ──
    const cipher = aesGcmCipher(randomBytes(32));
    const task = await insertTestTask(
      store,
      taskSpec(
        {
          direction: 'one-way',
          source: selfBuilt({ clusterId: ca.info.name, nameServer: ca.info.nameServer }),
          target: selfBuilt({ clusterId: cb.info.name, nameServer: cb.info.nameServer }),
        },
        cipher,
      ),
    );
    const timings = new Timings();
    const deps = {
      store,
      cipher,
      log: createLogger('warn'),
      openAdmin: (e: Parameters<typeof openClusterAdmin>[0], c: Parameters<typeof openClusterAdmin>[1]) =>
        timings.wrap(openClusterAdmin(e, c)),
    };
    const phases = (r: MetadataSyncResult) =>
      `reading both clusters ${secs(timings.readMs)} s, writing ${secs(timings.applyMs)} s, the rest (store, plan, record) ` +
      `${secs(r.durationMs - timings.readMs - timings.applyMs)} s`;

    // ── full sync ──
    const f0 = performance.now();
    let cpu0 = process.cpuUsage();
    const full = await syncTaskMetadata(task, deps);
    const fullCpuS = cpuSecondsSince(cpu0);
    const cycleDone = performance.now();
    let holds = 0;
    for (const deadline = Date.now() + 300_000; ; ) {
      const [bTopics, bGroups] = await Promise.all([b.getAllTopicConfigs(bAddr), b.getAllGroups(bAddr)]);
      holds =
        topicNames.filter((n) => bTopics.get(n)?.readQueueNums === aTopics.get(n)!.readQueueNums).length +
        groupNames.filter((n) => bGroups.get(n)?.retryMaxTimes === aGroups.get(n)!.retryMaxTimes).length;
      if (holds === 2 * count || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const fullSyncS = secs(performance.now() - f0);
    if (holds !== 2 * count) throw new Error(`full sync: B holds ${holds} of ${2 * count} items (${JSON.stringify(full)})`);
    console.log(
      `  full sync: ${fullSyncS} s until B holds all ${2 * count} items (cycle ${secs(cycleDone - f0)} s: ${full.outcome}, ` +
        `${full.created} created, ${full.failed} failed; ${phases(full)}; Node CPU ${fullCpuS} s)`,
    );

    // ── no-op cycle ──
    timings.reset();
    const n0 = performance.now();
    cpu0 = process.cpuUsage();
    const noop = await syncTaskMetadata(task, deps);
    const noopCycleS = secs(performance.now() - n0);
    const noopCpuS = cpuSecondsSince(cpu0);
    const writes = noop.created + noop.updated + noop.deleted + noop.failed;
    console.log(
      `  no-op cycle: ${noopCycleS} s (${noop.outcome}, ${writes} writes, stored ${noop.stored}; ${phases(noop)}; Node CPU ${noopCpuS} s)`,
    );
    console.log(
      `  load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} CPUs`,
    );
    if (writes > 0 || noop.stored) throw new Error(`no-op cycle wrote something: ${JSON.stringify(noop)}`);

    return {
      fullSyncS,
      noopCycleS,
      topics: count,
      groups: count,
      version: VERSION,
      fullCycleS: secs(cycleDone - f0),
      created: full.created,
      failed: full.failed,
      fullCpuS,
      noopCpuS,
      load1: Math.round(loadavg()[0]! * 10) / 10,
    };
  } finally {
    remoting.close();
    await store.close();
    await db.drop();
    await Promise.all([ca.stop(), cb.stop()]);
  }
};
export default bench;

// Self-hosted on several machines: three local runtimes (`npm start`, replicators in-process) on ONE
// PostgreSQL database share a task's shards through the store's leases, each taking its share. One runtime is SIGKILLed
// while messages stream: the survivors take its shards over once its leases expire, and the target
// ends with every message exactly once (idempotent resume reads the target's tail).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 8;
const SHARDS = 4;
const MESSAGES = 10_000;
const BATCH = 50;
const LEASE_TTL_MS = 3000;
const RECONCILE_INTERVAL_MS = 500;
/** The reconciler leaves an ended lease to its holder's successor this long (shared/replication/reconciler.ts). */
const HAND_OVER_GRACE_MS = 3000;

interface LeaseRow {
  shard: number;
  owner: string;
  live: boolean;
}

describe('several runtimes on one database', () => {
  let db: Throwaway<string> | undefined;
  const runtimes: Runtime[] = [];
  after(async () => {
    for (const rt of runtimes) await rt.stop().catch(() => undefined);
    await db?.drop();
  });

  it('share the shards; a runtime killed mid-stream loses nothing, duplicates nothing, its shards taken over', async () => {
    db = await throwawayPostgres();
    const env = {
      FERRY_SECRET_KEY: randomBytes(32).toString('base64'),
      FERRY_INVOKER: 'local',
      FERRY_LEASE_TTL_MS: String(LEASE_TTL_MS),
      FERRY_RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      LOG_LEVEL: 'info',
    };
    // One after the other: the first applies the migrations.
    for (let i = 0; i < 3; i++) runtimes.push(await startRuntime({ store: 'postgres', databaseUrl: db.value, env }));
    const sql = new pg.Client({ connectionString: db.value });
    await sql.connect();
    const leases = async (taskId: string) =>
      (
        await sql.query<LeaseRow>(
          `SELECT shard, owner, expires_at_ms > (extract(epoch from clock_timestamp()) * 1000)::bigint AS live
           FROM leases WHERE task_id = $1 AND flow = 'forward' ORDER BY shard`,
          [taskId],
        )
      ).rows;
    const pidOf = (owner: string) => Number(/-(\d+)-[0-9a-f]{8}$/.exec(owner)?.[1]);
    try {
      const a = side(await testCluster('v5'));
      const b = side(await testCluster('v4'));
      const topic = `multi_${Date.now()}_${randomBytes(3).toString('hex')}`;
      for (const s of [a, b])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
      const api = client(runtimes[0]!);
      const created = await api('POST', '/v1/tasks', {
        name: topic,
        direction: 'one-way',
        source: endpointOf(a.c),
        target: endpointOf(b.c),
        filter: { topics: { include: [topic], exclude: [] } },
        // Latest: all three reconcilers race to start the task. Its start checkpoints are written with
        // its status under the version read, so a loser cannot move them past what was produced once
        // the task said `running` (before that fix, the first messages went missing here).
        startOffset: { type: 'latest' },
        shards: SHARDS,
      });
      assert.equal(created.status, 201, created.text);
      const taskId = (created.body as { id: string }).id;
      await waitForStatus(api, taskId, 'running', 120_000);

      // Produce in the background, a batch every 100 ms (20 s and more: the kill lands mid-stream).
      const sent: string[] = [];
      const producer = (async () => {
        for (let i = 0; i < MESSAGES; i += BATCH) {
          const body = (j: number) => Buffer.from(`m${i + j}`);
          await a.broker.sendBatch(
            a.addr,
            topic,
            (i / BATCH) % QUEUES,
            Array.from({ length: BATCH }, (_, j) => ({ body: body(j) })),
          );
          for (let j = 0; j < BATCH; j++) sent.push(`m${i + j}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const targetCount = async () => {
        let n = 0;
        for (let q = 0; q < QUEUES; q++) n += await b.broker.maxOffset(b.addr, topic, q);
        return n;
      };

      // Mid-stream: the target is growing and every shard has a live holder.
      const live = new Map<number, number>(); // pid → shards held
      for (const deadline = Date.now() + 120_000; ; ) {
        const rows = await leases(taskId);
        const copied = await targetCount();
        if (rows.filter((r) => r.live).length === SHARDS && copied > 0 && sent.length >= MESSAGES / 4) {
          for (const r of rows) live.set(pidOf(r.owner), (live.get(pidOf(r.owner)) ?? 0) + 1);
          break;
        }
        assert.ok(Date.now() < deadline, `no steady state: ${JSON.stringify(rows)}, ${copied} copied`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const pids = runtimes.map((rt) => rt.pid!);
      for (const pid of live.keys()) assert.ok(pids.includes(pid), `lease owner ${pid} is one of the runtimes ${pids.join(', ')}`);
      // Spread: each runtime dispatches only its share (shared/replication/runtime-share.ts): 2/1/1.
      assert.deepEqual([...live.values()].sort(), [1, 1, 2], `shards per runtime: ${JSON.stringify(Object.fromEntries(live))}`);
      // The victim: the runtime holding the most shards.
      const [victimPid, victimShards] = [...live].sort((x, y) => y[1] - x[1])[0]!;
      const before = await targetCount();
      assert.ok(sent.length < MESSAGES, 'the kill lands while messages are still being produced');
      process.kill(victimPid, 'SIGKILL');
      const killedAt = Date.now();
      console.log(`shards per runtime pid before the kill: ${JSON.stringify(Object.fromEntries(live))}; killed ${victimPid}`);

      // Every shard held again, live, by a survivor.
      let takeoverMs = -1;
      for (const deadline = Date.now() + 60_000; ; ) {
        const rows = await leases(taskId);
        if (rows.length === SHARDS && rows.every((r) => r.live && pidOf(r.owner) !== victimPid)) {
          takeoverMs = Date.now() - killedAt;
          break;
        }
        assert.ok(Date.now() < deadline, `shards not taken over: ${JSON.stringify(rows)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      console.log(`${victimShards} shard(s) taken over ${takeoverMs} ms after the kill (lease TTL ${LEASE_TTL_MS} ms)`);
      // Its leases run out within one TTL of its last renewal; the reconciler then leaves a successor
      // the hand-over grace and dispatches at its next run.
      assert.ok(takeoverMs <= LEASE_TTL_MS + HAND_OVER_GRACE_MS + 2 * RECONCILE_INTERVAL_MS + 2000, `takeover took ${takeoverMs} ms`);

      await producer;
      assert.ok((await targetCount()) > before, 'copying went on after the kill');
      const got = (await readUntilQuiet(b, topic, QUEUES, { expect: MESSAGES, timeoutMs: 90_000 })).flat();
      const bodies = got.map((m) => m.body.toString());
      const counts = new Map<string, number>();
      for (const x of bodies) counts.set(x, (counts.get(x) ?? 0) + 1);
      const missing = sent.filter((x) => !counts.has(x));
      if (missing.length > 0) {
        const perQueue = [];
        for (let q = 0; q < QUEUES; q++)
          perQueue.push([await a.broker.maxOffset(a.addr, topic, q), await b.broker.maxOffset(b.addr, topic, q)]);
        console.log(`missing ${missing.length} of ${MESSAGES}; source/target per queue ${JSON.stringify(perQueue)}`);
        for (const rt of runtimes)
          console.log(
            rt
              .output()
              .split('\n')
              .filter((l) => /"level":(40|50|60)/.test(l))
              .slice(0, 5)
              .join('\n'),
          );
      }
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([x]) => x);
      assert.deepEqual({ missing: missing.slice(0, 10), duplicated: duplicated.slice(0, 10) }, { missing: [], duplicated: [] });
      assert.equal(bodies.length, MESSAGES);
      a.remoting.close();
      b.remoting.close();
    } finally {
      await sql.end();
    }
  });
});

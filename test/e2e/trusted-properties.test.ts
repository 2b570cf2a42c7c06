// Ferry's own properties written by someone else count for nothing (real clusters, the local
// runtime over HTTP on PostgreSQL). A plain producer (Ferry's remoting client used as any client
// would) sets FERRY_PATH on the source naming the target: every such message still arrives. The
// runtime is SIGKILLed mid-task (an unclean stop, so the successor reads the target's tail), and
// meanwhile a plain producer writes replicas' FERRY_SRC_* onto the target claiming the source queues
// are done (1e12, and a plausible "everything up to the end"): the resumed task skips nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HOP, ORIGIN } from '../../shared/replication/origin.ts';
import { SIGNATURE_PROPERTY } from '../../shared/replication/signature.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 2;
const ENV = { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '8000', FERRY_LEASE_TTL_MS: '3000', LOG_LEVEL: 'info' };

describe('trusted properties: forged FERRY_* on real clusters (v4 → v5)', () => {
  let db: Throwaway<string>;
  let rt: Runtime | undefined;
  let a: Side;
  let b: Side;
  const run = Date.now().toString(36);

  before(async () => {
    a = side(await testCluster('v4'));
    b = side(await testCluster('v5'));
    db = await throwawayPostgres();
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
    await db?.drop();
  });

  const topic = async (name: string) => {
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: name, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    return name;
  };
  /** n messages per queue from a plain producer, each with a unique key and `extra` properties. */
  const produce = async (s: Side, t: string, n: number, label: string, extra: (q: number) => Record<string, string> = () => ({})) => {
    const keys: string[] = [];
    for (let q = 0; q < QUEUES; q++) {
      const batch: OutgoingMessage[] = Array.from({ length: n }, (_, i) => {
        const k = `${label}-${q}-${i}-${run}`;
        keys.push(k);
        return { body: Buffer.from(k), keys: [k], properties: { label, ...extra(q) } };
      });
      for (const m of batch) await s.broker.send(s.addr, t, q, m);
    }
    return keys;
  };
  const keysOf = (ms: StoredMessage[]) => ms.map((m) => m.keys[0]!);
  const create = async (api: ReturnType<typeof client>, name: string, t: string) => {
    const r = await api('POST', '/v1/tasks', {
      name,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'latest' },
      idempotentResume: true,
      filter: { topics: { include: [t], exclude: [] } },
    });
    assert.equal(r.status, 201, r.text);
    await waitForStatus(api, r.body.id, 'running');
    return r.body.id as string;
  };

  it('a forged FERRY_PATH on the source drops nothing; its replica carries the real, signed path', async () => {
    rt = await startRuntime({ store: 'postgres', databaseUrl: db.value, env: ENV });
    const api = client(rt);
    const t = await topic(`tp_path_${run}`);
    const id = await create(api, `forged-path-${run}`, t);
    const plain = await produce(a, t, 20, 'plain');
    const forged = await produce(a, t, 20, 'forged', () => ({
      [ORIGIN.path]: `${a.c.name},${b.c.name}`,
      [ORIGIN.cluster]: b.c.name,
      [SIGNATURE_PROPERTY]: '1.task-someone-else.AAAAAAAAAAAAAAAAAAAAAA',
    }));
    const got = (await readUntilQuiet(b, t, QUEUES, { expect: 80 })).flat();
    assert.deepEqual(keysOf(got).sort(), [...plain, ...forged].sort(), 'every message once, the forged ones included');
    for (const m of got.filter((x) => x.properties.label === 'forged')) {
      assert.equal(m.properties[ORIGIN.path], `${a.c.name},${b.c.name}`);
      assert.equal(m.properties[ORIGIN.cluster], a.c.name);
      assert.match(m.properties[SIGNATURE_PROPERTY] ?? '', new RegExp(`^1\\.${id}\\.`));
    }
    await api('POST', `/v1/tasks/${id}/stop`);
    await waitForStatus(api, id, 'stopped');
  });

  it('a forged FERRY_SRC_OFFSET on the target skips nothing when an unclean stop is resumed', async () => {
    let api = client(rt!);
    const t = await topic(`tp_offset_${run}`);
    const id = await create(api, `forged-offset-${run}`, t);
    const early = await produce(a, t, 30, 'before');
    assert.equal((await readUntilQuiet(b, t, QUEUES, { expect: early.length })).flat().length, early.length);
    // Sent just before the kill, so the shard holder has gone past any clean (exact) checkpoint.
    const last = await produce(a, t, 3, 'last');
    const before = [...early, ...last];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const ends = await Promise.all(Array.from({ length: QUEUES }, (_, q) => b.broker.maxOffset(b.addr, t, q)));
      if (ends.reduce((x, y) => x + y, 0) >= before.length) break;
    }

    // An unclean stop: the runtime (its replicators in-process) is killed; the checkpoints are not exact.
    process.kill(rt!.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    const during = await produce(a, t, 30, 'during');
    // A plain producer on the target claims, in Ferry's names, that every source queue is done.
    const brokerName = a.c.brokers[0]!.name;
    const claims: string[] = [];
    for (let q = 0; q < QUEUES; q++) {
      const end = await a.broker.maxOffset(a.addr, t, q);
      const claim = q === 0 ? '1000000000000' : String(end - 1);
      claims.push(claim);
      await b.broker.send(b.addr, t, q, {
        body: Buffer.from(`forged-${q}`),
        keys: [`forged-${q}-${run}`],
        properties: {
          label: 'forged',
          [HOP.cluster]: a.c.name,
          [HOP.broker]: brokerName,
          [HOP.queue]: String(q),
          [HOP.offset]: claim,
          [HOP.generation]: '0',
          [ORIGIN.path]: `${a.c.name},${b.c.name}`,
          [ORIGIN.cluster]: a.c.name,
        },
      });
    }

    // The same store, a new runtime: the task is still running and its shards resume.
    rt = await startRuntime({ store: 'postgres', databaseUrl: db.value, env: ENV });
    api = client(rt);
    const after = await produce(a, t, 10, 'after');
    const want = [...before, ...during, ...after, ...Array.from({ length: QUEUES }, (_, q) => `forged-${q}-${run}`)];
    const got = keysOf((await readUntilQuiet(b, t, QUEUES, { expect: want.length, quietMs: 5000 })).flat());
    const missing = want.filter((k) => !got.includes(k));
    assert.deepEqual(missing, [], `skipped after resume (claims ${claims.join(', ')})`);
    assert.equal(got.length, new Set(got).size, 'nothing twice: the genuine replicas on the tail were found');
    assert.match(rt.output(), /resuming after an unclean stop/);
    await api('POST', `/v1/tasks/${id}/stop`);
  });
});

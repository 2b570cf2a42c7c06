// Consumer offset translation end to end, on real clusters with Apache's Java client as the consumer
// (FerryPeer group-consume / hold-group): a group consumes part of a topic on A and commits; after a
// sync cycle of the local runtime the same group consumes on B from where Ferry put it. Every message
// is counted: lost (consumed on neither side) must be 0, duplicates (consumed on both) fewer than
// pull batch × queues. Also: a group with a consumer online on B is left alone; and a two-way task
// with a producer writing to B's queues at the same time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConsumerOffsetClient } from '../../shared/rocketmq/remoting/consumer-offsets.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 4;
const PULL_BATCH = 32;

interface Consumed {
  uniqKey: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
}

const creds = (c: ClusterInfo) => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

/** FerryPeer group-consume: the messages in order, and the offsets it committed ("broker/queue" → offset). */
async function groupConsume(s: Side, topic: string, group: string, count: number, quietMs = 0) {
  const r: JavaPeerResult = await javaPeer(
    '5.3.3',
    [
      'group-consume',
      '--namesrv',
      s.c.nameServer,
      '--topic',
      topic,
      '--group',
      group,
      '--count',
      String(count),
      '--quiet-ms',
      String(quietMs),
      '--pull-batch',
      String(PULL_BATCH),
      '--timeout-ms',
      '240000',
      ...creds(s.c),
    ],
    { timeoutMs: 300_000 },
  );
  assert.equal(r.exitCode, 0, `group-consume ${group} on ${s.c.name} failed:\n${r.stderr.slice(-3000)}`);
  const last = r.lines.at(-1) as { consumed: number; committed: Record<string, string> };
  const messages = r.lines.slice(0, -1) as Consumed[];
  assert.equal(messages.length, last.consumed);
  return { messages, committed: Object.fromEntries(Object.entries(last.committed).map(([k, v]) => [k, Number(v)])) };
}

/** Sends `count` messages to the topic's queues round-robin in batches of 100; their producer ids. */
async function produce(s: Side, topic: string, count: number, tag: string, firstQueue = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 0, i = 0; n < count; i++) {
    const batch = Array.from({ length: Math.min(100, count - n) }, (_, k) => ({ body: Buffer.from(`${tag} ${n + k}`) }));
    const r = await s.broker.sendBatch(s.addr, topic, (firstQueue + i) % QUEUES, batch);
    ids.push(...r.msgIds);
    n += batch.length;
  }
  return ids;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until the topic holds `total` messages over its queues on that side (replication caught up). */
const holds = (s: Side, topic: string, total: number, queues = QUEUES) =>
  until(`${total} messages in ${topic} on ${s.c.name}`, 240_000, async () => {
    let n = 0;
    for (let q = 0; q < queues; q++) n += await s.broker.maxOffset(s.addr, topic, q);
    return n >= total ? n : undefined;
  });

/** Waits until the broker has the group's commit (a oneway request from the 4.x-style client). */
const committedOn = (s: Side, topic: string, group: string, committed: Record<string, number>) => {
  const offsets = new ConsumerOffsetClient(s.remoting);
  return until(`${group}'s commit on ${s.c.name}`, 30_000, async () => {
    for (const [k, v] of Object.entries(committed)) {
      if ((await offsets.queryOffset(s.addr, group, topic, Number(k.split('/')[1]))) !== v) return undefined;
    }
    return true;
  });
};

/** Lost and duplicated among `all`, consumed first on A then on B. */
function tally(all: readonly string[], onA: readonly Consumed[], onB: readonly Consumed[]) {
  const a = new Set(onA.map((m) => m.uniqKey));
  const seenB = new Set<string>();
  let duplicates = 0;
  for (const m of onB) {
    if (a.has(m.uniqKey) || seenB.has(m.uniqKey)) duplicates++;
    seenB.add(m.uniqKey);
  }
  const lost = all.filter((id) => !a.has(id) && !seenB.has(id)).length;
  return { consumedOnA: onA.length, consumedOnB: onB.length, lost, duplicates };
}

describe('consumer offset translation v5 → v5acl', () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const prefix = `e2eos${Date.now().toString(36)}`;
  const api = () => client(rt);
  let oneWay: Promise<string> | undefined;
  const oneWayTask = () => (oneWay ??= createTask(`${prefix}-one-way`, 'one-way', `${prefix}_t1`));

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b]) {
      for (const t of [`${prefix}_t1`, `${prefix}_t3`, `${prefix}_idle`])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    for (const g of ['g1', 'g2', 'g3', 'g4']) await a.admin.createOrUpdateGroupInCluster(a.c.name, { groupName: `${prefix}_${g}` });
    // Groups of the two-way task are consumed on both sides: made on B too (metadata sync would, one cycle later).
    await b.admin.createOrUpdateGroupInCluster(b.c.name, { groupName: `${prefix}_g3` });
    rt = await startRuntime({
      store: 'embedded',
      env: {
        FERRY_RECONCILE_INTERVAL_MS: '500',
        FERRY_METADATA_SYNC_INTERVAL_MS: '3000',
        FERRY_REPLICATOR_BUDGET_MS: '20000',
        LOG_LEVEL: 'info',
      },
    });
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  async function createTask(name: string, direction: 'one-way' | 'two-way', topic: string): Promise<string> {
    const created = await api()('POST', '/v1/tasks', {
      name,
      direction,
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'earliest' },
      filter: { topics: { include: [topic], exclude: [] } },
      groups: { include: [`${prefix}_.*`], exclude: [] },
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api(), created.body.id, 'running');
    return created.body.id as string;
  }

  /** Waits until the task reports every queue of the group's commit translated with `status` in `flow`. */
  function translated(taskId: string, group: string, flow: string, committed: Record<string, number>, status: string) {
    return until(`${group} ${status} in ${flow}`, 90_000, async () => {
      const items = (await api()('GET', `/v1/tasks/${taskId}/offsets`)).body.items as {
        group: string;
        flow: string;
        broker: string;
        queueId: number;
        sourceOffset: number;
        targetQueueId: number | null;
        targetOffset: number | null;
        status: string;
      }[];
      const mine = items.filter((i) => i.group === group && i.flow === flow);
      const done = Object.entries(committed).every(([k, v]) =>
        mine.some((i) => `${i.broker}/${i.queueId}` === k && i.sourceOffset === v && i.status === status),
      );
      return done ? mine : undefined;
    });
  }

  it('a group that consumed 30,000 of 50,000 on A consumes the other 20,000 on B: 0 lost, few duplicates', async () => {
    const topic = `${prefix}_t1`;
    const group = `${prefix}_g1`;
    const taskId = await oneWayTask();
    const all = await produce(a, topic, 50_000, 'one-way');
    await holds(b, topic, 50_000);

    const onA = await groupConsume(a, topic, group, 30_000);
    await committedOn(a, topic, group, onA.committed);
    const items = await translated(taskId, group, 'forward', onA.committed, 'synced');
    assert.equal(items.length, QUEUES);
    // The CLI shows the same rows (a later cycle may have synced them again meanwhile: same offsets).
    const cli = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'bin', 'ferry.mjs'), 'tasks', 'offsets', taskId],
      {
        env: { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken },
      },
    );
    assert.match(cli.stdout, /^FLOW\s+GROUP\s+TOPIC\s+QUEUE\s+SOURCE OFFSET\s+TARGET QUEUE\s+TARGET OFFSET\s+STATUS\s+SYNCED\s+ERROR\n/);
    for (const i of items) {
      const queues = `${i.broker}/${i.queueId}\\s+${i.sourceOffset}\\s+\\S+/${i.targetQueueId}\\s+${i.targetOffset}`;
      const row = new RegExp(`\\nforward\\s+${group}\\s+${topic}\\s+${queues}\\s+synced\\s`);
      assert.match(cli.stdout, row);
    }

    const onB = await groupConsume(b, topic, group, 50_000 - onA.messages.length, 8000);
    const t = tally(all, onA.messages, onB.messages);
    console.log(`# offset sync one-way: ${JSON.stringify(t)}`);
    assert.equal(t.lost, 0, 'no message lost');
    assert.ok(t.duplicates < PULL_BATCH * QUEUES, `${t.duplicates} duplicates (bound ${PULL_BATCH * QUEUES})`);
  });

  it("nothing left behind: what waits in a group's retry topic on A is consumed by it on B; its dead letters are there", async () => {
    const group = `${prefix}_g4`;
    const retry = `%RETRY%${group}`;
    const dlq = `%DLQ%${group}`;
    // What a broker makes for a group whose consumer puts messages back or gives up on them: one queue
    // each. The messages are written here directly (a send-back lands in the retry topic when it falls due).
    for (const t of [retry, dlq])
      await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: t, readQueueNums: 1, writeQueueNums: 1, perm: 6 });
    const taskId = await oneWayTask();
    // One message per send: brokers refuse batches to a retry topic.
    const put = async (topic: string, count: number, tag: string) => {
      const ids: string[] = [];
      for (let n = 0; n < count; n++) ids.push(...(await a.broker.send(a.addr, topic, 0, { body: Buffer.from(`${tag} ${n}`) })).msgIds);
      return ids;
    };
    const retried = await put(retry, 300, 'retried');
    await put(dlq, 50, 'dead');
    // Metadata sync makes both topics on B; the task's flow copies them like its own topic.
    await holds(b, retry, 300, 1);
    await holds(b, dlq, 50, 1);
    const onA = await groupConsume(a, retry, group, 200);
    await committedOn(a, retry, group, onA.committed);
    await translated(taskId, group, 'forward', onA.committed, 'synced');
    const onB = await groupConsume(b, retry, group, retried.length - onA.messages.length, 8000);
    const t = tally(retried, onA.messages, onB.messages);
    console.log(`# nothing left behind (retry topic): ${JSON.stringify(t)}`);
    assert.equal(t.lost, 0, 'no retried message lost');
    assert.ok(t.duplicates < PULL_BATCH, `${t.duplicates} duplicates (bound ${PULL_BATCH}: one queue)`);
  });

  it('leaves a group with a consumer online on B alone (skipped-active-consumers), syncs it once the consumer is gone', async () => {
    const topic = `${prefix}_t1`;
    const group = `${prefix}_g2`;
    const taskId = await oneWayTask();
    const offsetsOnB = new ConsumerOffsetClient(b.remoting);
    // A consumer of the group on B (subscribed to another topic: it consumes nothing of this one), online
    // before the group commits anything on A, so every cycle that sees the commit sees the consumer too.
    const hold = javaPeer(
      '5.3.3',
      ['hold-group', '--namesrv', b.c.nameServer, '--topic', `${prefix}_idle`, '--group', group, '--hold-ms', '60000', ...creds(b.c)],
      { timeoutMs: 150_000 },
    );
    await until(`${group} online on B`, 60_000, async () => ((await offsetsOnB.onlineConsumers(b.addr, group)) > 0 ? true : undefined));
    const onA = await groupConsume(a, topic, group, 1000);
    await committedOn(a, topic, group, onA.committed);
    const before = await Promise.all([0, 1, 2, 3].map((q) => offsetsOnB.queryOffset(b.addr, group, topic, q)));
    const skipped = await translated(taskId, group, 'forward', onA.committed, 'skipped-active-consumers');
    assert.equal(skipped.length, QUEUES);
    const during = await Promise.all([0, 1, 2, 3].map((q) => offsetsOnB.queryOffset(b.addr, group, topic, q)));
    assert.deepEqual(during, before, 'offsets on B untouched while the group has a consumer there');
    const held = await hold;
    assert.equal(held.exitCode, 0, held.stderr.slice(-2000));
    const synced = await translated(taskId, group, 'forward', onA.committed, 'synced');
    for (const i of synced) {
      assert.ok(i.targetOffset !== null && i.targetOffset > 0);
      assert.equal(await offsetsOnB.queryOffset(b.addr, group, topic, i.targetQueueId!), i.targetOffset);
    }
  });

  it('two-way, with a producer writing to B at the same time: 0 lost, few duplicates, A never moved back', async () => {
    const topic = `${prefix}_t3`;
    const group = `${prefix}_g3`;
    const taskId = await createTask(`${prefix}-two-way`, 'two-way', topic);
    const fromA = await produce(a, topic, 50_000, 'from A');
    await holds(b, topic, 50_000);
    // Another producer writes 5,000 to B's queues (paced over several seconds) while the group consumes on A
    // and its offsets are translated; the reverse flow copies them to A.
    const fromB = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 100; i++) {
        ids.push(...(await produce(b, topic, 50, `from B ${i}`, i)));
        await new Promise((r) => setTimeout(r, 80));
      }
      return ids;
    })();

    const onA = await groupConsume(a, topic, group, 30_000);
    await committedOn(a, topic, group, onA.committed);
    await translated(taskId, group, 'forward', onA.committed, 'synced');
    const all = [...fromA, ...(await fromB)];
    await holds(a, topic, 55_000);

    const onB = await groupConsume(b, topic, group, 55_000 - onA.messages.length, 8000);
    const t = tally(all, onA.messages, onB.messages);
    console.log(`# offset sync two-way with a producer on B: ${JSON.stringify(t)}`);
    assert.equal(t.lost, 0, 'no message lost');
    assert.ok(t.duplicates < PULL_BATCH * QUEUES, `${t.duplicates} duplicates (bound ${PULL_BATCH * QUEUES})`);

    // The reverse flow translated the group's progress on B back to A without moving A past what the group consumed there.
    const offsetsOnA = new ConsumerOffsetClient(a.remoting);
    for (const [k, v] of Object.entries(onA.committed)) {
      assert.ok((await offsetsOnA.queryOffset(a.addr, group, topic, Number(k.split('/')[1]))) >= v, `${k} never moved back`);
    }
  });
});

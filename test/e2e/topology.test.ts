// Three real clusters joined by several tasks, through the HTTP API: a full mesh of two-way tasks,
// a ring of one-way tasks and a chain of two-way tasks. 300 messages are written on each cluster;
// every cluster must end with all 900, each exactly once (a replica goes on only where no other
// task carries it from its origin more directly; FERRY_PATH stops cycles).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMessage } from '../../shared/rocketmq/message.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 2;
const PER_CLUSTER = 300;

async function produce(s: Side, topic: string, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < PER_CLUSTER; i += 50) {
    const batch: OutgoingMessage[] = Array.from({ length: 50 }, (_, j) => ({ body: Buffer.from(`${label}-${i + j}`) }));
    ids.push(...(await s.broker.sendBatch(s.addr, topic, (i / 50) % QUEUES, batch)).msgIds);
  }
  return ids;
}

/** Producer ids of every message of the topic on one cluster, read until nothing new came for 5 s. */
async function readUntilQuiet(s: Side, topic: string, expect: number, timeoutMs = 120_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let ids: string[] = [];
  let last = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    ids = [];
    for (let q = 0; q < QUEUES; q++) {
      for (let offset = 0; ; ) {
        const r = await s.broker.pull(s.addr, { topic, queueId: q, offset, maxMessages: 32 });
        if (r.messages.length === 0) break;
        ids.push(...r.messages.map((m) => m.uniqKey!));
        offset = r.nextBeginOffset;
      }
    }
    if (ids.length !== last) {
      last = ids.length;
      quietSince = Date.now();
    } else if (ids.length >= expect && Date.now() - quietSince > 5000) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return ids;
}

describe('several tasks over three clusters', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let clusters: Side[];
  const run = Date.now();

  before(async () => {
    clusters = [side(await testCluster('v5')), side(await testCluster('v5acl')), side(await testCluster('v4'))];
    rt = await startRuntime({ store: 'embedded', env: { FERRY_RECONCILE_INTERVAL_MS: '500', LOG_LEVEL: 'info' } });
    api = client(rt);
  });
  after(async () => {
    await rt?.stop();
    for (const s of clusters ?? []) s.remoting.close();
  });

  /** Creates the tasks (pairs of cluster indexes), writes on every cluster, and checks every cluster's copy. */
  async function scenario(name: string, links: { from: number; to: number; direction: 'one-way' | 'two-way' }[]) {
    const topic = `topo_${name}_${run}`;
    for (const s of clusters)
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    const ids: string[] = [];
    for (const [i, l] of links.entries()) {
      const r = await api('POST', '/v1/tasks', {
        name: `${name}-${i}`,
        direction: l.direction,
        source: endpointOf(clusters[l.from]!.c),
        target: endpointOf(clusters[l.to]!.c),
        filter: { topics: { include: [topic], exclude: [] } },
      });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id as string);
    }
    for (const id of ids) await waitForStatus(api, id, 'running', 90_000);
    // Replicators read the tenant's running tasks every 2 s (README): until every one of them has
    // seen all the tasks of this topology, a replica may still take a second route.
    await new Promise((r) => setTimeout(r, 3000));
    const written = (await Promise.all(clusters.map((s, i) => produce(s, topic, `${name}-${i}`)))).flat();
    for (const s of clusters) {
      const got = await readUntilQuiet(s, topic, written.length);
      const unique = new Set(got);
      assert.equal(got.length - unique.size, 0, `${name}: ${s.c.name} holds duplicates (${got.length} for ${unique.size})`);
      assert.equal(written.filter((id) => !unique.has(id)).length, 0, `${name}: ${s.c.name} misses messages`);
      assert.equal(got.length, written.length);
    }
    for (const id of ids) assert.equal((await api('POST', `/v1/tasks/${id}/stop`)).status, 202);
  }

  it('a full mesh of two-way tasks: each message exactly once on every cluster', async () => {
    await scenario('mesh', [
      { from: 0, to: 1, direction: 'two-way' },
      { from: 1, to: 2, direction: 'two-way' },
      { from: 0, to: 2, direction: 'two-way' },
    ]);
  });

  it('a ring of one-way tasks: every cluster reached, each message once', async () => {
    await scenario('ring', [
      { from: 0, to: 1, direction: 'one-way' },
      { from: 1, to: 2, direction: 'one-way' },
      { from: 2, to: 0, direction: 'one-way' },
    ]);
  });

  it('a chain of two-way tasks: the ends reach each other through the middle, each message once', async () => {
    await scenario('chain', [
      { from: 0, to: 1, direction: 'two-way' },
      { from: 1, to: 2, direction: 'two-way' },
    ]);
  });
});

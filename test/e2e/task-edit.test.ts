// Editing a stopped task on REAL clusters through the HTTP API: new source credentials and a new
// name server address take effect at the next start, and the task resumes from its checkpoints —
// what was copied is not copied again, what arrived while it was stopped is not skipped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 2;

async function produce(s: Side, topic: string, n: number, label: string): Promise<string[]> {
  const ids: string[] = [];
  for (let q = 0; q < QUEUES; q++) {
    const batch: OutgoingMessage[] = Array.from({ length: n / QUEUES }, (_, i) => ({
      body: Buffer.from(`${label}-${q}-${i}`),
      properties: { label },
    }));
    ids.push(...(await s.broker.sendBatch(s.addr, topic, q, batch)).msgIds);
  }
  return ids;
}

/** Every message of the topic, once at least `expect` are there and nothing more came for 3 s. */
async function readTopic(s: Side, topic: string, expect: number, timeoutMs = 60_000): Promise<StoredMessage[]> {
  const deadline = Date.now() + timeoutMs;
  let all: StoredMessage[] = [];
  let settledAt = 0;
  while (Date.now() < deadline) {
    all = [];
    for (let queueId = 0; queueId < QUEUES; queueId++) {
      for (let offset = 0; ; ) {
        const r = await s.broker.pull(s.addr, { topic, queueId, offset, maxMessages: 32 });
        if (r.messages.length === 0) break;
        all.push(...r.messages);
        offset = r.nextBeginOffset;
      }
    }
    if (all.length >= expect) {
      settledAt ||= Date.now();
      if (Date.now() - settledAt > 3000) return all;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return all;
}

describe('editing a stopped task on real clusters', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let a: Side;
  let b: Side;
  const run = Date.now();
  const topic = `edit_${run}`;
  // A second super user on the source: the task is switched over to its keys.
  const user = { accessKey: `ferryEdit${run}`, secretKey: `edit-secret-${run}` };

  before(async () => {
    a = side(await testCluster('v5acl'));
    b = side(await testCluster('v5'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    await a.admin.createUser(a.addr, { username: user.accessKey, password: user.secretKey, userType: 'Super' });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '10000', LOG_LEVEL: 'info' },
    });
    api = client(rt);
  });
  after(async () => {
    await rt?.stop();
    await a?.admin.deleteUser(a.addr, user.accessKey).catch(() => undefined);
    a?.remoting.close();
    b?.remoting.close();
  });

  /** Stop, then wait for the replicators to let go (`stopping` → `stopped`), as a person would before editing. */
  const stop = async (id: string) => {
    assert.equal((await api('POST', `/v1/tasks/${id}/stop`)).status, 202);
    await waitForStatus(api, id, 'stopped');
  };
  const patch = async (id: string, body: Record<string, unknown>) => {
    const r = await api('PATCH', `/v1/tasks/${id}`, body);
    assert.equal(r.status, 200, r.text);
    return r.body;
  };
  const start = async (id: string, status = 'running') => {
    assert.equal((await api('POST', `/v1/tasks/${id}/start`)).status, 202);
    return waitForStatus(api, id, status);
  };
  const uniqKeys = (ms: StoredMessage[]) => ms.map((m) => m.uniqKey!).sort();

  it('new source credentials and name server keep the checkpoints: nothing copied twice, nothing skipped', async () => {
    const created = await api('POST', '/v1/tasks', {
      name: `edit-${run}`,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'latest' },
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id as string;
    await waitForStatus(api, id, 'running');
    const first = await produce(a, topic, 40, 'first');
    assert.deepEqual(uniqKeys(await readTopic(b, topic, 40)), [...first].sort());
    await stop(id);

    // A given secret replaces the stored one: a wrong one fails the start check on the source.
    await patch(id, { source: { acl: { secretKey: 'not-the-secret' } } });
    const failed = await start(id, 'start_failed');
    assert.match(failed.statusReason, /authentication failed on the source cluster/);

    // The other user's keys and the name server by another address (the name server listens on every interface).
    const port = a.c.nameServer.split(':')[1];
    const edited = await patch(id, {
      version: failed.version,
      source: { nameServer: `localhost:${port}`, acl: { enabled: true, ...user } },
    });
    assert.equal(edited.source.nameServer, `localhost:${port}`);
    assert.equal(edited.source.acl.accessKey, `${user.accessKey.slice(0, 4)}****`);
    const whileStopped = await produce(a, topic, 20, 'stopped');
    await start(id);
    const afterEdit = await produce(a, topic, 30, 'after');
    const copied = await readTopic(b, topic, 90);
    assert.equal(copied.length, 90, `the target holds ${copied.length} messages, not 40 + 20 + 30`);
    assert.deepEqual(uniqKeys(copied), [...first, ...whileStopped, ...afterEdit].sort(), 'each message once: no replay, no gap');

    // The name server back, the secret omitted: the stored keys (the other user's) are kept and still work.
    await stop(id);
    const back = await patch(id, { source: { nameServer: a.c.nameServer } });
    assert.equal(back.source.acl.accessKey, `${user.accessKey.slice(0, 4)}****`);
    await start(id);
    const last = await produce(a, topic, 10, 'last');
    assert.deepEqual(uniqKeys(await readTopic(b, topic, 100)), [...first, ...whileStopped, ...afterEdit, ...last].sort());

    const events = (await api('GET', `/v1/tasks/${id}/events`)).body.items as { action: string; after: { changedFields?: string[] } }[];
    const updates = events.filter((e) => e.action === 'update').map((e) => e.after.changedFields);
    assert.deepEqual(updates, [
      ['source.nameServer'],
      ['source.acl.accessKey', 'source.acl.secretKey', 'source.nameServer'],
      ['source.acl.secretKey'],
    ]);
    assert.ok(!JSON.stringify(events).includes(user.secretKey), 'no secret in the audit trail');
    await stop(id);
  });
});

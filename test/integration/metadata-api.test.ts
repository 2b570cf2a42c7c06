// GET /v1/tasks/{id}/metadata through the local runtime (`npm start`'s entry, over real HTTP):
// after a topic is created on the source of a task between two test-bed clusters, the runtime's
// metadata sync timer copies it and the API lists the item with its outcome.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

describe('GET /v1/tasks/{id}/metadata over the local runtime (4.9.7 → 5.3.3 test-bed clusters)', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let src: Side;
  let dst: Side;
  let taskId: string | undefined;
  const topic = `md_api_${stamp}`;

  before(async () => {
    src = side(await testCluster('v4'));
    dst = side(await testCluster('v5'));
    rt = await startRuntime({ store: 'postgres', env: { FERRY_METADATA_SYNC_INTERVAL_MS: '500', LOG_LEVEL: 'warn' } });
    api = client(rt);
  });

  after(async () => {
    // The task goes first, so no later cycle mirrors the clean-up.
    if (taskId) await api('DELETE', `/v1/tasks/${taskId}`);
    await rt?.stop();
    for (const s of [src, dst]) {
      await s?.admin.deleteTopic(s.c.name, topic).catch(() => undefined);
      s?.remoting.close();
    }
  });

  it('lists a topic created on the source as synced to the target: kind, name, direction, action, status, syncedAt', async () => {
    const created = await api('POST', '/v1/tasks', {
      name: `metadata-api-${stamp}`,
      direction: 'one-way',
      source: endpointOf(src.c),
      target: endpointOf(dst.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    taskId = created.body.id as string;
    await waitForStatus(api, taskId, 'running');

    const t0 = Date.now();
    await src.admin.createOrUpdateTopicInCluster(src.c.name, { topicName: topic, readQueueNums: 3, writeQueueNums: 3, perm: 6 });
    let item: Record<string, unknown> | undefined;
    let last = '';
    for (const deadline = Date.now() + 60_000; !item && Date.now() < deadline; ) {
      const r = await api('GET', `/v1/tasks/${taskId}/metadata`);
      assert.equal(r.status, 200, r.text);
      last = r.text;
      item = (r.body.items as Record<string, unknown>[]).find((i) => i.kind === 'topic' && i.name === topic && i.status === 'synced');
      if (!item) await new Promise((res) => setTimeout(res, 250));
    }
    assert.ok(item, `no synced item for ${topic}: ${last.slice(0, 2000)}`);
    assert.deepEqual(
      { ...item, syncedAt: undefined },
      { kind: 'topic', name: topic, direction: 'source_to_target', action: 'create', status: 'synced', error: null, syncedAt: undefined },
    );
    const syncedAt = Date.parse(item.syncedAt as string);
    assert.ok(syncedAt >= t0 - 1000 && syncedAt <= Date.now() + 1000, `syncedAt ${String(item.syncedAt)} is when it was synced`);

    // What the API says is what the target holds.
    const onTarget = (await dst.admin.getAllTopicConfigs(dst.addr)).get(topic);
    assert.deepEqual([onTarget?.readQueueNums, onTarget?.writeQueueNums, onTarget?.perm], [3, 3, 6]);

    // A reader may look; another tenant may not even see the task.
    assert.equal((await client(rt, rt.readerToken)('GET', `/v1/tasks/${taskId}/metadata`)).status, 200);
    assert.equal((await client(rt, rt.otherTenantToken)('GET', `/v1/tasks/${taskId}/metadata`)).status, 404);
  });
});

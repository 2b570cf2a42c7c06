// Replication from a Tencent Cloud 5.x instance, end to end through the local runtime's HTTP API:
// the task names the source only by region and instance id, the fake Cloud API server (TC3-checked)
// reports the REAL 5.3.3 test-bed cluster's name server as the instance's public access point, and
// messages produced there arrive exactly once on the REAL 4.9.7 cluster. An instance the Cloud API
// does not know fails to start, naming it and its region.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMessage } from '../../shared/rocketmq/message.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { FakeTencentCloudApi } from '../support/fake-tencent-cloud-api.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const SECRET_ID = 'AKIDferryreplication';
const SECRET_KEY = 'ferry-replication-secret';
const REGION = 'ap-beijing';
const QUEUES = 4;
const COUNT = 100;

describe('replication from a Tencent 5.x instance (access point from the fake Cloud API) → real 4.9.7 cluster', () => {
  const fake = new FakeTencentCloudApi({ [SECRET_ID]: SECRET_KEY });
  const instance = fake.addTrocketCluster(`rmq-${stamp}`, REGION);
  const topic = `tcrepl_${stamp}`;
  let rt: Runtime;
  let v5: Side;
  let v4: Side;
  const tencentSource = (clusterId: string) => ({
    clusterType: 'tencent',
    region: REGION,
    clusterId,
    networkType: 'public',
    cloudApi: { secretId: SECRET_ID, secretKey: SECRET_KEY },
  });

  before(async () => {
    v5 = side(await testCluster('v5'));
    v4 = side(await testCluster('v4'));
    instance.endpoints.public = v5.c.nameServer;
    instance.endpoints.vpc = '10.0.0.1:8080'; // not reachable here: the task's networkType must pick the public one
    for (const s of [v5, v4])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    const url = await fake.start();
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_TENCENT_API_ENDPOINT: url, FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '8000', LOG_LEVEL: 'info' },
    });
  });

  after(async () => {
    await rt?.stop();
    for (const s of [v5, v4]) {
      await s?.admin.deleteTopic(s.c.name, topic).catch(() => undefined);
      s?.remoting.close();
    }
    await fake.stop();
  });

  it('copies messages produced on the instance to the self-built cluster exactly once', async () => {
    const api = client(rt);
    const created = await api('POST', '/v1/tasks', {
      name: `tencent-${stamp}`,
      direction: 'one-way',
      source: tencentSource(instance.id),
      target: endpointOf(v4.c),
      startOffset: { type: 'latest' },
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api, created.body.id, 'running');
    const lookups = fake.calls.filter((c) => c.action === 'DescribeInstance');
    assert.ok(
      lookups.length > 0 && lookups.every((c) => c.region === REGION && c.body.InstanceId === instance.id && !c.error),
      JSON.stringify(lookups),
    );

    const sent = new Map<number, string[]>();
    for (let n = 0; n < COUNT; n += 10) {
      const queueId = (n / 10) % QUEUES;
      const batch: OutgoingMessage[] = Array.from({ length: 10 }, (_, i) => ({
        body: Buffer.from(`tencent message ${n + i}`),
        properties: { seq: String(n + i) },
      }));
      const r = await v5.broker.sendBatch(v5.addr, topic, queueId, batch);
      sent.set(queueId, [...(sent.get(queueId) ?? []), ...r.msgIds]);
    }

    const seen = new Set<string>();
    // Read until nothing new comes for a few seconds: a late duplicate would show.
    const stored = await readUntilQuiet(v4, topic, QUEUES, { expect: [...sent.values()].flat().length, timeoutMs: 90_000 });
    for (let q = 0; q < QUEUES; q++) {
      const expected = sent.get(q) ?? [];
      const got = stored[q]!;
      assert.deepEqual(
        got.map((m) => m.uniqKey),
        expected,
        `queue ${q}: every message once, in order`,
      );
      for (const m of got) {
        assert.ok(!seen.has(m.uniqKey!), 'exactly once');
        seen.add(m.uniqKey!);
        assert.equal(m.body.toString(), `tencent message ${m.properties.seq}`);
        assert.equal(m.properties[ORIGIN.cluster], instance.id);
      }
    }
    assert.equal(seen.size, COUNT);
  });

  it('fails to start when the Cloud API does not know the instance, naming it and its region', async () => {
    const api = client(rt);
    const missing = `rmq-missing${stamp}`;
    const created = await api('POST', '/v1/tasks', {
      name: `tencent-missing-${stamp}`,
      direction: 'one-way',
      source: tencentSource(missing),
      target: endpointOf(v4.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    assert.equal(created.status, 201, created.text);
    const failed = await waitForStatus(api, created.body.id, 'start_failed');
    assert.match(failed.statusReason, new RegExp(`Tencent cluster ${missing} not found in region ${REGION}`));
    assert.ok(!failed.statusReason.includes(SECRET_KEY));
  });
});

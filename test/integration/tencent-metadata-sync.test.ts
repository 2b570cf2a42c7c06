// Metadata sync from a Tencent Cloud 5.x instance (the fake Cloud API server, TC3-checked) to the
// REAL 5.3.3 test-bed cluster over remoting, through the real sync path (openClusterAdmin picks the
// Cloud API adapter for the source from the task, the endpoint comes from the config) and an
// embedded store: what is created, changed and deleted in the Tencent instance follows on the broker.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { syncTaskMetadata, type MetadataSyncDeps } from '../../shared/metadata/sync.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { MetadataItem, Store, TaskRow } from '../../shared/store/store.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { FakeTencentCloudApi } from '../support/fake-tencent-cloud-api.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';
import { testCluster } from '../support/testbed.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const SECRET_ID = 'AKIDferryitest';
const SECRET_KEY = 'ferry-itest-secret';

describe('metadata sync: Tencent Cloud 5.x instance (fake Cloud API) → real 5.3.3 cluster', () => {
  const fake = new FakeTencentCloudApi({ [SECRET_ID]: SECRET_KEY });
  const src = fake.addTrocketCluster(`rmq-${stamp}`, 'ap-guangzhou');
  const cipher = aesGcmCipher(randomBytes(32));
  let v5: ClusterInfo;
  let remoting: RemotingClient;
  let admin: RemotingAdmin;
  let db: Throwaway<string>;
  let store: Store;
  let deps: MetadataSyncDeps;
  let task: TaskRow;

  const ORDERS = `tc_orders_${stamp}`;
  const AUDIT = `tc_audit_${stamp}`;
  const BILLING = `tc_billing_${stamp}`;
  const broker = () => v5.brokers[0]!.address;
  const rows = async () => new Map((await store.listMetadataItems(task.id)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}`, r]));

  before(async () => {
    v5 = await testCluster('v5');
    remoting = new RemotingClient({ requestTimeoutMs: 10_000 });
    admin = new RemotingAdmin(remoting, new NameServerClient(remoting, v5.nameServer));
    const url = await fake.start();
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
    deps = { store, cipher, log: pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' }), config: { tencentApiEndpoint: url } };
    const spec = taskSpec(
      {
        direction: 'one-way',
        source: {
          clusterType: 'tencent',
          region: 'ap-guangzhou',
          clusterId: src.id,
          cloudApi: { secretId: SECRET_ID, secretKey: SECRET_KEY },
        },
        target: selfBuilt({ clusterId: v5.name, nameServer: v5.nameServer }),
      },
      cipher,
    );
    task = await insertTestTask(store, spec);
  });

  after(async () => {
    for (const t of [ORDERS, AUDIT]) await admin.deleteTopic(v5.name, t).catch(() => undefined);
    await admin.deleteGroup(v5.name, BILLING).catch(() => undefined);
    remoting?.close();
    await store?.close();
    await db?.drop();
    await fake.stop();
  });

  it("creates the instance's topics and groups on the broker; roles are reported as having no place there", async () => {
    src.topics.set(ORDERS, { InstanceId: src.id, Topic: ORDERS, TopicType: 'FIFO', QueueNum: 4, Remark: '' });
    src.topics.set(AUDIT, { InstanceId: src.id, Topic: AUDIT, TopicType: 'NORMAL', QueueNum: 3, Remark: '' });
    src.groups.set(BILLING, {
      InstanceId: src.id,
      ConsumerGroup: BILLING,
      ConsumeEnable: false,
      ConsumeMessageOrderly: true,
      MaxRetryTimes: 5,
    });
    src.roles.set('app', {
      RoleName: 'app',
      PermRead: true,
      PermWrite: true,
      AccessKey: 'ak-app',
      SecretKey: 'sk-app',
      Remark: '',
      PermType: 'Cluster',
    });

    const r = await syncTaskMetadata(task, deps);
    assert.equal(r.outcome, 'ok', JSON.stringify(r));
    assert.equal(r.created, 3);
    assert.ok(fake.calls.length > 0 && fake.calls.every((c) => c.error === undefined && c.secretId === SECRET_ID));

    const topics = await admin.getAllTopicConfigs(broker());
    const orders = topics.get(ORDERS);
    assert.ok(orders, `${ORDERS} exists on ${v5.name}`);
    assert.deepEqual([orders.readQueueNums, orders.writeQueueNums, orders.perm, orders.attributes['message.type']], [4, 4, 6, 'FIFO']);
    assert.deepEqual([topics.get(AUDIT)?.readQueueNums, topics.get(AUDIT)?.writeQueueNums], [3, 3]);
    const billing = (await admin.getAllGroups(broker())).get(BILLING);
    assert.ok(billing, `${BILLING} exists on ${v5.name}`);
    assert.deepEqual([billing.consumeEnable, billing.retryMaxTimes, billing.consumeMessageOrderly], [false, 5, true]);

    const items = await rows();
    for (const k of [`topic/${ORDERS}`, `topic/${AUDIT}`, `group/${BILLING}`]) assert.equal(items.get(k)?.status, 'synced', k);
    assert.equal(items.get('role/app')?.status, 'unsupported');
    assert.match(
      items.get('role/app')?.error ?? '',
      new RegExp(`cannot sync role to ${v5.name}: roles exist only on Tencent Cloud clusters`),
    );
  });

  it('follows a queue-count increase, a group change and deletions made in the instance', async () => {
    src.topics.get(ORDERS)!.QueueNum = 8;
    src.groups.get(BILLING)!.MaxRetryTimes = 9;
    src.topics.delete(AUDIT);
    const r = await syncTaskMetadata(task, deps);
    assert.equal(r.outcome, 'ok', JSON.stringify(r));
    assert.deepEqual([r.updated, r.deleted], [2, 1]);
    const topics = await admin.getAllTopicConfigs(broker());
    assert.deepEqual([topics.get(ORDERS)?.readQueueNums, topics.get(ORDERS)?.writeQueueNums], [8, 8]);
    assert.equal(topics.has(AUDIT), false, `${AUDIT} deleted on ${v5.name}`);
    assert.equal((await admin.getAllGroups(broker())).get(BILLING)?.retryMaxTimes, 9);

    src.groups.delete(BILLING);
    const r2 = await syncTaskMetadata(task, deps);
    assert.equal(r2.deleted, 1, JSON.stringify(r2));
    assert.equal((await admin.getAllGroups(broker())).has(BILLING), false);
    assert.equal((await rows()).get(`group/${BILLING}`)?.action, 'delete');
  });
});

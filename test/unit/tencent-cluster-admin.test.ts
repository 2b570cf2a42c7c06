// The Tencent Cloud API ClusterAdmin against the fake Cloud API server (test/support): what each
// action sends (asserted at the fake, which also verifies every TC3 signature), paging, how the
// Cloud API's errors come out, and full metadata sync cycles between two fake Tencent clusters.
import type { TencentDeploymentEnv } from '../../shared/config.ts';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { MetadataUnsupportedError } from '../../shared/metadata/cluster-admin.ts';
import type { ClusterSnapshot, GroupItem, MetadataEntry, RoleItem, SyncKind, TopicItem } from '../../shared/metadata/model.ts';
import { openClusterAdmin } from '../../shared/metadata/open-cluster-admin.ts';
import type { SyncAction } from '../../shared/metadata/plan.ts';
import { decodeSnapshot, encodeSnapshot, sameSnapshot } from '../../shared/metadata/snapshot-codec.ts';
import { syncTaskMetadata } from '../../shared/metadata/sync.ts';
import { openTencentClusterAdmin, tencentServiceFor, type TencentClusterAdmin } from '../../shared/metadata/tencent-cluster-admin.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { MetadataItem, Store } from '../../shared/store/store.ts';
import { sealEndpoint, toView, type StoredEndpoint } from '../../shared/tasks/model.ts';
import { DEFAULT_METADATA_SYNC, EndpointInput } from '../../shared/tasks/schema.ts';
import { serviceEndpoint, TencentCloudApiError } from '../../shared/tencent-cloud/cloud-api.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { FakeTencentCloudApi, TDMQ_API_VERSION, TROCKET_API_VERSION, type RecordedCall } from '../support/fake-tencent-cloud-api.ts';
import { insertTestTask, taskSpec } from '../support/task-spec.ts';

const SECRET_ID = 'AKIDferrytest0001';
const SECRET_KEY = 'ferry-tencent-test-secret-key';
const REGION = 'ap-guangzhou';
const cipher = aesGcmCipher(randomBytes(32));

function tencentInput(clusterId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { clusterType: 'tencent', region: REGION, clusterId, cloudApi: { secretId: SECRET_ID, secretKey: SECRET_KEY }, ...extra };
}
const endpoint = (clusterId: string, extra: Record<string, unknown> = {}): StoredEndpoint =>
  sealEndpoint(EndpointInput.parse(tencentInput(clusterId, extra)), cipher);

const topic = (name: string, q: number, type?: string, extra: Partial<TopicItem> = {}): TopicItem => ({
  kind: 'topic',
  name,
  readQueueNums: q,
  writeQueueNums: q,
  perm: 6,
  order: false,
  ...(type ? { attributes: { 'message.type': type } } : {}),
  ...extra,
});
const group = (name: string, extra: Partial<GroupItem> = {}): GroupItem => ({
  kind: 'group',
  name,
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
  ...extra,
});
const role = (name: string, extra: Partial<RoleItem> = {}): RoleItem => ({
  kind: 'role',
  name,
  remark: '',
  permType: 'Cluster',
  permRead: true,
  permWrite: true,
  ...extra,
});

const create = (item: MetadataEntry): SyncAction => ({
  kind: item.kind,
  name: item.name,
  op: 'create',
  direction: 'source_to_target',
  to: 'target',
  item,
});
const update = (item: MetadataEntry, current: MetadataEntry): SyncAction => ({
  kind: item.kind,
  name: item.name,
  op: 'update',
  direction: 'source_to_target',
  to: 'target',
  item,
  current,
});
const remove = (kind: SyncKind, name: string): SyncAction => ({ kind, name, op: 'delete', direction: 'source_to_target', to: 'target' });

const items = (s: ClusterSnapshot, kind: SyncKind): Map<string, MetadataEntry> => {
  const k = s.kinds[kind];
  assert.equal(k?.status, 'ok', `${kind} readable`);
  return k.status === 'ok' ? k.items : new Map();
};

const cloudApiError = (check: (e: TencentCloudApiError) => void) => (e: unknown) => {
  assert.ok(e instanceof TencentCloudApiError, `expected a TencentCloudApiError, got ${String(e)}`);
  check(e);
  return true;
};

describe('Tencent Cloud API ClusterAdmin', () => {
  const fake = new FakeTencentCloudApi({ [SECRET_ID]: SECRET_KEY, AKIDenvkeys: 'env-secret' });
  let url: string;
  const admin = (clusterId: string, extra: Record<string, unknown> = {}, env: TencentDeploymentEnv = {}): TencentClusterAdmin =>
    openTencentClusterAdmin(endpoint(clusterId, extra), cipher, { apiEndpoint: url, env, retry: { delayMs: 1 } });
  const sent = (action: string): RecordedCall[] => fake.calls.filter((c) => c.action === action);
  const only = (action: string): RecordedCall => {
    const calls = sent(action);
    assert.equal(calls.length, 1, `${action} sent once (sent: ${fake.actions().join(', ')})`);
    return calls[0]!;
  };

  before(async () => {
    url = await fake.start();
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.calls.length = 0;
  });

  describe('picking the API', () => {
    it('takes trocket for rmq- instances, tdmq for rocketmq- clusters, and refuses to guess otherwise', () => {
      assert.equal(tencentServiceFor('rmq-abc123'), 'trocket');
      assert.equal(tencentServiceFor('rocketmq-abc123'), 'tdmq');
      assert.equal(tencentServiceFor('cluster-1'), undefined);
      assert.throws(
        () => openClusterAdmin(endpoint('cluster-1'), cipher),
        (e: unknown) => e instanceof MetadataUnsupportedError && /cluster-1.*"rocketmq-".*"rmq-"/.test(e.message),
      );
    });

    it('sends each service to <service>.tencentcloudapi.com unless FERRY_TENCENT_API_ENDPOINT says otherwise', () => {
      assert.deepEqual(serviceEndpoint('tdmq'), { endpoint: 'tdmq.tencentcloudapi.com', protocol: 'https://' });
      assert.deepEqual(serviceEndpoint('trocket'), { endpoint: 'trocket.tencentcloudapi.com', protocol: 'https://' });
      assert.deepEqual(serviceEndpoint('trocket', '{service}.internal.tencentcloudapi.com'), {
        endpoint: 'trocket.internal.tencentcloudapi.com',
        protocol: 'https://',
      });
      assert.deepEqual(serviceEndpoint('tdmq', 'http://127.0.0.1:8080'), { endpoint: '127.0.0.1:8080', protocol: 'http://' });
    });

    it("keeps a Tencent endpoint's Cloud API keys sealed in the task and shows only the masked SecretId", () => {
      const stored = endpoint('rmq-view');
      assert.ok(stored.cloudApi);
      assert.doesNotMatch(JSON.stringify(stored), new RegExp(`${SECRET_KEY}|${SECRET_ID}`));
      const spec = {
        direction: 'one-way',
        source: stored,
        target: stored,
        startOffset: { type: 'latest' },
        filter: {},
        tpsLimit: null,
        idempotentResume: true,
      };
      const view = toView({
        id: 't',
        tenant: 'x',
        name: 'n',
        spec,
        desiredState: 'running',
        status: 'running',
        statusReason: null,
        createdAt: new Date(),
        updatedAt: new Date(),
        version: 1,
      } as unknown as Parameters<typeof toView>[0]);
      assert.deepEqual(view.source.cloudApi, { secretId: 'AKID****', secretKeySet: true });
      assert.doesNotMatch(JSON.stringify(view), new RegExp(SECRET_KEY));
    });
  });

  it('stores roles with their keys sealed and reads them back', () => {
    const r = role('app', {
      permType: 'TopicAndGroup',
      detailedPerms: [{ resource: 't', resourceType: 'Topic', permRead: true, permWrite: false }],
      accessKey: 'ak-visible?',
      secretKey: 'sk-hidden',
    });
    const snap: ClusterSnapshot = {
      clusterId: 'rmq-x',
      reservedNames: [],
      kinds: { role: { status: 'ok', items: new Map([['app', r]]) } },
    };
    const stored = encodeSnapshot(snap, cipher);
    assert.doesNotMatch(JSON.stringify(stored), /ak-visible|sk-hidden/);
    const back = decodeSnapshot(JSON.parse(JSON.stringify(stored)), cipher);
    assert.deepEqual(items(back, 'role').get('app'), r);
    assert.ok(sameSnapshot(back, snap));
  });

  describe('5.x instances (trocket 2023-03-08)', () => {
    const ID = 'rmq-5xread';
    const c = fake.addTrocketCluster(ID, REGION);
    before(() => {
      for (let i = 0; i < 230; i++)
        c.topics.set(`t${i}`, {
          InstanceId: ID,
          Topic: `t${i}`,
          TopicType: i === 0 ? 'FIFO' : 'NORMAL',
          QueueNum: i === 0 ? 8 : 3,
          Remark: '',
        });
      c.groups.set('g1', { InstanceId: ID, ConsumerGroup: 'g1', ConsumeEnable: false, ConsumeMessageOrderly: true, MaxRetryTimes: 5 });
      c.roles.set('reader', {
        RoleName: 'reader',
        PermRead: true,
        PermWrite: false,
        AccessKey: 'ak-reader',
        SecretKey: 'sk-reader',
        Remark: 'ops',
        PermType: 'TopicAndGroup',
        DetailedRolePerms: [
          { Resource: 't1', ResourceType: 'Topic', PermRead: true, PermWrite: false },
          { Resource: 'g1', ResourceType: 'Group', PermRead: true, PermWrite: false },
        ],
      });
    });

    it('reads topics, groups and roles page by page, TC3-signed, naming the instance, version and region', async () => {
      const s = await admin(ID).readSnapshot();
      const pages = sent('DescribeTopicList');
      assert.deepEqual(
        pages.map((p) => [p.body.Offset, p.body.Limit]),
        [
          [0, 100],
          [100, 100],
          [200, 100],
        ],
      );
      for (const call of fake.calls) {
        assert.equal(call.error, undefined, `${call.action} answered without error`);
        assert.equal(call.version, TROCKET_API_VERSION);
        assert.equal(call.region, REGION);
        assert.equal(call.secretId, SECRET_ID);
        assert.equal(call.body.InstanceId, ID);
      }
      assert.deepEqual(only('DescribeConsumerGroupList').body, { InstanceId: ID, Offset: 0, Limit: 100 });
      assert.deepEqual(only('DescribeRoleList').body, { InstanceId: ID, Offset: 0, Limit: 20 });

      assert.equal(items(s, 'topic').size, 230);
      assert.deepEqual(items(s, 'topic').get('t0'), topic('t0', 8, 'FIFO'));
      assert.deepEqual(items(s, 'group').get('g1'), group('g1', { consumeEnable: false, retryMaxTimes: 5, consumeMessageOrderly: true }));
      assert.deepEqual(
        items(s, 'role').get('reader'),
        role('reader', {
          remark: 'ops',
          permType: 'TopicAndGroup',
          permWrite: false,
          accessKey: 'ak-reader',
          secretKey: 'sk-reader',
          detailedPerms: [
            { resource: 't1', resourceType: 'Topic', permRead: true, permWrite: false },
            { resource: 'g1', resourceType: 'Group', permRead: true, permWrite: false },
          ],
        }),
      );
      assert.equal(s.kinds.acl_user, undefined, 'ACL kinds do not apply to Tencent clusters');
      assert.equal(s.ownPrincipals, undefined);
    });

    it("lists the role Ferry's own clients sign with as never to be synced", async () => {
      const s = await admin(ID, { acl: { enabled: true, accessKey: 'ak-reader', secretKey: 'sk-reader' } }).readSnapshot();
      assert.deepEqual(s.ownPrincipals, ['reader']);
    });
  });

  describe('5.x writes', () => {
    const ID = 'rmq-5xwrite';
    const c = fake.addTrocketCluster(ID, REGION);

    it('creates, grows and deletes a topic with the fields trocket takes; deleting a missing topic is done', async () => {
      const a = admin(ID);
      await a.apply(create(topic('orders', 8, 'FIFO')));
      assert.deepEqual(only('CreateTopic').body, { InstanceId: ID, Topic: 'orders', TopicType: 'FIFO', QueueNum: 8 });
      assert.equal(c.topics.get('orders')?.QueueNum, 8);

      const current = items(await a.readSnapshot(), 'topic').get('orders')!;
      await a.apply(update(topic('orders', 12, 'FIFO'), current));
      assert.deepEqual(only('ModifyTopic').body, { InstanceId: ID, Topic: 'orders', QueueNum: 12 });
      assert.equal(c.topics.get('orders')?.QueueNum, 12);

      await a.apply(remove('topic', 'orders'));
      assert.deepEqual(only('DeleteTopic').body, { InstanceId: ID, Topic: 'orders' });
      assert.equal(c.topics.has('orders'), false);
      fake.calls.length = 0;
      await a.apply(remove('topic', 'orders'));
      assert.equal(only('DeleteTopic').error, 'ResourceNotFound.Topic');
    });

    it('creates, modifies and deletes a consumer group (retries, consume enable, orderly)', async () => {
      const a = admin(ID);
      await a.apply(create(group('pay', { consumeEnable: false, retryMaxTimes: 3, consumeMessageOrderly: true })));
      assert.deepEqual(only('CreateConsumerGroup').body, {
        InstanceId: ID,
        ConsumerGroup: 'pay',
        MaxRetryTimes: 3,
        ConsumeEnable: false,
        ConsumeMessageOrderly: true,
      });
      const current = items(await a.readSnapshot(), 'group').get('pay')!;
      await a.apply(update(group('pay', { retryMaxTimes: 7, consumeMessageOrderly: true }), current));
      assert.deepEqual(only('ModifyConsumerGroup').body, {
        InstanceId: ID,
        ConsumerGroup: 'pay',
        MaxRetryTimes: 7,
        ConsumeEnable: true,
        ConsumeMessageOrderly: true,
      });
      await a.apply(remove('group', 'pay'));
      assert.deepEqual(only('DeleteConsumerGroup').body, { InstanceId: ID, ConsumerGroup: 'pay' });
      assert.equal(c.groups.size, 0);
    });

    it("creates a role with the origin's keys when it has both, else lets the API generate them; modifies and deletes it", async () => {
      const a = admin(ID);
      const perms = [{ resource: 'orders', resourceType: 'Topic' as const, permRead: false, permWrite: true }];
      await a.apply(
        create(
          role('app', {
            permType: 'TopicAndGroup',
            permRead: false,
            detailedPerms: perms,
            accessKey: 'ak-app',
            secretKey: 'sk-app',
            remark: 'app',
          }),
        ),
      );
      assert.deepEqual(only('CreateRole').body, {
        InstanceId: ID,
        Role: 'app',
        PermWrite: true,
        PermRead: false,
        Remark: 'app',
        PermType: 'TopicAndGroup',
        DetailedPerms: [{ Resource: 'orders', ResourceType: 'Topic', PermRead: false, PermWrite: true }],
        RoleGenerateMode: 'MANUAL',
        AccessKey: 'ak-app',
        SecretKey: 'sk-app',
      });
      assert.equal(c.roles.get('app')?.SecretKey, 'sk-app');

      fake.calls.length = 0;
      await a.apply(create(role('ops', { accessKey: 'token-only' })));
      assert.deepEqual(only('CreateRole').body, {
        InstanceId: ID,
        Role: 'ops',
        PermWrite: true,
        PermRead: true,
        Remark: '',
        PermType: 'Cluster',
        DetailedPerms: [],
      });

      const current = items(await a.readSnapshot(), 'role').get('app')!;
      await a.apply(update(role('app', { permType: 'Cluster', permRead: true, remark: 'app', detailedPerms: [] }), current));
      assert.deepEqual(only('ModifyRole').body, {
        InstanceId: ID,
        Role: 'app',
        PermRead: true,
        PermWrite: true,
        PermType: 'Cluster',
        Remark: 'app',
        DetailedPerms: [],
      });
      await a.apply(remove('role', 'app'));
      assert.deepEqual(only('DeleteRole').body, { InstanceId: ID, Role: 'app' });
      assert.deepEqual([...c.roles.keys()], ['ops']);
    });

    it('writes what the API can hold and reports the rest as unsupported, naming the fields', async () => {
      const a = admin(ID);
      await assert.rejects(a.apply(create(topic('ro', 2, 'NORMAL', { perm: 4 }))), (e: unknown) => {
        assert.ok(e instanceof MetadataUnsupportedError);
        assert.match(e.message, /rmq-5xwrite.*topic ro: the Cloud API cannot set .*readQueueNums 2 \(it is 3\).*perm 4 \(it is 6\)/);
        return true;
      });
      assert.deepEqual(only('CreateTopic').body, { InstanceId: ID, Topic: 'ro', TopicType: 'NORMAL', QueueNum: 3 });

      // Fewer queues and another type than the topic has: nothing to send, the gap is reported.
      const current = items(await a.readSnapshot(), 'topic').get('ro')!;
      fake.calls.length = 0;
      await assert.rejects(
        a.apply(update(topic('ro', 3, 'FIFO'), current)),
        (e: unknown) => e instanceof MetadataUnsupportedError && /attributes \{"message.type":"FIFO"\}/.test(e.message),
      );
      assert.equal(sent('ModifyTopic').length, 0);
      // A topic without message.type is a NORMAL topic: nothing to write, nothing to report.
      await a.apply(update(topic('ro', 3, undefined, { attributes: {} }), current));
      assert.equal(sent('ModifyTopic').length, 0);
    });
  });

  describe('4.x clusters (tdmq 2020-02-17, namespace tdmq_default)', () => {
    const ID = 'rocketmq-4xread';
    const c = fake.addTdmqCluster(ID, REGION);
    before(() => {
      c.topics.set('normal', { Name: 'normal', Type: 'Normal', PartitionNum: 4, Remark: '' });
      c.topics.set('global', { Name: 'global', Type: 'GlobalOrder', PartitionNum: 1, Remark: '' });
      c.topics.set('%RETRY%g1', { Name: '%RETRY%g1', Type: 'Retry', PartitionNum: 1 });
      c.groups.set('g1', { Name: 'g1', ReadEnabled: true, BroadcastEnabled: false, RetryMaxTimes: 3 });
      for (let i = 0; i < 25; i++) c.roles.set(`r${i}`, { RoleName: `r${i}`, Token: `token-${i}`, Remark: '', PermType: 'Cluster' });
      c.grants.set('r0', { EnvironmentId: 'tdmq_default', RoleName: 'r0', Permissions: ['produce', 'consume'] });
      c.grants.set('r1', { EnvironmentId: 'tdmq_default', RoleName: 'r1', Permissions: ['consume'] });
    });

    it('reads the namespace page by page: types as message types, grants as role permissions, tokens as access keys', async () => {
      const s = await admin(ID).readSnapshot();
      for (const call of fake.calls) {
        assert.equal(call.error, undefined, `${call.action} answered without error`);
        assert.equal(call.version, TDMQ_API_VERSION);
        assert.equal(call.region, REGION);
        assert.equal(call.body.ClusterId, ID);
      }
      assert.deepEqual(only('DescribeRocketMQTopics').body, { ClusterId: ID, NamespaceId: 'tdmq_default', Offset: 0, Limit: 100 });
      assert.deepEqual(only('DescribeRocketMQGroups').body, { ClusterId: ID, NamespaceId: 'tdmq_default', Offset: 0, Limit: 100 });
      assert.deepEqual(
        sent('DescribeRocketMQRoles').map((p) => p.body),
        [
          { ClusterId: ID, Offset: 0, Limit: 20 },
          { ClusterId: ID, Offset: 20, Limit: 20 },
        ],
      );
      assert.deepEqual(only('DescribeRocketMQEnvironmentRoles').body, {
        ClusterId: ID,
        EnvironmentId: 'tdmq_default',
        Offset: 0,
        Limit: 20,
      });

      assert.deepEqual([...items(s, 'topic').values()], [topic('normal', 4, 'NORMAL'), topic('global', 1, 'FIFO')]);
      assert.deepEqual(items(s, 'group').get('g1'), group('g1', { consumeBroadcastEnable: false, retryMaxTimes: 3 }));
      assert.equal(items(s, 'role').size, 25);
      assert.deepEqual(items(s, 'role').get('r0'), role('r0', { accessKey: 'token-0' }));
      assert.deepEqual(items(s, 'role').get('r1'), role('r1', { permWrite: false, accessKey: 'token-1' }));
      assert.deepEqual(items(s, 'role').get('r2'), role('r2', { permRead: false, permWrite: false, accessKey: 'token-2' }));
    });
  });

  describe('4.x writes', () => {
    const ID = 'rocketmq-4xwrite';
    const c = fake.addTdmqCluster(ID, REGION);

    it('creates ordered topics as GlobalOrder (one queue) or PartitionedOrder, grows them with their remark, deletes them', async () => {
      const a = admin(ID);
      await a.apply(create(topic('one', 1, 'FIFO')));
      await a.apply(create(topic('many', 4, 'FIFO')));
      assert.deepEqual(
        sent('CreateRocketMQTopic').map((x) => x.body),
        [
          { Topic: 'one', Namespaces: ['tdmq_default'], Type: 'GlobalOrder', ClusterId: ID },
          { Topic: 'many', Namespaces: ['tdmq_default'], Type: 'PartitionedOrder', ClusterId: ID, PartitionNum: 4 },
        ],
      );
      c.topics.get('many')!.Remark = 'kept';
      const current = items(await a.readSnapshot(), 'topic').get('many')!;
      // The 4.x order flag becomes the FIFO type; the flag itself is not a Tencent setting.
      await assert.rejects(
        a.apply(update(topic('many', 6, undefined, { order: true }), current)),
        (e: unknown) => e instanceof MetadataUnsupportedError && /order true \(it is false\)/.test(e.message),
      );
      assert.deepEqual(only('ModifyRocketMQTopic').body, {
        ClusterId: ID,
        NamespaceId: 'tdmq_default',
        Topic: 'many',
        Remark: 'kept',
        PartitionNum: 6,
      });
      await a.apply(remove('topic', 'one'));
      assert.deepEqual(only('DeleteRocketMQTopic').body, { ClusterId: ID, NamespaceId: 'tdmq_default', Topic: 'one' });
      assert.deepEqual([...c.topics.keys()], ['many']);
    });

    it('creates, modifies and deletes groups (read enable, broadcast, retries)', async () => {
      const a = admin(ID);
      await a.apply(create(group('g', { consumeBroadcastEnable: false, retryMaxTimes: 2 })));
      assert.deepEqual(only('CreateRocketMQGroup').body, {
        GroupId: 'g',
        Namespaces: ['tdmq_default'],
        ReadEnable: true,
        BroadcastEnable: false,
        ClusterId: ID,
        RetryMaxTimes: 2,
      });
      const current = items(await a.readSnapshot(), 'group').get('g')!;
      await a.apply(update(group('g', { consumeEnable: false, consumeBroadcastEnable: true, retryMaxTimes: 4 }), current));
      assert.deepEqual(only('ModifyRocketMQGroup').body, {
        ClusterId: ID,
        NamespaceId: 'tdmq_default',
        GroupId: 'g',
        ReadEnable: false,
        BroadcastEnable: true,
        RetryMaxTimes: 4,
      });
      assert.deepEqual({ ...c.groups.get('g') }, { ...c.groups.get('g'), ReadEnabled: false, BroadcastEnabled: true, RetryMaxTimes: 4 });
      await a.apply(remove('group', 'g'));
      assert.deepEqual(only('DeleteRocketMQGroup').body, { ClusterId: ID, NamespaceId: 'tdmq_default', GroupId: 'g' });
    });

    it(
      'creates a role and its namespace grant, takes the grant away when it has no permission left, deletes the grant before the ' + 'role',
      async () => {
        const a = admin(ID);
        await a.apply(create(role('app', { permRead: false, remark: 'producer' })));
        assert.deepEqual(fake.actions(), ['CreateRocketMQRole', 'CreateRocketMQEnvironmentRole']);
        assert.deepEqual(only('CreateRocketMQRole').body, { RoleName: 'app', ClusterId: ID, Remark: 'producer', PermType: 'Cluster' });
        assert.deepEqual(only('CreateRocketMQEnvironmentRole').body, {
          EnvironmentId: 'tdmq_default',
          RoleName: 'app',
          Permissions: ['produce'],
          ClusterId: ID,
        });

        let current = items(await a.readSnapshot(), 'role').get('app')!;
        fake.calls.length = 0;
        await a.apply(update(role('app', { remark: 'producer' }), current));
        assert.deepEqual(fake.actions(), ['ModifyRocketMQRole', 'ModifyRocketMQEnvironmentRole']);
        assert.deepEqual(c.grants.get('app')?.Permissions, ['produce', 'consume']);

        current = items(await a.readSnapshot(), 'role').get('app')!;
        fake.calls.length = 0;
        await a.apply(update(role('app', { remark: 'idle', permRead: false, permWrite: false }), current));
        assert.deepEqual(fake.actions(), ['ModifyRocketMQRole', 'DeleteRocketMQEnvironmentRoles']);
        assert.equal(c.grants.has('app'), false);

        current = items(await a.readSnapshot(), 'role').get('app')!;
        await a.apply(update(role('app', { remark: 'idle' }), current));
        assert.deepEqual(c.grants.get('app')?.Permissions, ['produce', 'consume']);
        // The fake, like the API, refuses to delete a role that still has a grant.
        fake.calls.length = 0;
        await a.apply(remove('role', 'app'));
        assert.deepEqual(fake.actions(), ['DeleteRocketMQEnvironmentRoles', 'DeleteRocketMQRoles']);
        assert.deepEqual(only('DeleteRocketMQRoles').body, { RoleNames: ['app'], ClusterId: ID });
        assert.equal(c.roles.size, 0);
      },
    );
  });

  describe("the Cloud API's errors", () => {
    const ID = 'rmq-errors';
    const c = fake.addTrocketCluster(ID, REGION);

    it('a wrong SecretKey: refused by the signature check, reported as an auth error naming the cluster, no secret in it', async () => {
      const a = openTencentClusterAdmin(endpoint(ID, { cloudApi: { secretId: SECRET_ID, secretKey: 'not-the-secret' } }), cipher, {
        apiEndpoint: url,
        env: {},
      });
      await assert.rejects(
        a.readSnapshot(),
        cloudApiError((e) => {
          assert.equal(e.failure, 'auth');
          assert.equal(e.code, 'AuthFailure.SignatureFailure');
          assert.equal(e.retryable, false);
          assert.ok(e.requestId);
          assert.match(e.message, /refused the keys for cluster rmq-errors \(ap-guangzhou\): AuthFailure\.SignatureFailure/);
          assert.doesNotMatch(e.message, /not-the-secret|ferry-tencent-test-secret/);
        }),
      );
      assert.ok(fake.calls.length > 0 && fake.calls.every((x) => x.error === 'AuthFailure.SignatureFailure'));
    });

    it('an unknown SecretId, and no keys at all, are auth errors too (the latter sends nothing)', async () => {
      const a = openTencentClusterAdmin(endpoint(ID, { cloudApi: { secretId: 'AKIDnobody', secretKey: 'x' } }), cipher, {
        apiEndpoint: url,
        env: {},
      });
      await assert.rejects(
        a.readSnapshot(),
        cloudApiError((e) => assert.equal(e.code, 'AuthFailure.SecretIdNotFound')),
      );
      fake.calls.length = 0;
      const { cloudApi: _none, ...noKeys } = endpoint(ID);
      await assert.rejects(
        openTencentClusterAdmin(noKeys, cipher, { apiEndpoint: url, env: {} }).readSnapshot(),
        cloudApiError((e) => {
          assert.equal(e.failure, 'auth');
          assert.match(e.message, /rmq-errors.*no Tencent Cloud API keys.*cloudApi.*TENCENTCLOUD_SECRETID/);
        }),
      );
      assert.equal(fake.calls.length, 0);
    });

    it("without the task's own keys, the deployment's (with the session token) sign the calls", async () => {
      const { cloudApi: _none, ...noKeys } = endpoint(ID);
      await openTencentClusterAdmin(noKeys, cipher, {
        apiEndpoint: url,
        env: { TENCENTCLOUD_SECRETID: 'AKIDenvkeys', TENCENTCLOUD_SECRETKEY: 'env-secret', TENCENTCLOUD_SESSIONTOKEN: 'tok' },
      }).readSnapshot();
      assert.ok(fake.calls.length >= 3);
      for (const call of fake.calls) {
        assert.equal(call.error, undefined);
        assert.equal(call.secretId, 'AKIDenvkeys');
        assert.equal(call.token, 'tok');
      }
    });

    it('a cluster the region does not have is ResourceNotFound: the snapshot fails naming it', async () => {
      const a = openTencentClusterAdmin(endpoint(ID, { region: 'ap-shanghai' }), cipher, { apiEndpoint: url, env: {} });
      await assert.rejects(
        a.readSnapshot(),
        cloudApiError((e) => {
          assert.equal(e.failure, 'gone');
          assert.equal(e.code, 'ResourceNotFound.Instance');
          assert.match(e.message, /rmq-errors \(ap-shanghai\)/);
        }),
      );
    });

    it('RequestLimitExceeded is retried with backoff; past the attempts it is a retryable error', async () => {
      fake.failNext('DescribeTopicList', 'RequestLimitExceeded', 'too many requests');
      fake.failNext('DescribeTopicList', 'RequestLimitExceeded', 'too many requests');
      await admin(ID).readSnapshot();
      assert.deepEqual(
        sent('DescribeTopicList').map((x) => x.error),
        ['RequestLimitExceeded', 'RequestLimitExceeded', undefined],
      );

      fake.calls.length = 0;
      for (let i = 0; i < 2; i++) fake.failNext('DescribeRoleList', 'RequestLimitExceeded.UinLimitExceeded');
      const twice = openTencentClusterAdmin(endpoint(ID), cipher, { apiEndpoint: url, env: {}, retry: { attempts: 2, delayMs: 1 } });
      await assert.rejects(
        twice.readSnapshot(),
        cloudApiError((e) => {
          assert.equal(e.failure, 'throttled');
          assert.equal(e.retryable, true);
          assert.equal(e.action, 'DescribeRoleList');
        }),
      );
      assert.equal(sent('DescribeRoleList').length, 2);
    });

    it('LimitExceeded (a quota) is retryable but not retried at once', async () => {
      fake.failNext('CreateTopic', 'LimitExceeded.Topic', 'topic quota reached');
      await assert.rejects(
        admin(ID).apply(create(topic('q', 4, 'NORMAL'))),
        cloudApiError((e) => {
          assert.equal(e.failure, 'throttled');
          assert.equal(e.retryable, true);
          assert.match(
            e.message,
            /CreateTopic for cluster rmq-errors \(ap-guangzhou\) failed: LimitExceeded\.Topic: topic quota reached \(request id /,
          );
        }),
      );
      assert.equal(sent('CreateTopic').length, 1);
    });

    it('UnsupportedOperation is MetadataUnsupportedError; ResourceInUse a conflict; InvalidParameterValue names the problem', async () => {
      fake.failNext('CreateConsumerGroup', 'UnsupportedOperation', 'not for this edition');
      await assert.rejects(
        admin(ID).apply(create(group('u'))),
        (e: unknown) =>
          e instanceof MetadataUnsupportedError &&
          /rmq-errors.*CreateConsumerGroup.*UnsupportedOperation: not for this edition/.test(e.message),
      );

      c.topics.set('taken', { InstanceId: ID, Topic: 'taken', TopicType: 'NORMAL', QueueNum: 3 });
      await assert.rejects(
        admin(ID).apply(create(topic('taken', 4, 'NORMAL'))),
        cloudApiError((e) => {
          assert.equal(e.failure, 'conflict');
          assert.equal(e.code, 'ResourceInUse.Topic');
        }),
      );

      await assert.rejects(
        admin(ID).apply(create(role('bad', { accessKey: 'ak', secretKey: 'sk', permType: 'Everything' as 'Cluster' }))),
        cloudApiError((e) => {
          assert.equal(e.failure, 'invalid');
          assert.match(e.message, /CreateRole .*InvalidParameterValue: PermType must be one of Cluster, TopicAndGroup/);
        }),
      );
    });
  });

  describe('metadata sync between two fake Tencent clusters (5.x source, 4.x target)', () => {
    let db: Throwaway<string>;
    let store: Store;
    const log = pino({ level: 'silent' });
    const src = fake.addTrocketCluster('rmq-syncsrc', REGION);
    const dst = fake.addTdmqCluster('rocketmq-syncdst', REGION);

    before(async () => {
      db = await throwawayDataDir();
      store = await openStore({ dataDir: db.value });
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    it('copies topics, groups and roles, is quiet when nothing changed, then follows changes and deletes', async () => {
      src.topics.set('orders', { InstanceId: src.id, Topic: 'orders', TopicType: 'FIFO', QueueNum: 4, Remark: '' });
      src.topics.set('audit', { InstanceId: src.id, Topic: 'audit', TopicType: 'NORMAL', QueueNum: 3, Remark: '' });
      src.groups.set('billing', {
        InstanceId: src.id,
        ConsumerGroup: 'billing',
        ConsumeEnable: true,
        ConsumeMessageOrderly: false,
        MaxRetryTimes: 5,
      });
      src.roles.set('app', {
        RoleName: 'app',
        PermRead: true,
        PermWrite: true,
        AccessKey: 'ak-app',
        SecretKey: 'sk-app',
        Remark: 'app',
        PermType: 'Cluster',
        DetailedRolePerms: [],
      });
      // Ferry's own role on each side (the task connects with its keys) stays out of it.
      src.roles.set('ferry', {
        RoleName: 'ferry',
        PermRead: true,
        PermWrite: true,
        AccessKey: 'ak-ferry',
        SecretKey: 'sk-ferry',
        Remark: '',
        PermType: 'Cluster',
      });

      const spec = {
        ...taskSpec(
          {
            direction: 'one-way',
            source: tencentInput(src.id, { acl: { enabled: true, accessKey: 'ak-ferry', secretKey: 'sk-ferry' } }),
            target: tencentInput(dst.id),
          },
          cipher,
        ),
        // Role keys are copied only when asked (by default the copy gets keys of its own).
        metadataSync: { ...DEFAULT_METADATA_SYNC, copyRoleSecrets: true },
      };
      const task = await insertTestTask(store, spec);
      const deps = { store, cipher, log, config: { tencentApiEndpoint: url } };

      const first = await syncTaskMetadata(task, deps);
      assert.equal(first.outcome, 'ok', JSON.stringify(first));
      assert.equal(first.created, 4);
      assert.deepEqual(dst.topics.get('orders'), { ...dst.topics.get('orders'), Type: 'PartitionedOrder', PartitionNum: 4 });
      assert.deepEqual(dst.topics.get('audit'), { ...dst.topics.get('audit'), Type: 'Normal', PartitionNum: 3 });
      assert.deepEqual(dst.groups.get('billing'), {
        ...dst.groups.get('billing'),
        ReadEnabled: true,
        BroadcastEnabled: true,
        RetryMaxTimes: 5,
      });
      assert.deepEqual(dst.roles.get('app'), { ...dst.roles.get('app'), Token: 'ak-app', Remark: 'app' });
      assert.deepEqual(dst.grants.get('app')?.Permissions, ['produce', 'consume']);
      assert.equal(dst.roles.has('ferry'), false, "Ferry's own role is not copied");
      const rows = new Map((await store.listMetadataItems(task.id)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}`, r]));
      for (const k of ['topic/orders', 'topic/audit', 'group/billing', 'role/app']) {
        assert.equal(rows.get(k)?.status, 'synced', k);
        assert.equal(rows.get(k)?.action, 'create', k);
        assert.equal(rows.get(k)?.direction, 'source_to_target', k);
      }

      // Nothing changed: reads only. (The second cycle stores the target as read once, the third nothing.)
      for (let i = 0; i < 2; i++) {
        fake.calls.length = 0;
        const quiet = await syncTaskMetadata(task, deps);
        assert.deepEqual(
          [quiet.outcome, quiet.created, quiet.updated, quiet.deleted, quiet.failed, quiet.unsupported],
          ['ok', 0, 0, 0, 0, 0],
          JSON.stringify(quiet),
        );
        if (i === 1) assert.equal(quiet.stored, false, JSON.stringify(quiet));
        assert.ok(
          fake.actions().every((a) => a.startsWith('Describe')),
          `only reads: ${fake.actions().join(', ')}`,
        );
      }

      src.topics.get('orders')!.QueueNum = 8;
      src.roles.get('app')!.PermWrite = false;
      src.groups.delete('billing');
      src.topics.delete('audit');
      fake.calls.length = 0;
      const third = await syncTaskMetadata(task, deps);
      assert.equal(third.outcome, 'ok', JSON.stringify(third));
      assert.deepEqual({ updated: third.updated, deleted: third.deleted }, { updated: 2, deleted: 2 });
      assert.equal(dst.topics.get('orders')?.PartitionNum, 8);
      assert.deepEqual(dst.grants.get('app')?.Permissions, ['consume']);
      assert.equal(dst.groups.has('billing'), false);
      assert.equal(dst.topics.has('audit'), false);
      assert.deepEqual(
        fake
          .actions()
          .filter((a) => !a.startsWith('Describe'))
          .sort(),
        ['DeleteRocketMQGroup', 'DeleteRocketMQTopic', 'ModifyRocketMQEnvironmentRole', 'ModifyRocketMQRole', 'ModifyRocketMQTopic'],
      );
      const after3 = new Map((await store.listMetadataItems(task.id)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}`, r]));
      assert.equal(after3.get('group/billing')?.action, 'delete');
      assert.equal(after3.get('role/app')?.action, 'update');
      assert.equal(after3.get('role/app')?.status, 'synced');
    });
  });
});

// TDMQ RocketMQ 5.x instances (`rmq-…`) through trocket 2023-03-08: topics, consumer groups and
// roles of one instance, no namespaces.
import { TrocketClient, type TrocketSdkClient as Client } from '../../tencent-cloud/sdk-clients.ts';
import type {
  ConsumeGroupItem,
  DetailedRolePerm,
  RoleItem as ApiRole,
  TopicItem as ApiTopic,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/trocket/v20230308/trocket_models.js';
import type { GroupItem, RoleItem, RolePerm, TopicItem } from '../model.ts';
import { paginate, type Caller } from '../../tencent-cloud/cloud-api.ts';
import { FIXED_GROUP_SETTINGS, desiredMessageType, roleBase, tencentTopic, wantedQueues, type TencentFlavour } from './flavour.ts';

export { TrocketClient };

// CreateTopic/ModifyTopic take 3–16 queues, CreateConsumerGroup 0–1000 retries.
const MIN_QUEUES = 3;
const MAX_QUEUES = 16;
const MAX_RETRIES = 1000;
const TOPIC_TYPES = new Set(['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION', 'LITE']);
const PAGE = 100;
const ROLE_PAGE = 20;

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, n));

export class TrocketFlavour implements TencentFlavour {
  readonly service = 'trocket' as const;
  readonly label = 'TDMQ RocketMQ 5.x';

  constructor(
    private readonly client: Client,
    private readonly instanceId: string,
    private readonly call: Caller,
  ) {}

  async readTopics(): Promise<TopicItem[]> {
    const list = await paginate<ApiTopic>(PAGE, async (Offset, Limit) => {
      const r = await this.call('DescribeTopicList', () => this.client.DescribeTopicList({ InstanceId: this.instanceId, Offset, Limit }));
      return { total: r.TotalCount, items: r.Data };
    });
    return list.flatMap((t) => (t.Topic ? [tencentTopic(t.Topic, t.QueueNum ?? 0, t.TopicType ?? 'NORMAL')] : []));
  }

  async readGroups(): Promise<GroupItem[]> {
    const list = await paginate<ConsumeGroupItem>(PAGE, async (Offset, Limit) => {
      const r = await this.call('DescribeConsumerGroupList', () =>
        this.client.DescribeConsumerGroupList({ InstanceId: this.instanceId, Offset, Limit }),
      );
      return { total: r.TotalCount, items: r.Data };
    });
    return list.flatMap((g) =>
      g.ConsumerGroup
        ? [
            {
              kind: 'group' as const,
              name: g.ConsumerGroup,
              ...FIXED_GROUP_SETTINGS,
              consumeEnable: g.ConsumeEnable ?? true,
              // 5.x instances have no broadcast switch: clients may always consume in broadcast mode.
              consumeBroadcastEnable: true,
              retryMaxTimes: g.MaxRetryTimes ?? 16,
              consumeMessageOrderly: g.ConsumeMessageOrderly ?? false,
            },
          ]
        : [],
    );
  }

  async readRoles(): Promise<RoleItem[]> {
    const list = await paginate<ApiRole>(ROLE_PAGE, async (Offset, Limit) => {
      const r = await this.call('DescribeRoleList', () => this.client.DescribeRoleList({ InstanceId: this.instanceId, Offset, Limit }));
      return { total: r.TotalCount, items: r.Data };
    });
    return list.map((r) => {
      const item: RoleItem = {
        kind: 'role',
        name: r.RoleName,
        remark: r.Remark ?? '',
        permType: r.PermType === 'TopicAndGroup' ? 'TopicAndGroup' : 'Cluster',
        permRead: r.PermRead,
        permWrite: r.PermWrite,
        detailedPerms: (r.DetailedRolePerms ?? []).flatMap(rolePerm),
      };
      if (r.AccessKey) item.accessKey = r.AccessKey;
      if (r.SecretKey) item.secretKey = r.SecretKey;
      return item;
    });
  }

  topicOutcome(desired: TopicItem, current?: TopicItem): TopicItem {
    const wanted = desiredMessageType(desired);
    // The type is fixed at creation; queues can be added, never removed.
    const type = current ? (current.attributes?.['message.type'] ?? 'NORMAL') : TOPIC_TYPES.has(wanted) ? wanted : 'NORMAL';
    const queues = clamp(wantedQueues(desired), MIN_QUEUES, MAX_QUEUES);
    return tencentTopic(desired.name, current ? Math.max(queues, current.writeQueueNums) : queues, type);
  }

  groupOutcome(desired: GroupItem, current?: GroupItem): GroupItem {
    return {
      kind: 'group',
      name: desired.name,
      ...FIXED_GROUP_SETTINGS,
      consumeEnable: desired.consumeEnable,
      consumeBroadcastEnable: true,
      retryMaxTimes: clamp(desired.retryMaxTimes, 0, MAX_RETRIES),
      // A 4.x origin says nothing about orderly delivery: keep what the group has.
      consumeMessageOrderly: desired.consumeMessageOrderly ?? current?.consumeMessageOrderly ?? false,
    };
  }

  roleOutcome(desired: RoleItem, current?: RoleItem): RoleItem {
    return { ...roleBase(desired), detailedPerms: desired.detailedPerms ?? current?.detailedPerms ?? [] };
  }

  async createTopic(t: TopicItem): Promise<void> {
    await this.call('CreateTopic', () =>
      this.client.CreateTopic({
        InstanceId: this.instanceId,
        Topic: t.name,
        TopicType: t.attributes?.['message.type'] ?? 'NORMAL',
        QueueNum: t.writeQueueNums,
      }),
    );
  }

  async updateTopic(t: TopicItem): Promise<void> {
    await this.call('ModifyTopic', () =>
      this.client.ModifyTopic({ InstanceId: this.instanceId, Topic: t.name, QueueNum: t.writeQueueNums }),
    );
  }

  async deleteTopic(name: string): Promise<void> {
    await this.call('DeleteTopic', () => this.client.DeleteTopic({ InstanceId: this.instanceId, Topic: name }));
  }

  async createGroup(g: GroupItem): Promise<void> {
    await this.call('CreateConsumerGroup', () =>
      this.client.CreateConsumerGroup({
        InstanceId: this.instanceId,
        ConsumerGroup: g.name,
        MaxRetryTimes: g.retryMaxTimes,
        ConsumeEnable: g.consumeEnable,
        ConsumeMessageOrderly: g.consumeMessageOrderly ?? false,
      }),
    );
  }

  async updateGroup(g: GroupItem): Promise<void> {
    await this.call('ModifyConsumerGroup', () =>
      this.client.ModifyConsumerGroup({
        InstanceId: this.instanceId,
        ConsumerGroup: g.name,
        MaxRetryTimes: g.retryMaxTimes,
        ConsumeEnable: g.consumeEnable,
        ConsumeMessageOrderly: g.consumeMessageOrderly ?? false,
      }),
    );
  }

  async deleteGroup(name: string): Promise<void> {
    await this.call('DeleteConsumerGroup', () => this.client.DeleteConsumerGroup({ InstanceId: this.instanceId, ConsumerGroup: name }));
  }

  async createRole(r: RoleItem, keys?: { accessKey: string; secretKey: string }): Promise<void> {
    await this.call('CreateRole', () =>
      this.client.CreateRole({
        InstanceId: this.instanceId,
        Role: r.name,
        PermWrite: r.permWrite,
        PermRead: r.permRead,
        Remark: r.remark,
        PermType: r.permType,
        DetailedPerms: (r.detailedPerms ?? []).map(apiPerm),
        ...(keys ? { RoleGenerateMode: 'MANUAL', AccessKey: keys.accessKey, SecretKey: keys.secretKey } : {}),
      }),
    );
  }

  async updateRole(r: RoleItem): Promise<void> {
    await this.call('ModifyRole', () =>
      this.client.ModifyRole({
        InstanceId: this.instanceId,
        Role: r.name,
        PermRead: r.permRead,
        PermWrite: r.permWrite,
        PermType: r.permType,
        Remark: r.remark,
        DetailedPerms: (r.detailedPerms ?? []).map(apiPerm),
      }),
    );
  }

  async deleteRole(name: string): Promise<void> {
    await this.call('DeleteRole', () => this.client.DeleteRole({ InstanceId: this.instanceId, Role: name }));
  }
}

function rolePerm(p: DetailedRolePerm): RolePerm[] {
  if (p.ResourceType !== 'Topic' && p.ResourceType !== 'Group') return [];
  return [{ resource: p.Resource, resourceType: p.ResourceType, permRead: p.PermRead, permWrite: p.PermWrite }];
}

function apiPerm(p: RolePerm): DetailedRolePerm {
  return { Resource: p.resource, ResourceType: p.resourceType, PermRead: p.permRead, PermWrite: p.permWrite };
}

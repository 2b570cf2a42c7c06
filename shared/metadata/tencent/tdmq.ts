// TDMQ RocketMQ 4.x clusters (`rocketmq-…`) through tdmq 2020-02-17: topics and groups of the
// cluster's only namespace `tdmq_default`, and roles with their grant on that namespace (the
// RocketMQ role actions that replace the older generic role API).
import { TdmqClient, type TdmqSdkClient as Client } from '../../tencent-cloud/sdk-clients.ts';
import type {
  DetailedRolePerm,
  EnvironmentRole,
  Role,
  RocketMQGroup,
  RocketMQTopic,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_models.js';
import type { GroupItem, RoleItem, RolePerm, TopicItem } from '../model.ts';
import { allSettledOrThrow, ignoreGone, paginate, type Caller } from '../../tencent-cloud/cloud-api.ts';
import { FIXED_GROUP_SETTINGS, desiredMessageType, roleBase, tencentTopic, wantedQueues, type TencentFlavour } from './flavour.ts';

/** 4.x general clusters have exactly this namespace. */
const TDMQ_NAMESPACE = 'tdmq_default';
export { TdmqClient };

const PAGE = 100;
// DescribeRocketMQRoles and DescribeRocketMQEnvironmentRoles return at most 20 per call.
const ROLE_PAGE = 20;

/** tdmq topic types as RocketMQ 5 message types; Retry and DeadLetter topics are not user topics. */
const TYPE_TO_MESSAGE: Record<string, string> = {
  Normal: 'NORMAL',
  GlobalOrder: 'FIFO',
  PartitionedOrder: 'FIFO',
  Transaction: 'TRANSACTION',
  DelayScheduled: 'DELAY',
};

/** The tdmq type for a message type and queue count (a FIFO topic with one queue is globally ordered). */
function apiType(messageType: string, queues: number): string {
  switch (messageType) {
    case 'FIFO':
      return queues === 1 ? 'GlobalOrder' : 'PartitionedOrder';
    case 'TRANSACTION':
      return 'Transaction';
    case 'DELAY':
      return 'DelayScheduled';
    default:
      return 'Normal';
  }
}

export class TdmqFlavour implements TencentFlavour {
  readonly service = 'tdmq' as const;
  readonly label = 'TDMQ RocketMQ 4.x';
  /**
   * As last read: tdmq types (GlobalOrder topics keep one partition), remarks (ModifyRocketMQTopic
   * needs one), roles granted on the namespace.
   */
  private topicTypes = new Map<string, string>();
  private topicRemarks = new Map<string, string>();
  private grantedRoles = new Set<string>();

  constructor(
    private readonly client: Client,
    private readonly clusterId: string,
    private readonly call: Caller,
  ) {}

  async readTopics(): Promise<TopicItem[]> {
    const list = await paginate<RocketMQTopic>(PAGE, async (Offset, Limit) => {
      const r = await this.call('DescribeRocketMQTopics', () =>
        this.client.DescribeRocketMQTopics({ ClusterId: this.clusterId, NamespaceId: TDMQ_NAMESPACE, Offset, Limit }),
      );
      return { total: r.TotalCount, items: r.Topics };
    });
    this.topicTypes = new Map();
    this.topicRemarks = new Map();
    const items: TopicItem[] = [];
    for (const t of list) {
      const messageType = TYPE_TO_MESSAGE[t.Type ?? 'Normal'];
      if (!t.Name || !messageType) continue;
      this.topicTypes.set(t.Name, t.Type ?? 'Normal');
      this.topicRemarks.set(t.Name, t.Remark ?? '');
      items.push(tencentTopic(t.Name, t.PartitionNum ?? 1, messageType));
    }
    return items;
  }

  async readGroups(): Promise<GroupItem[]> {
    const list = await paginate<RocketMQGroup>(PAGE, async (Offset, Limit) => {
      const r = await this.call('DescribeRocketMQGroups', () =>
        this.client.DescribeRocketMQGroups({ ClusterId: this.clusterId, NamespaceId: TDMQ_NAMESPACE, Offset, Limit }),
      );
      return { total: r.TotalCount, items: r.Groups };
    });
    return list.flatMap((g) =>
      g.Name
        ? [
            {
              kind: 'group' as const,
              name: g.Name,
              ...FIXED_GROUP_SETTINGS,
              consumeEnable: g.ReadEnabled ?? true,
              consumeBroadcastEnable: g.BroadcastEnabled ?? false,
              retryMaxTimes: g.RetryMaxTimes ?? 16,
            },
          ]
        : [],
    );
  }

  async readRoles(): Promise<RoleItem[]> {
    const [roles, grants] = await allSettledOrThrow([
      paginate<Role>(ROLE_PAGE, async (Offset, Limit) => {
        const r = await this.call('DescribeRocketMQRoles', () =>
          this.client.DescribeRocketMQRoles({ ClusterId: this.clusterId, Offset, Limit }),
        );
        return { total: r.TotalCount, items: r.RoleSets };
      }),
      paginate<EnvironmentRole>(ROLE_PAGE, async (Offset, Limit) => {
        const r = await this.call('DescribeRocketMQEnvironmentRoles', () =>
          this.client.DescribeRocketMQEnvironmentRoles({ ClusterId: this.clusterId, EnvironmentId: TDMQ_NAMESPACE, Offset, Limit }),
        );
        return { total: r.TotalCount, items: r.EnvironmentRoleSets };
      }),
    ]);
    const permissions = new Map(grants.flatMap((g) => (g.RoleName ? [[g.RoleName, g.Permissions ?? []] as const] : [])));
    this.grantedRoles = new Set(permissions.keys());
    return roles.flatMap((r) => {
      if (!r.RoleName) return [];
      const perms = permissions.get(r.RoleName) ?? [];
      // The namespace grant's per-topic/group permissions are not shown: detailedPerms stays undefined.
      const item: RoleItem = {
        kind: 'role',
        name: r.RoleName,
        remark: r.Remark ?? '',
        permType: r.PermType === 'TopicAndGroup' ? 'TopicAndGroup' : 'Cluster',
        permRead: perms.includes('consume'),
        permWrite: perms.includes('produce'),
      };
      // 4.x clients sign with the role's token as their access key.
      if (r.Token) item.accessKey = r.Token;
      return [item];
    });
  }

  topicOutcome(desired: TopicItem, current?: TopicItem): TopicItem {
    const wanted = desiredMessageType(desired);
    const type = current ? (current.attributes?.['message.type'] ?? 'NORMAL') : TYPE_TO_MESSAGE[apiType(wanted, wantedQueues(desired))]!;
    // A globally ordered topic has one partition for good; others can gain partitions, never lose them.
    const global = current ? this.topicTypes.get(desired.name) === 'GlobalOrder' : apiType(type, wantedQueues(desired)) === 'GlobalOrder';
    const queues = global ? 1 : current ? Math.max(wantedQueues(desired), current.writeQueueNums) : wantedQueues(desired);
    return tencentTopic(desired.name, queues, type);
  }

  groupOutcome(desired: GroupItem): GroupItem {
    return {
      kind: 'group',
      name: desired.name,
      ...FIXED_GROUP_SETTINGS,
      consumeEnable: desired.consumeEnable,
      consumeBroadcastEnable: desired.consumeBroadcastEnable,
      retryMaxTimes: desired.retryMaxTimes,
    };
  }

  roleOutcome(desired: RoleItem): RoleItem {
    // detailedPerms are written with the grant but cannot be read back (so they are not compared).
    const r = roleBase(desired);
    if (desired.detailedPerms) r.detailedPerms = desired.detailedPerms;
    return r;
  }

  async createTopic(t: TopicItem): Promise<void> {
    const type = apiType(t.attributes?.['message.type'] ?? 'NORMAL', t.writeQueueNums);
    await this.call('CreateRocketMQTopic', () =>
      this.client.CreateRocketMQTopic({
        Topic: t.name,
        Namespaces: [TDMQ_NAMESPACE],
        Type: type,
        ClusterId: this.clusterId,
        // "Invalid for global order" (it has one partition).
        ...(type === 'GlobalOrder' ? {} : { PartitionNum: t.writeQueueNums }),
      }),
    );
  }

  async updateTopic(t: TopicItem): Promise<void> {
    await this.call('ModifyRocketMQTopic', () =>
      this.client.ModifyRocketMQTopic({
        ClusterId: this.clusterId,
        NamespaceId: TDMQ_NAMESPACE,
        Topic: t.name,
        Remark: this.topicRemarks.get(t.name) ?? '',
        ...(this.topicTypes.get(t.name) === 'GlobalOrder' ? {} : { PartitionNum: t.writeQueueNums }),
      }),
    );
  }

  async deleteTopic(name: string): Promise<void> {
    await this.call('DeleteRocketMQTopic', () =>
      this.client.DeleteRocketMQTopic({ ClusterId: this.clusterId, NamespaceId: TDMQ_NAMESPACE, Topic: name }),
    );
  }

  async createGroup(g: GroupItem): Promise<void> {
    await this.call('CreateRocketMQGroup', () =>
      this.client.CreateRocketMQGroup({
        GroupId: g.name,
        Namespaces: [TDMQ_NAMESPACE],
        ReadEnable: g.consumeEnable,
        BroadcastEnable: g.consumeBroadcastEnable,
        ClusterId: this.clusterId,
        RetryMaxTimes: g.retryMaxTimes,
      }),
    );
  }

  async updateGroup(g: GroupItem): Promise<void> {
    await this.call('ModifyRocketMQGroup', () =>
      this.client.ModifyRocketMQGroup({
        ClusterId: this.clusterId,
        NamespaceId: TDMQ_NAMESPACE,
        GroupId: g.name,
        ReadEnable: g.consumeEnable,
        BroadcastEnable: g.consumeBroadcastEnable,
        RetryMaxTimes: g.retryMaxTimes,
      }),
    );
  }

  async deleteGroup(name: string): Promise<void> {
    await this.call('DeleteRocketMQGroup', () =>
      this.client.DeleteRocketMQGroup({ ClusterId: this.clusterId, NamespaceId: TDMQ_NAMESPACE, GroupId: name }),
    );
  }

  async createRole(r: RoleItem, keys?: { accessKey: string; secretKey: string }): Promise<void> {
    await this.call('CreateRocketMQRole', () =>
      this.client.CreateRocketMQRole({
        RoleName: r.name,
        ClusterId: this.clusterId,
        Remark: r.remark,
        PermType: r.permType,
        ...(keys ? { RoleGenerateMode: 'MANUAL', AccessKey: keys.accessKey, SecretKey: keys.secretKey } : {}),
      }),
    );
    await this.writeGrant(r, false);
  }

  async updateRole(r: RoleItem): Promise<void> {
    await this.call('ModifyRocketMQRole', () =>
      this.client.ModifyRocketMQRole({ RoleName: r.name, ClusterId: this.clusterId, Remark: r.remark, PermType: r.permType }),
    );
    await this.writeGrant(r, this.grantedRoles.has(r.name));
  }

  async deleteRole(name: string): Promise<void> {
    if (this.grantedRoles.has(name)) await ignoreGone(this.deleteGrant(name));
    await this.call('DeleteRocketMQRoles', () => this.client.DeleteRocketMQRoles({ RoleNames: [name], ClusterId: this.clusterId }));
  }

  /** The role's grant on the namespace: created, modified or removed to match `r`. */
  private async writeGrant(r: RoleItem, granted: boolean): Promise<void> {
    const Permissions = [...(r.permWrite ? ['produce'] : []), ...(r.permRead ? ['consume'] : [])];
    const DetailedPerms = (r.detailedPerms ?? []).map(apiPerm);
    const wanted = Permissions.length > 0 || DetailedPerms.length > 0;
    const req = {
      EnvironmentId: TDMQ_NAMESPACE,
      RoleName: r.name,
      Permissions,
      ClusterId: this.clusterId,
      ...(DetailedPerms.length > 0 ? { DetailedPerms } : {}),
    };
    if (wanted && granted) await this.call('ModifyRocketMQEnvironmentRole', () => this.client.ModifyRocketMQEnvironmentRole(req));
    else if (wanted) await this.call('CreateRocketMQEnvironmentRole', () => this.client.CreateRocketMQEnvironmentRole(req));
    else if (granted) await this.deleteGrant(r.name);
    if (wanted) this.grantedRoles.add(r.name);
    else this.grantedRoles.delete(r.name);
  }

  private async deleteGrant(name: string): Promise<void> {
    await this.call('DeleteRocketMQEnvironmentRoles', () =>
      this.client.DeleteRocketMQEnvironmentRoles({ EnvironmentId: TDMQ_NAMESPACE, RoleNames: [name], ClusterId: this.clusterId }),
    );
  }
}

function apiPerm(p: RolePerm): DetailedRolePerm {
  return { Resource: p.resource, ResourceType: p.resourceType, PermRead: p.permRead, PermWrite: p.permWrite };
}

// ClusterAdmin over the remoting admin requests, for self-built clusters (4.x and 5.x).
//
// Topics and groups live per broker in RocketMQ, and a topic's queue counts are per broker too.
// Reading: every master of the cluster (found through the name server's cluster table) is read;
// an item is the union by name, with the largest per-broker queue counts and the other settings
// of the first broker (by name) that has it. Writing: the item goes to EVERY master of the cluster
// with those per-broker counts, so each target broker has at least as many queues as any source
// broker and the replicator's mapping (source queue q → target queue q mod count, per broker) never
// loses order. Two source brokers with 4 queues each therefore give 4 queues on each target broker,
// not 8 on one. A master added to the cluster later receives a topic the next time it changes.
//
// Access entries: ACL 2.0 users and ACLs (5.3+) and ACL 1.0 accounts (4.x … 5.3.2) are kept per
// broker as well; they are read from the first master and written to every master. ACL kinds are
// looked at only when the task connects with credentials (a cluster without ACL has none).
// ACL 1.0 accounts cannot be read from 4.9.8 / 5.2+ (the listing request is gone): the kind is then
// reported 'unsupported' with that reason instead of being guessed at.
import type { ClusterConnection } from '../clusters/connect.ts';
import type { RemotingAdmin } from '../rocketmq/remoting/admin.ts';
import type { GroupConfig, GroupConfigInput, PlainAccessConfig, TopicConfig } from '../rocketmq/remoting/admin-codec.ts';
import { brokerVersion } from '../rocketmq/remoting/broker-runtime.ts';
import { RemotingError, RemotingResponseError, ResponseCode, UnsupportedOperationError } from '../rocketmq/remoting/errors.ts';
import type { ClusterInfo } from '../rocketmq/remoting/namesrv.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { normalizePolicies } from './diff.ts';
import type { AclAccountItem, AclItem, AclUserItem, ClusterSnapshot, GroupItem, KindSnapshot, MetadataEntry, SyncKind, TopicItem } from './model.ts';
import type { SyncAction } from './plan.ts';

export interface RemotingClusterAdminOptions {
  /** The task connects with ACL credentials: look at ACL 2.0 users/ACLs or ACL 1.0 accounts. */
  aclEnabled: boolean;
}

type Connection = Pick<ClusterConnection, 'clusterId' | 'admin' | 'remoting' | 'close'> & {
  nameServers: Pick<ClusterConnection['nameServers'], 'clusterInfo'>;
};

interface Master {
  brokerName: string;
  address: string;
}

/** What the last readSnapshot saw, kept for writes that must send differences. */
interface ReadState {
  clusterName: string;
  masters: Master[];
  topicAttributes: boolean;
  topics: Map<string, Map<string, TopicConfig>>;
  groups: Map<string, Map<string, GroupConfig>>;
}

export class RemotingClusterAdmin implements ClusterAdmin {
  readonly clusterId: string;
  private state: ReadState | undefined;

  constructor(
    private readonly conn: Connection,
    private readonly opts: RemotingClusterAdminOptions,
  ) {
    this.clusterId = conn.clusterId;
  }

  private get admin(): RemotingAdmin {
    return this.conn.admin;
  }

  async readSnapshot(): Promise<ClusterSnapshot> {
    const info = await this.conn.nameServers.clusterInfo();
    const clusterName = pickCluster(info, this.clusterId);
    const masters = mastersOf(info, clusterName);
    if (masters.length === 0) throw new RemotingError(`cluster ${clusterName} (${this.clusterId}) has no master broker registered`);

    const perBroker = await Promise.all(
      masters.map(async (m) => ({
        master: m,
        version: await brokerVersion(this.conn.remoting, m.address),
        topics: await this.admin.getAllTopicConfigs(m.address),
        groups: await this.admin.getAllGroups(m.address),
      })),
    );
    // Attributes only mean something when every master can hold them.
    const topicAttributes = perBroker.every((b) => b.version.major >= 5);
    const state: ReadState = {
      clusterName,
      masters,
      topicAttributes,
      topics: new Map(perBroker.map((b) => [b.master.address, b.topics])),
      groups: new Map(perBroker.map((b) => [b.master.address, b.groups])),
    };

    const topics = new Map<string, TopicItem>();
    for (const b of perBroker) {
      for (const [name, t] of b.topics) {
        const seen = topics.get(name);
        if (seen) {
          seen.readQueueNums = Math.max(seen.readQueueNums, t.readQueueNums);
          seen.writeQueueNums = Math.max(seen.writeQueueNums, t.writeQueueNums);
        } else {
          topics.set(name, topicItem(t, topicAttributes));
        }
      }
    }
    const groups = new Map<string, MetadataEntry>();
    for (const b of perBroker) for (const [name, g] of b.groups) if (!groups.has(name)) groups.set(name, groupItem(g));

    const kinds: Partial<Record<SyncKind, KindSnapshot>> = {
      topic: { status: 'ok', items: new Map<string, MetadataEntry>(topics) },
      group: { status: 'ok', items: groups },
    };
    if (this.opts.aclEnabled) Object.assign(kinds, await this.readAccess(masters[0]!.address));
    this.state = state;
    return { clusterId: this.clusterId, reservedNames: [clusterName, ...masters.map((m) => m.brokerName)], kinds };
  }

  private async readAccess(address: string): Promise<Partial<Record<SyncKind, KindSnapshot>>> {
    try {
      const users = await this.admin.listUsers(address);
      const acls = await this.admin.listAcls(address);
      return {
        acl_user: { status: 'ok', items: new Map(users.map((u): [string, MetadataEntry] => [u.username, userItem(u)])) },
        acl: { status: 'ok', items: new Map(acls.map((a): [string, MetadataEntry] => [a.subject, { kind: 'acl', name: a.subject, policies: a.policies }])) },
      };
    } catch (err) {
      if (!(err instanceof UnsupportedOperationError)) throw err;
      // No ACL 2.0 here (before 5.3): the cluster uses ACL 1.0 accounts.
    }
    try {
      const acl = await this.admin.getAclAccounts(address);
      return { acl_account: { status: 'ok', items: new Map(acl.accounts.map((a): [string, MetadataEntry] => [a.accessKey, accountItem(a)])) } };
    } catch (err) {
      if (!(err instanceof UnsupportedOperationError)) throw err;
      return { acl_account: { status: 'unsupported', reason: `ACL 1.0 accounts cannot be read from this cluster: ${err.reason}` } };
    }
  }

  async apply(action: SyncAction): Promise<void> {
    const state = this.state;
    if (!state) throw new Error('RemotingClusterAdmin.apply before readSnapshot');
    try {
      await this.write(state, action);
    } catch (err) {
      if (err instanceof UnsupportedOperationError) throw new MetadataUnsupportedError(`${this.clusterId}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  private async write(state: ReadState, a: SyncAction): Promise<void> {
    const item = a.item;
    if (a.op !== 'delete' && (!item || item.kind !== a.kind)) throw new Error(`${a.op} ${a.kind} ${a.name} without a ${a.kind} item`);
    switch (a.kind) {
      case 'topic':
        if (a.op === 'delete') return this.admin.deleteTopic(state.clusterName, a.name);
        return this.writeTopic(state, item as TopicItem);
      case 'group':
        if (a.op === 'delete') return this.admin.deleteGroup(state.clusterName, a.name);
        return this.writeGroup(state, item as GroupItem);
      case 'acl_user':
        return this.onEveryMaster(state, (addr) => (a.op === 'delete' ? this.admin.deleteUser(addr, a.name) : this.writeUser(addr, item as AclUserItem)));
      case 'acl':
        return this.onEveryMaster(state, (addr) => (a.op === 'delete' ? this.deleteAcl(addr, a.name) : this.writeAcl(addr, item as AclItem)));
      case 'acl_account':
        return this.onEveryMaster(state, (addr) => (a.op === 'delete' ? this.deleteAccount(addr, a.name) : this.admin.createOrUpdateAclAccount(addr, accountConfig(item as AclAccountItem))));
    }
  }

  private async writeTopic(state: ReadState, t: TopicItem): Promise<void> {
    for (const { address } of state.masters) {
      const current = state.topics.get(address)?.get(t.name);
      // A 4.x origin says nothing about attributes: keep whatever this broker has.
      const attributes = state.topicAttributes ? (t.attributes ?? current?.attributes ?? {}) : {};
      await this.admin.createOrUpdateTopic(
        address,
        {
          topicName: t.name,
          readQueueNums: t.readQueueNums,
          writeQueueNums: t.writeQueueNums,
          perm: t.perm,
          order: t.order,
          topicFilterType: current?.topicFilterType,
          topicSysFlag: current?.topicSysFlag,
          attributes,
        },
        current ? { current } : {},
      );
    }
  }

  private async writeGroup(state: ReadState, g: GroupItem): Promise<void> {
    const { kind: _kind, name, ...settings } = g;
    for (const { address } of state.masters) {
      // Over the broker's own config, so fields the origin does not have (5.x-only ones from a
      // 4.x origin, or fields this module does not model) keep their values here.
      const current = state.groups.get(address)?.get(name);
      const cfg: GroupConfigInput = { ...(current ?? {}), ...definedOnly(settings), groupName: name };
      await this.admin.createOrUpdateGroup(address, cfg);
    }
  }

  private async writeUser(address: string, u: AclUserItem): Promise<void> {
    const user = { username: u.name, password: u.password, userType: u.userType, userStatus: u.userStatus };
    // Users are per broker: whether this one has it decides between create and update.
    if (await this.admin.getUser(address, u.name)) await this.admin.updateUser(address, user);
    else await this.admin.createUser(address, user);
  }

  private async writeAcl(address: string, acl: AclItem): Promise<void> {
    // The broker merges what it is sent into the subject's ACL (per policy type and resource), so
    // entries the desired ACL no longer has are removed one by one afterwards.
    await this.admin.createAcl(address, { subject: acl.name, policies: acl.policies });
    const now = await this.admin.getAcl(address, acl.name);
    const wanted = new Set(normalizePolicies(acl.policies).flatMap((p) => p.entries.map((e) => `${p.policyType}\u0000${e.resource}`)));
    for (const p of normalizePolicies(now?.policies ?? [])) {
      for (const e of p.entries) {
        if (!wanted.has(`${p.policyType}\u0000${e.resource}`)) await this.admin.deleteAcl(address, acl.name, { resource: e.resource, policyType: p.policyType });
      }
    }
  }

  private async deleteAcl(address: string, subject: string): Promise<void> {
    // Deleting a user takes its ACL with it, and asking for the ACL of a missing user is refused.
    if (subject.startsWith('User:') && !(await this.admin.getUser(address, subject.slice('User:'.length)))) return;
    if (await this.admin.getAcl(address, subject)) await this.admin.deleteAcl(address, subject);
  }

  private async deleteAccount(address: string, accessKey: string): Promise<void> {
    try {
      await this.admin.deleteAclAccount(address, accessKey);
    } catch (err) {
      // The broker's answer when the account is not there (any more): the goal is reached.
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.DELETE_ACL_CONFIG_FAILED) return;
      throw err;
    }
  }

  private async onEveryMaster(state: ReadState, write: (address: string) => Promise<void>): Promise<void> {
    for (const { address } of state.masters) await write(address);
  }

  close(): void {
    this.conn.close();
  }
}

/**
 * The brokerClusterName behind the task's clusterId: the cluster of that name, or the only cluster
 * the name server knows. Several clusters and none named like the task's id is an error, because
 * syncing the wrong one would be worse than syncing none.
 */
export function pickCluster(info: Pick<ClusterInfo, 'clusterAddrTable'>, clusterId: string): string {
  const names = Object.keys(info.clusterAddrTable).sort();
  if (names.includes(clusterId)) return clusterId;
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new RemotingError(`the name server knows no cluster (looking for ${clusterId})`);
  throw new RemotingError(`the name server serves several clusters (${names.join(', ')}) and none is named ${clusterId}; set the task's clusterId to the brokerClusterName`);
}

export function mastersOf(info: ClusterInfo, clusterName: string): Master[] {
  const out: Master[] = [];
  for (const brokerName of [...(info.clusterAddrTable[clusterName] ?? [])].sort()) {
    const address = info.brokerAddrTable[brokerName]?.brokerAddrs['0'];
    if (address) out.push({ brokerName, address });
  }
  return out;
}

function topicItem(t: TopicConfig, withAttributes: boolean): TopicItem {
  const item: TopicItem = { kind: 'topic', name: t.topicName, readQueueNums: t.readQueueNums, writeQueueNums: t.writeQueueNums, perm: t.perm, order: t.order };
  if (withAttributes) item.attributes = { ...t.attributes };
  return item;
}

function groupItem(g: GroupConfig): GroupItem {
  const item: GroupItem = {
    kind: 'group',
    name: g.groupName,
    consumeEnable: g.consumeEnable,
    consumeFromMinEnable: g.consumeFromMinEnable,
    consumeBroadcastEnable: g.consumeBroadcastEnable,
    retryQueueNums: g.retryQueueNums,
    retryMaxTimes: g.retryMaxTimes,
    brokerId: g.brokerId,
    whichBrokerWhenConsumeSlowly: g.whichBrokerWhenConsumeSlowly,
    notifyConsumerIdsChangedEnable: g.notifyConsumerIdsChangedEnable,
  };
  if (g.consumeMessageOrderly !== undefined) item.consumeMessageOrderly = g.consumeMessageOrderly;
  if (g.groupRetryPolicy !== undefined) item.groupRetryPolicy = g.groupRetryPolicy;
  if (g.consumeTimeoutMinute !== undefined) item.consumeTimeoutMinute = g.consumeTimeoutMinute;
  return item;
}

function userItem(u: { username: string; password?: string; userType?: 'Super' | 'Normal'; userStatus?: 'enable' | 'disable' }): AclUserItem {
  return { kind: 'acl_user', name: u.username, password: u.password ?? '', userType: u.userType ?? 'Normal', userStatus: u.userStatus ?? 'enable' };
}

function accountItem(a: PlainAccessConfig): AclAccountItem {
  const item: AclAccountItem = { kind: 'acl_account', name: a.accessKey, secretKey: a.secretKey, admin: a.admin, topicPerms: [...a.topicPerms], groupPerms: [...a.groupPerms] };
  if (a.whiteRemoteAddress) item.whiteRemoteAddress = a.whiteRemoteAddress;
  if (a.defaultTopicPerm) item.defaultTopicPerm = a.defaultTopicPerm;
  if (a.defaultGroupPerm) item.defaultGroupPerm = a.defaultGroupPerm;
  return item;
}

function accountConfig(a: AclAccountItem): PlainAccessConfig {
  const cfg: PlainAccessConfig = { accessKey: a.name, secretKey: a.secretKey, admin: a.admin, topicPerms: a.topicPerms, groupPerms: a.groupPerms };
  if (a.whiteRemoteAddress) cfg.whiteRemoteAddress = a.whiteRemoteAddress;
  if (a.defaultTopicPerm) cfg.defaultTopicPerm = a.defaultTopicPerm;
  if (a.defaultGroupPerm) cfg.defaultGroupPerm = a.defaultGroupPerm;
  return cfg;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

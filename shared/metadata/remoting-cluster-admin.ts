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
// reported 'unsupported' with that reason instead of being guessed at. 4.9.7 returns them whole,
// secret keys included; an account is written with every field stated, because the broker keeps
// whatever an update leaves out.
//
// Many writes (applyMany): topic and group creates/updates go to each 5.x master in list requests
// of up to BATCH items — every single-item request makes the broker rewrite its whole topic or
// group file, which makes thousands of them slow — and everything else runs a few at a time.
import pLimit from 'p-limit';
import type { ClusterConnection } from '../clusters/connect.ts';
import type { RemotingAdmin } from '../rocketmq/remoting/admin.ts';
import {
  topicAttributesModification,
  type GroupConfig,
  type GroupConfigInput,
  type TopicConfig,
  type TopicConfigInput,
} from '../rocketmq/remoting/admin-codec.ts';
import { brokerVersion } from '../rocketmq/remoting/broker-runtime.ts';
import { RemotingError, RemotingResponseError, ResponseCode, UnsupportedOperationError } from '../rocketmq/remoting/errors.ts';
import type { ClusterInfo } from '../rocketmq/remoting/namesrv.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { normalizePolicies, sameSettings } from './diff.ts';
import type {
  AclAccountItem,
  AclItem,
  AclUserItem,
  ClusterSnapshot,
  GroupItem,
  KindSnapshot,
  MetadataEntry,
  SyncKind,
  TopicItem,
} from './model.ts';
import { writeOrderConfig, writeOrderConfigs } from './order-topics.ts';
import type { SyncAction } from './plan.ts';
import { accountConfig, accountItem, definedOnly, groupItem, topicItem, userItem } from './remoting-items.ts';

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
  /** Major server version: list requests exist on 5.x only. */
  major: number;
}

/** Items per list request: one file rewrite on the broker per request, bodies of a few hundred KB. */
const BATCH = 1000;
/** Single writes in flight at once (the broker serialises admin writes; this overlaps round trips). */
const CONCURRENCY = 4;

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
      masters.map(async (m) => {
        const [version, topics, groups] = await Promise.all([
          brokerVersion(this.conn.remoting, m.address),
          this.admin.getAllTopicConfigs(m.address),
          this.admin.getAllGroups(m.address),
        ]);
        m.major = version.major;
        return { master: m, version, topics, groups };
      }),
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
        acl: {
          status: 'ok',
          items: new Map(acls.map((a): [string, MetadataEntry] => [a.subject, { kind: 'acl', name: a.subject, policies: a.policies }])),
        },
      };
    } catch (err) {
      if (!(err instanceof UnsupportedOperationError)) throw err;
      // No ACL 2.0 here (before 5.3): the cluster uses ACL 1.0 accounts.
    }
    try {
      const acl = await this.admin.getAclAccounts(address);
      // A copy without its secret key would lock its clients out of the target: none is made.
      const secretless = acl.accounts.filter((a) => !a.secretKey).length;
      if (secretless > 0) {
        return {
          acl_account: {
            status: 'unsupported',
            reason:
              `this cluster lists ACL 1.0 accounts without their secret keys (${secretless} of ${acl.accounts.length}), so ` +
              `they cannot be copied`,
          },
        };
      }
      return {
        acl_account: { status: 'ok', items: new Map(acl.accounts.map((a): [string, MetadataEntry] => [a.accessKey, accountItem(a)])) },
      };
    } catch (err) {
      if (!(err instanceof UnsupportedOperationError)) throw err;
      return { acl_account: { status: 'unsupported', reason: `ACL 1.0 accounts cannot be read from this cluster: ${err.reason}` } };
    }
  }

  async apply(action: SyncAction): Promise<void> {
    try {
      await this.write(this.readState(), action);
    } catch (err) {
      throw this.unsupported(err);
    }
  }

  /**
   * Topic and group creates/updates in list requests per master (5.x), the rest CONCURRENCY at a
   * time. An action fails if its write failed on any master; the others are unaffected.
   */
  async applyMany(actions: readonly SyncAction[]): Promise<(Error | undefined)[]> {
    const state = this.readState();
    const errors = new Array<Error | undefined>(actions.length).fill(undefined);
    const topics: Indexed<TopicItem>[] = [];
    const groups: Indexed<GroupItem>[] = [];
    const single: number[] = [];
    actions.forEach((a, i) => {
      if (a.op !== 'delete' && a.item?.kind === 'topic' && a.kind === 'topic') topics.push({ i, item: a.item });
      else if (a.op !== 'delete' && a.item?.kind === 'group' && a.kind === 'group') groups.push({ i, item: a.item });
      else single.push(i);
    });
    const fail = (i: number, err: unknown) => {
      errors[i] ??= this.unsupported(err);
    };
    await Promise.all([
      topics.length > 0
        ? this.upsertMany(state, topics, fail, this.topicWriter(state)).then(() =>
            writeOrderConfigs(this.admin, state, topics, errors, fail),
          )
        : undefined,
      groups.length > 0 ? this.upsertMany(state, groups, fail, this.groupWriter(state)) : undefined,
      pLimit(CONCURRENCY).map(single, async (i) => {
        try {
          await this.write(state, actions[i]!);
        } catch (err) {
          fail(i, err);
        }
      }),
    ]);
    return errors;
  }

  /** Per master, concurrently: items that differ there, in list requests where the broker has them, else one by one. */
  private async upsertMany<T extends TopicItem | GroupItem>(
    state: ReadState,
    items: Indexed<T>[],
    fail: (i: number, err: unknown) => void,
    w: Writer<T>,
  ): Promise<void> {
    await Promise.all(
      state.masters.map(async (m) => {
        const todo = items.filter(({ item }) => w.needed(m, item));
        const one = async ({ i, item }: Indexed<T>) => {
          try {
            await w.one(m, item);
          } catch (err) {
            fail(i, err); // remoting errors name the broker's address
          }
        };
        let batched: Indexed<T>[] = [];
        let rest = todo;
        if (m.major >= 5) {
          rest = [];
          for (let k = 0; k < todo.length; k += BATCH) {
            const chunk = todo.slice(k, k + BATCH);
            try {
              await w.many(
                m,
                chunk.map((c) => c.item),
              );
              batched = batched.concat(chunk);
            } catch (err) {
              // A refused list (one invalid item fails all) or an unknown outcome: one by one
              // tells which items are at fault; the writes are idempotent.
              if (err instanceof UnsupportedOperationError) {
                rest = rest.concat(todo.slice(k));
                break;
              }
              rest = rest.concat(chunk);
            }
          }
          if (batched.length > 0 && w.verify) {
            try {
              rest = rest.concat(await w.verify(m, batched));
            } catch (err) {
              // Unconfirmed: reported failed, so the next cycle sees these changes again.
              for (const { i } of batched) fail(i, err);
            }
          }
        }
        await pLimit(CONCURRENCY).map(rest, one);
      }),
    );
  }

  private topicWriter(state: ReadState): Writer<TopicItem> {
    const current = (m: Master, name: string) => state.topics.get(m.address)?.get(name);
    return {
      needed: (m, t) => {
        const c = current(m, t.name);
        return !c || !sameSettings(topicItem(c, state.topicAttributes), t);
      },
      one: (m, t) => {
        const c = current(m, t.name);
        return this.admin.createOrUpdateTopic(m.address, topicInput(state, t, c), c ? { current: c } : {});
      },
      many: (m, ts) =>
        this.admin.createOrUpdateTopicList(
          m.address,
          ts.map((t) => ({ cfg: topicInput(state, t, current(m, t.name)), current: current(m, t.name) })),
        ),
      // The broker answers SUCCESS without writing any topic of a list in which one is already as
      // asked (a concurrent write can make it so): read back, and write the missing ones singly.
      verify: async (m, written) => {
        const now = await this.admin.getAllTopicConfigs(m.address);
        return written.filter(({ item }) => {
          const t = now.get(item.name);
          if (
            !t ||
            t.readQueueNums !== item.readQueueNums ||
            t.writeQueueNums !== item.writeQueueNums ||
            t.perm !== item.perm ||
            t.order !== item.order
          )
            return true;
          return (
            state.topicAttributes && item.attributes !== undefined && topicAttributesModification(item.attributes, t.attributes) !== ''
          );
        });
      },
    };
  }

  private groupWriter(state: ReadState): Writer<GroupItem> {
    const current = (m: Master, name: string) => state.groups.get(m.address)?.get(name);
    return {
      needed: (m, g) => {
        const c = current(m, g.name);
        return !c || !sameSettings(groupItem(c), g);
      },
      one: (m, g) => this.admin.createOrUpdateGroup(m.address, groupInput(g, current(m, g.name))),
      many: (m, gs) =>
        this.admin.createOrUpdateGroupList(
          m.address,
          gs.map((g) => groupInput(g, current(m, g.name))),
        ),
    };
  }

  private readState(): ReadState {
    if (!this.state) throw new Error('RemotingClusterAdmin writes need a readSnapshot first');
    return this.state;
  }

  private unsupported(err: unknown): Error {
    if (err instanceof UnsupportedOperationError) return new MetadataUnsupportedError(`${this.clusterId}: ${err.message}`, { cause: err });
    return err instanceof Error ? err : new Error(String(err));
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
        return this.onEveryMaster(state, (addr) =>
          a.op === 'delete' ? this.admin.deleteUser(addr, a.name) : this.writeUser(addr, item as AclUserItem),
        );
      case 'acl':
        return this.onEveryMaster(state, (addr) =>
          a.op === 'delete' ? this.deleteAcl(addr, a.name) : this.writeAcl(addr, item as AclItem),
        );
      case 'acl_account':
        return this.onEveryMaster(state, (addr) =>
          a.op === 'delete'
            ? this.deleteAccount(addr, a.name)
            : this.admin.createOrUpdateAclAccount(addr, accountConfig(item as AclAccountItem), { replace: true }),
        );
      default:
        throw new MetadataUnsupportedError(`${this.clusterId}: ${(a as SyncAction).kind} items are not kept by RocketMQ brokers`);
    }
  }

  private async writeTopic(state: ReadState, t: TopicItem): Promise<void> {
    for (const { address } of state.masters) {
      const current = state.topics.get(address)?.get(t.name);
      await this.admin.createOrUpdateTopic(address, topicInput(state, t, current), current ? { current } : {});
    }
    await writeOrderConfig(this.admin, state, t);
  }

  private async writeGroup(state: ReadState, g: GroupItem): Promise<void> {
    for (const { address } of state.masters)
      await this.admin.createOrUpdateGroup(address, groupInput(g, state.groups.get(address)?.get(g.name)));
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
        if (!wanted.has(`${p.policyType}\u0000${e.resource}`))
          await this.admin.deleteAcl(address, acl.name, { resource: e.resource, policyType: p.policyType });
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
function pickCluster(info: Pick<ClusterInfo, 'clusterAddrTable'>, clusterId: string): string {
  const names = Object.keys(info.clusterAddrTable).sort();
  if (names.includes(clusterId)) return clusterId;
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new RemotingError(`the name server knows no cluster (looking for ${clusterId})`);
  throw new RemotingError(
    `the name server serves several clusters (${names.join(', ')}) and none is named ${clusterId}; set the task's clusterId to the ` +
      `brokerClusterName`,
  );
}

function mastersOf(info: ClusterInfo, clusterName: string): Master[] {
  const out: Master[] = [];
  for (const brokerName of [...(info.clusterAddrTable[clusterName] ?? [])].sort()) {
    const address = info.brokerAddrTable[brokerName]?.brokerAddrs['0'];
    if (address) out.push({ brokerName, address, major: 0 });
  }
  return out;
}

interface Indexed<T> {
  /** The action's position in applyMany's list. */
  i: number;
  item: T;
}

/** How one kind is written to one master: whether it needs a write there, singly, as a list, and a read-back check. */
interface Writer<T> {
  needed(m: Master, item: T): boolean;
  one(m: Master, item: T): Promise<void>;
  many(m: Master, items: T[]): Promise<void>;
  /** The written items that the broker does not hold as asked. */
  verify?(m: Master, written: Indexed<T>[]): Promise<Indexed<T>[]>;
}

function topicInput(state: ReadState, t: TopicItem, current: TopicConfig | undefined): TopicConfigInput {
  return {
    topicName: t.name,
    readQueueNums: t.readQueueNums,
    writeQueueNums: t.writeQueueNums,
    perm: t.perm,
    order: t.order,
    topicFilterType: current?.topicFilterType,
    topicSysFlag: current?.topicSysFlag,
    // A 4.x origin says nothing about attributes: keep whatever this broker has.
    attributes: state.topicAttributes ? (t.attributes ?? current?.attributes ?? {}) : {},
  };
}

/**
 * Over the broker's own config, so fields the origin does not have (5.x-only ones from a 4.x
 * origin, or fields this module does not model) keep their values here.
 */
function groupInput(g: GroupItem, current: GroupConfig | undefined): GroupConfigInput {
  const { kind: _kind, name, ...settings } = g;
  return { ...(current ?? {}), ...definedOnly(settings), groupName: name };
}

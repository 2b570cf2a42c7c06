// Metadata administration over remoting: topics, subscription groups, ACL 1.0 accounts (4.x …
// 5.3.2) and ACL 2.0 users/ACLs (5.3+). Request shapes follow the header/body classes of
// rocketmq-all-4.9.7 and rocketmq-all-5.3.3; see admin-codec.ts and acl-codec.ts for the wire (de)serialisation.
//
// What each server offers (checked in the sources, the 4.9.7/5.3.3 ones also against real brokers):
//   topic attributes        5.x only (`+k=v` in the create header); 4.x has none.
//   paged topic/group reads releases after 5.3.3 only; 4.x and 5.3.3 answer in one piece.
//   topic/group lists (18, 225) 5.x (5.3.3 checked): many items per request, one file rewrite.
//   ACL 1.0 write (50, 51)  4.x and 5.0 … 5.3.2; gone in 5.3.3.
//   ACL 1.0 read (54)       ≤ 4.9.7 and 5.0 … 5.1.x; removed in 4.9.8 and 5.2.0 → unsupported.
//   ACL 2.0 (3001 … 3010)   5.3.0+; per broker (each broker keeps its own users and ACLs).
import type { RemotingCommand } from './codec.ts';
import type { RemotingClient } from './client.ts';
import { RemotingError, RemotingResponseError, RemotingTimeoutError, ResponseCode, UnsupportedOperationError } from './errors.ts';
import type { NameServerClient } from './namesrv.ts';
import { RequestCode } from './request-codes.ts';
import {
  type AclConfigVersion,
  type AclInfo,
  type PlainAccessConfig,
  type PlainAclConfig,
  type PolicyType,
  type UserInfo,
  aclInfoBody,
  parseAclConfigVersion,
  parseAclInfo,
  parseAclInfoList,
  parsePlainAclConfig,
  parseUserInfo,
  parseUserInfoList,
  plainAccessHeader,
  userInfoBody,
} from './acl-codec.ts';
import {
  type GroupConfig,
  type GroupConfigInput,
  type TopicConfig,
  type TopicConfigInput,
  type TopicListEntry,
  groupConfigBody,
  groupListBody,
  parseGroupTable,
  parseTopicTable,
  topicHeader,
  topicListBody,
} from './admin-codec.ts';
import { parseDataVersionJson } from './admin-json.ts';

export type * from './acl-codec.ts';
export type * from './admin-codec.ts';
export { topicAttributesModification } from './admin-codec.ts';

export interface RemotingAdminOptions {
  /** Per-request timeout; admin writes on a loaded broker can take seconds. Default 10 s. */
  timeoutMs?: number;
  /**
   * Page size asked of brokers that page GET_ALL_TOPIC_CONFIG / GET_ALL_SUBSCRIPTIONGROUP_CONFIG
   * (releases after 5.3.3 with enableSplitMetadata). 5.3.3 and 4.x ignore it and answer in full.
   */
  pageSize?: number;
}

export interface CreateTopicOptions {
  /**
   * The topic as it currently is on this broker, when known. 5.x then receives only the attribute
   * changes (`+k=v` for new/changed, `-k` for removed): it refuses to "update" unchangeable
   * attributes such as queue.type even to the same value.
   */
  current?: TopicConfig;
}

export interface DeleteGroupOptions {
  /** Also drop the group's committed offsets (header removeOffset on 4.x, cleanOffset on 5.x). */
  cleanOffset?: boolean;
  /** Also delete %RETRY%group and %DLQ%group as mqadmin deleteSubGroup does. Default true. */
  deleteRetryAndDlqTopics?: boolean;
}

type Invoker = Pick<RemotingClient, 'invoke'>;
type NameServer = Pick<NameServerClient, 'addresses' | 'masterAddresses'>;

const TBW102 = 'TBW102';
/** NamesrvUtil.NAMESPACE_ORDER_TOPIC_CONFIG. */
const ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';
const DEFAULT_PAGE_SIZE = 2000;

export class RemotingAdmin {
  private readonly timeoutMs: number;
  private readonly pageSize: number;

  constructor(
    private readonly remoting: Invoker,
    private readonly nameServer: NameServer,
    opts: RemotingAdminOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** Master broker addresses of a cluster; an unknown or empty cluster is an error, not a no-op. */
  async masters(clusterName: string): Promise<string[]> {
    const masters = await this.nameServer.masterAddresses(clusterName);
    if (masters.length === 0) throw new RemotingError(`cluster ${clusterName} has no master broker registered`);
    return masters.map((m) => m.address);
  }

  // ---- topics ----

  async createOrUpdateTopic(brokerAddr: string, cfg: TopicConfigInput, opts: CreateTopicOptions = {}): Promise<void> {
    await this.call(brokerAddr, RequestCode.UPDATE_AND_CREATE_TOPIC, 'create/update topic', topicHeader(cfg, TBW102, opts.current));
  }

  /**
   * Several topics in one request (UPDATE_AND_CREATE_TOPIC_LIST, 5.x): the broker writes its topic
   * file once instead of once per topic. Leave out topics this broker already has exactly so: if
   * any one is unchanged the broker answers SUCCESS and writes none of them. 4.x has no such
   * request (UnsupportedOperationError).
   */
  async createOrUpdateTopicList(brokerAddr: string, entries: readonly TopicListEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.call(
      brokerAddr,
      RequestCode.UPDATE_AND_CREATE_TOPIC_LIST,
      'create/update topic list',
      {},
      topicListBody(entries),
      LIST_MISSING,
    );
  }

  /** Creates/updates the topic on every master of the cluster; returns their addresses. */
  async createOrUpdateTopicInCluster(clusterName: string, cfg: TopicConfigInput, opts: CreateTopicOptions = {}): Promise<string[]> {
    const masters = await this.masters(clusterName);
    for (const addr of masters) await this.createOrUpdateTopic(addr, cfg, opts);
    return masters;
  }

  /**
   * Every topic config of a broker (system topics included). Follows the paging protocol of
   * releases after 5.3.3 (topicSeq/maxTopicNum/dataVersion, totalTopicNum in the answer);
   * 4.x and 5.3.3 answer everything at once and send no totalTopicNum.
   */
  async getAllTopicConfigs(brokerAddr: string): Promise<Map<string, TopicConfig>> {
    return this.pagedTable(brokerAddr, RequestCode.GET_ALL_TOPIC_CONFIG, 'read topic configs', {
      seq: 'topicSeq',
      max: 'maxTopicNum',
      total: 'totalTopicNum',
      parse: parseTopicTable,
    });
  }

  /**
   * Deletes the topic from every master of the cluster, then from each name server's route
   * table. clusterName goes to the name server too (4.9.7 and 5.3.3 honour it), so only this
   * cluster's queues are dropped when several clusters share a name server.
   */
  async deleteTopic(clusterName: string, topic: string): Promise<void> {
    const masters = await this.masters(clusterName);
    for (const addr of masters) await this.call(addr, RequestCode.DELETE_TOPIC_IN_BROKER, 'delete topic in broker', { topic });
    await this.onEveryNameServer(RequestCode.DELETE_TOPIC_IN_NAMESRV, 'delete topic in name server', { topic, clusterName });
  }

  // ---- subscription groups ----

  async createOrUpdateGroup(brokerAddr: string, cfg: GroupConfigInput): Promise<void> {
    await this.call(brokerAddr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, 'create/update group', {}, groupConfigBody(cfg));
  }

  /** Several groups in one request (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST, 5.x), persisted once; 4.x has none. */
  async createOrUpdateGroupList(brokerAddr: string, cfgs: readonly GroupConfigInput[]): Promise<void> {
    if (cfgs.length === 0) return;
    await this.call(
      brokerAddr,
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST,
      'create/update group list',
      {},
      groupListBody(cfgs),
      LIST_MISSING,
    );
  }

  async createOrUpdateGroupInCluster(clusterName: string, cfg: GroupConfigInput): Promise<string[]> {
    const masters = await this.masters(clusterName);
    for (const addr of masters) await this.createOrUpdateGroup(addr, cfg);
    return masters;
  }

  /** Every subscription group of a broker (system groups included); paged like topics where supported. */
  async getAllGroups(brokerAddr: string): Promise<Map<string, GroupConfig>> {
    return this.pagedTable(brokerAddr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 'read subscription groups', {
      seq: 'groupSeq',
      max: 'maxGroupNum',
      total: 'totalGroupNum',
      parse: parseGroupTable,
    });
  }

  async deleteGroup(clusterName: string, group: string, opts: DeleteGroupOptions = {}): Promise<void> {
    const masters = await this.masters(clusterName);
    const clean = String(opts.cleanOffset ?? false);
    for (const addr of masters) {
      // 4.9.7 reads removeOffset, 5.3.3 cleanOffset; each ignores the other's field.
      await this.call(addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, 'delete group', {
        groupName: group,
        removeOffset: clean,
        cleanOffset: clean,
      });
    }
    if (opts.deleteRetryAndDlqTopics ?? true) {
      // Best effort like mqadmin: these topics usually do not exist, and deleting a missing topic succeeds anyway.
      for (const t of [`%RETRY%${group}`, `%DLQ%${group}`]) {
        try {
          await this.deleteTopic(clusterName, t);
        } catch {
          // the group itself is gone; a leftover retry/DLQ topic is harmless
        }
      }
    }
  }

  // ---- ACL 1.0 (plain_acl.yml accounts; 4.x up to 5.3.2) ----

  /**
   * Creates the account or updates it. An update keeps the fields the request leaves out; with
   * `replace` every field is stated, so the account ends up exactly as given (emptied lists and
   * white address included).
   */
  async createOrUpdateAclAccount(brokerAddr: string, account: PlainAccessConfig, opts: { replace?: boolean } = {}): Promise<void> {
    await this.call(
      brokerAddr,
      RequestCode.UPDATE_AND_CREATE_ACL_CONFIG,
      'ACL 1.0 account update',
      plainAccessHeader(account, opts),
      undefined,
      ACL1_REMOVED,
    );
  }

  async createOrUpdateAclAccountInCluster(clusterName: string, account: PlainAccessConfig): Promise<string[]> {
    const masters = await this.masters(clusterName);
    for (const addr of masters) await this.createOrUpdateAclAccount(addr, account);
    return masters;
  }

  /** Fails with DELETE_ACL_CONFIG_FAILED (210) when the account does not exist. */
  async deleteAclAccount(brokerAddr: string, accessKey: string): Promise<void> {
    await this.call(brokerAddr, RequestCode.DELETE_ACL_CONFIG, 'ACL 1.0 account delete', { accessKey }, undefined, ACL1_REMOVED);
  }

  async deleteAclAccountInCluster(clusterName: string, accessKey: string): Promise<string[]> {
    const masters = await this.masters(clusterName);
    for (const addr of masters) await this.deleteAclAccount(addr, accessKey);
    return masters;
  }

  /**
   * The ACL 1.0 accounts (secret keys included) and global white list, via
   * GET_BROKER_CLUSTER_ACL_CONFIG (54). Only 4.9.7 and older and 5.0–5.1.x serve it; 4.9.8, 5.2
   * and later answer REQUEST_CODE_NOT_SUPPORTED, surfaced as UnsupportedOperationError: accounts
   * cannot be read back from those servers at all.
   */
  async getAclAccounts(brokerAddr: string): Promise<PlainAclConfig> {
    const res = await this.call(
      brokerAddr,
      RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG,
      'ACL 1.0 account listing',
      {},
      undefined,
      'this server version cannot return ACL 1.0 accounts (GET_BROKER_CLUSTER_ACL_CONFIG exists only up to 4.9.7 and 5.1.x)',
    );
    return parsePlainAclConfig(bodyText(res));
  }

  /** ACL 1.0 file versions (GET_BROKER_CLUSTER_ACL_INFO): what 4.9.8 still offers for change detection. */
  async getAclConfigVersion(brokerAddr: string): Promise<AclConfigVersion> {
    const res = await this.call(brokerAddr, RequestCode.GET_BROKER_CLUSTER_ACL_INFO, 'ACL 1.0 version query', {}, undefined, ACL1_REMOVED);
    return parseAclConfigVersion(res.extFields ?? {});
  }

  // ---- ACL 2.0 users (5.3+) ----

  /** Creates a user; fails with NO_PERMISSION "The user is existed" when it exists. */
  async createUser(brokerAddr: string, user: UserInfo): Promise<void> {
    await this.call(
      brokerAddr,
      RequestCode.AUTH_CREATE_USER,
      'ACL 2.0 user create',
      { username: user.username },
      userInfoBody(user),
      ACL2_MISSING,
    );
  }

  /** Updates the fields given (a missing password/type/status is left as is); the user must exist. */
  async updateUser(brokerAddr: string, user: UserInfo): Promise<void> {
    await this.call(
      brokerAddr,
      RequestCode.AUTH_UPDATE_USER,
      'ACL 2.0 user update',
      { username: user.username },
      userInfoBody(user),
      ACL2_MISSING,
    );
  }

  /** Deletes the user and its ACL; deleting a missing user succeeds. */
  async deleteUser(brokerAddr: string, username: string): Promise<void> {
    await this.call(brokerAddr, RequestCode.AUTH_DELETE_USER, 'ACL 2.0 user delete', { username }, undefined, ACL2_MISSING);
  }

  /** The user, or undefined when there is none (the broker then answers without a body). */
  async getUser(brokerAddr: string, username: string): Promise<UserInfo | undefined> {
    const res = await this.call(brokerAddr, RequestCode.AUTH_GET_USER, 'ACL 2.0 user read', { username }, undefined, ACL2_MISSING);
    return res.body?.length ? parseUserInfo(bodyText(res)) : undefined;
  }

  /** All users (passwords in plain text), optionally those whose name contains `filter`. */
  async listUsers(brokerAddr: string, filter?: string): Promise<UserInfo[]> {
    const res = await this.call(
      brokerAddr,
      RequestCode.AUTH_LIST_USER,
      'ACL 2.0 user listing',
      filter ? { filter } : {},
      undefined,
      ACL2_MISSING,
    );
    return res.body?.length ? parseUserInfoList(bodyText(res)) : [];
  }

  // ---- ACL 2.0 ACLs (5.3+) ----

  /**
   * Creates the subject's ACL or merges these policies into the existing one (5.3.3 treats create
   * and update alike). The subject (e.g. a user) must exist.
   */
  async createAcl(brokerAddr: string, acl: AclInfo): Promise<void> {
    await this.call(
      brokerAddr,
      RequestCode.AUTH_CREATE_ACL,
      'ACL 2.0 acl create',
      { subject: acl.subject },
      aclInfoBody(acl),
      ACL2_MISSING,
    );
  }

  /**
   * Without a resource: deletes the subject's whole ACL. With one: removes that resource's entry
   * from the policy of `policyType` (server default Custom). The ACL must exist (NO_PERMISSION otherwise).
   */
  async deleteAcl(brokerAddr: string, subject: string, opts: { resource?: string; policyType?: PolicyType } = {}): Promise<void> {
    const header: Record<string, string> = { subject };
    if (opts.resource) header.resource = opts.resource;
    if (opts.policyType) header.policyType = opts.policyType;
    await this.call(brokerAddr, RequestCode.AUTH_DELETE_ACL, 'ACL 2.0 acl delete', header, undefined, ACL2_MISSING);
  }

  /** The subject's ACL, or undefined when it has none. A subject that does not exist is NO_PERMISSION. */
  async getAcl(brokerAddr: string, subject: string): Promise<AclInfo | undefined> {
    const res = await this.call(brokerAddr, RequestCode.AUTH_GET_ACL, 'ACL 2.0 acl read', { subject }, undefined, ACL2_MISSING);
    return res.body?.length ? parseAclInfo(bodyText(res)) : undefined;
  }

  /** All ACLs, optionally filtered by subject and/or resource (substring match on the server). */
  async listAcls(brokerAddr: string, filter: { subject?: string; resource?: string } = {}): Promise<AclInfo[]> {
    const header: Record<string, string> = {};
    if (filter.subject) header.subjectFilter = filter.subject;
    if (filter.resource) header.resourceFilter = filter.resource;
    const res = await this.call(brokerAddr, RequestCode.AUTH_LIST_ACL, 'ACL 2.0 acl listing', header, undefined, ACL2_MISSING);
    return res.body?.length ? parseAclInfoList(bodyText(res)) : [];
  }

  // ---- ordered topics (name servers) ----

  /**
   * Marks a topic ordered in every name server's ORDER_TOPIC_CONFIG (`brokerName:queues;…`), as
   * `mqadmin updateTopic -o true` does: 4.x brokers ignore the order flag of a create request and
   * take this table's at their next registration; 5.x brokers take it too.
   */
  async putOrderTopicConfig(topic: string, orderConf: string): Promise<void> {
    const fields = { namespace: ORDER_TOPIC_CONFIG, key: topic, value: orderConf };
    await this.onEveryNameServer(RequestCode.PUT_KV_CONFIG, 'put order topic config', fields);
  }

  async deleteOrderTopicConfig(topic: string): Promise<void> {
    await this.onEveryNameServer(RequestCode.DELETE_KV_CONFIG, 'delete order topic config', { namespace: ORDER_TOPIC_CONFIG, key: topic });
  }

  // ---- plumbing ----

  /**
   * One request; REQUEST_CODE_NOT_SUPPORTED becomes UnsupportedOperationError (a capability gap of
   * the server version), every other non-success code stays a RemotingResponseError.
   */
  private async call(
    address: string,
    code: number,
    operation: string,
    extFields: Record<string, string>,
    body?: Buffer,
    unsupportedReason = 'the server does not know this request code',
  ): Promise<RemotingCommand> {
    try {
      return await this.remoting.invoke(address, code, extFields, body, { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.REQUEST_CODE_NOT_SUPPORTED) {
        throw new UnsupportedOperationError(operation, address, unsupportedReason, { cause: err });
      }
      if (err instanceof RemotingTimeoutError && ACL1_READ_CODES.has(code)) {
        // 4.x brokers with aclEnable=false hit a null validator in these two handlers and never
        // answer (the write handlers do answer, with UPDATE_AND_CREATE/DELETE_ACL_CONFIG_FAILED).
        throw new UnsupportedOperationError(
          operation,
          address,
          'no answer: ACL 1.0 is probably not enabled on this broker (aclEnable=false)',
          { cause: err },
        );
      }
      throw err;
    }
  }

  private async onEveryNameServer(code: number, operation: string, extFields: Record<string, string>): Promise<void> {
    // Name servers do not replicate among themselves: each one must be told.
    const failures: unknown[] = [];
    for (const addr of this.nameServer.addresses) {
      try {
        await this.call(addr, code, operation, extFields);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length > 0) throw failures[0];
  }

  private async pagedTable<T>(
    brokerAddr: string,
    code: number,
    operation: string,
    names: { seq: string; max: string; total: string; parse: (text: string) => { table: Map<string, T>; dataVersion: unknown } },
  ): Promise<Map<string, T>> {
    let table = new Map<string, T>();
    let seq = 0;
    let version: string | undefined;
    for (let round = 0; ; round++) {
      if (round > 10_000) throw new RemotingError(`${operation}: paging from ${brokerAddr} does not end`);
      const header: Record<string, string> = { [names.seq]: String(seq), [names.max]: String(this.pageSize), dataVersion: version ?? '' };
      const res = await this.call(brokerAddr, code, operation, header);
      const page = names.parse(bodyText(res));
      const totalText = res.extFields?.[names.total];
      if (totalText === undefined) return page.table; // server without paging: this was everything
      const pageVersion = parseDataVersionJson(page.dataVersion);
      if (version !== undefined && pageVersion !== version) {
        // The table changed between pages: the server restarted from 0 for this request already
        // (it compares dataVersion); start over so no stale page survives.
        table = new Map();
        seq = 0;
        version = pageVersion;
        continue;
      }
      version = pageVersion;
      for (const [k, v] of page.table) table.set(k, v);
      seq += page.table.size;
      // Java's own client stops at total - 1 and can drop the last entry; stop at total, or on an empty page.
      if (seq >= Number(totalText) || page.table.size === 0) return table;
    }
  }
}

const ACL1_REMOVED = 'ACL 1.0 requests are gone from this server version (removed in 5.3.3; use ACL 2.0 users and ACLs)';
const ACL2_MISSING = 'ACL 2.0 user/ACL requests need RocketMQ 5.3.0 or later';
const LIST_MISSING = 'this server version has no batch create/update request (4.x; 5.x releases before it was added)';
const ACL1_READ_CODES = new Set<number>([RequestCode.GET_BROKER_CLUSTER_ACL_INFO, RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG]);

function bodyText(res: RemotingCommand): string {
  return res.body?.toString('utf8') ?? '';
}

// A fake of the Tencent Cloud API for TDMQ RocketMQ metadata, on 127.0.0.1 over plain HTTP: it
// checks each request's TC3-HMAC-SHA256 signature (tc3-signature.ts, from the public API 3.0 signing
// description), its X-TC-Action/Version/Region headers and required fields, keeps topics, groups
// and roles of its clusters in memory, and answers in the Cloud API's envelope with the shapes of
// the SDK's own model types. Every request is recorded so tests can assert what was sent.
//
// Clusters whose id starts with `rocketmq-` answer the tdmq 2020-02-17 RocketMQ actions (namespace
// tdmq_default), `rmq-` ones the trocket 2023-03-08 actions. A cluster's access points (what
// DescribeRocketMQCluster / DescribeInstance report) are whatever the test sets in `endpoints`.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyTc3 } from './tc3-signature.ts';
import type {
  CreateRocketMQRoleResponse,
  DeleteRocketMQRolesResponse,
  DescribeRocketMQClusterResponse,
  DescribeRocketMQEnvironmentRolesResponse,
  DescribeRocketMQGroupsResponse,
  DescribeRocketMQRolesResponse,
  DescribeRocketMQTopicsResponse,
  EnvironmentRole,
  Role,
  RocketMQGroup,
  RocketMQTopic,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_models.js';
import type {
  ConsumeGroupItem,
  CreateConsumerGroupResponse,
  CreateRoleResponse,
  CreateTopicResponse,
  DescribeConsumerGroupListResponse,
  DescribeInstanceResponse,
  DescribeRoleListResponse,
  DescribeTopicListResponse,
  RoleItem,
  TopicItem,
} from 'tencentcloud-sdk-nodejs/tencentcloud/services/trocket/v20230308/trocket_models.js';

export const TDMQ_API_VERSION = '2020-02-17';
export const TROCKET_API_VERSION = '2023-03-08';

export interface RecordedCall {
  action: string;
  version: string;
  region: string | undefined;
  /** The credential scope's service (the SDK takes it from the host's first label). */
  service: string;
  secretId: string;
  token: string | undefined;
  body: Record<string, unknown>;
  /** The Cloud API error code answered, if any. */
  error?: string;
}

class FakeTdmqCluster {
  readonly topics = new Map<string, RocketMQTopic>();
  readonly groups = new Map<string, RocketMQGroup>();
  readonly roles = new Map<string, Role>();
  /** Roles' grants on tdmq_default. */
  readonly grants = new Map<string, EnvironmentRole>();
  /** Access points (ClusterInfo.PublicEndPoint / VpcEndPoint); absent = none. */
  readonly endpoints: { public?: string; vpc?: string } = {};
  constructor(
    readonly id: string,
    readonly region: string,
  ) {}
}

class FakeTrocketCluster {
  readonly topics = new Map<string, TopicItem>();
  readonly groups = new Map<string, ConsumeGroupItem>();
  readonly roles = new Map<string, RoleItem>();
  /** Access points (EndpointList entries of Type PUBLIC / VPC); absent = none. */
  readonly endpoints: { public?: string; vpc?: string } = {};
  constructor(
    readonly id: string,
    readonly region: string,
  ) {}
}

type Body = Record<string, unknown>;
type Handler<C> = (c: C, b: Body) => Body;
/** An action's answer as the SDK's model type for it declares it (RequestId is added when sent). */
const answer = <T extends { RequestId?: string }>(r: Omit<T, 'RequestId'>): Body => r;

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class FakeTencentCloudApi {
  readonly calls: RecordedCall[] = [];
  private readonly clusters = new Map<string, FakeTdmqCluster | FakeTrocketCluster>();
  private readonly injected: { action: string; code: string; message: string }[] = [];
  private server: Server | undefined;
  url = '';

  /** `keys`: SecretId → SecretKey the fake accepts. */
  constructor(private readonly keys: Record<string, string>) {}

  addTdmqCluster(id: string, region: string): FakeTdmqCluster {
    const c = new FakeTdmqCluster(id, region);
    this.clusters.set(id, c);
    return c;
  }

  addTrocketCluster(id: string, region: string): FakeTrocketCluster {
    const c = new FakeTrocketCluster(id, region);
    this.clusters.set(id, c);
    return c;
  }

  /** The next call of `action` fails with this Cloud API error (queued; one per call). */
  failNext(action: string, code: string, message = `injected ${code}`): void {
    this.injected.push({ action, code, message });
  }

  actions(): string[] {
    return this.calls.map((c) => c.action);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = this.answer(req, Buffer.concat(chunks));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((ok) => this.server!.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  stop(): Promise<void> {
    return new Promise((ok) => (this.server ? this.server.close(() => ok()) : ok()));
  }

  private answer(req: IncomingMessage, raw: Buffer): { Response: Body } {
    const RequestId = randomUUID();
    const h = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const action = h('x-tc-action') ?? '';
    let call: RecordedCall | undefined;
    try {
      const auth = this.verifySignature(req, raw);
      let body: Body;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as Body;
      } catch {
        throw new ApiError('InvalidParameter', 'the request body is not JSON');
      }
      call = {
        action,
        version: h('x-tc-version') ?? '',
        region: h('x-tc-region'),
        service: auth.service,
        secretId: auth.secretId,
        token: h('x-tc-token'),
        body,
      };
      this.calls.push(call);
      const i = this.injected.findIndex((x) => x.action === action);
      if (i >= 0) {
        const [x] = this.injected.splice(i, 1);
        throw new ApiError(x!.code, x!.message);
      }
      return { Response: { ...this.dispatch(call), RequestId } };
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError('InternalError', String(err));
      if (call) call.error = e.code;
      else
        this.calls.push({
          action,
          version: h('x-tc-version') ?? '',
          region: h('x-tc-region'),
          service: '',
          secretId: '',
          token: undefined,
          body: {},
          error: e.code,
        });
      return { Response: { Error: { Code: e.code, Message: e.message }, RequestId } };
    }
  }

  /** TC3-HMAC-SHA256, checked from the request alone and the SecretKey of its SecretId (tc3-signature.ts). */
  private verifySignature(req: IncomingMessage, raw: Buffer): { secretId: string; service: string } {
    const r = verifyTc3(req, raw, this.keys);
    if (!r.ok) throw new ApiError(r.code, r.message);
    return { secretId: r.secretId, service: r.service };
  }

  private dispatch(call: RecordedCall): Body {
    const tdmq = TDMQ[call.action];
    const trocket = TROCKET[call.action];
    if (!tdmq && !trocket) throw new ApiError('InvalidAction', `action ${call.action} does not exist`);
    const version = tdmq ? TDMQ_API_VERSION : TROCKET_API_VERSION;
    if (call.version !== version) throw new ApiError('InvalidAction', `action ${call.action} does not exist in version ${call.version}`);
    if (!call.region) throw new ApiError('MissingParameter', 'X-TC-Region is required');
    const id = str(call.body, tdmq ? 'ClusterId' : 'InstanceId');
    const c = this.clusters.get(id);
    const found = c && c.region === call.region && (tdmq ? c instanceof FakeTdmqCluster : c instanceof FakeTrocketCluster);
    if (!found)
      throw new ApiError(tdmq ? 'ResourceNotFound.Cluster' : 'ResourceNotFound.Instance', `${id} does not exist in ${call.region}`);
    return tdmq ? tdmq(c as FakeTdmqCluster, call.body) : trocket!(c as FakeTrocketCluster, call.body);
  }
}

// ---- request fields ----

function field(b: Body, k: string, type: 'string' | 'number' | 'boolean' | 'object'): unknown {
  const v = b[k];
  if (v === undefined || v === null) throw new ApiError('MissingParameter', `the request is missing ${k}`);
  if (typeof v !== type) throw new ApiError('InvalidParameterValue', `${k} must be a ${type}`);
  return v;
}
const str = (b: Body, k: string) => field(b, k, 'string') as string;
const num = (b: Body, k: string) => field(b, k, 'number') as number;
const bool = (b: Body, k: string) => field(b, k, 'boolean') as boolean;
const strs = (b: Body, k: string): string[] => {
  const v = field(b, k, 'object');
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
    throw new ApiError('InvalidParameterValue', `${k} must be a list of strings`);
  return v as string[];
};
const opt = <T>(b: Body, k: string, read: (b: Body, k: string) => T): T | undefined =>
  b[k] === undefined || b[k] === null ? undefined : read(b, k);

function page<T>(b: Body, items: Map<string, T>, maxLimit: number, required: boolean): { TotalCount: number; list: T[] } {
  const offset = required ? num(b, 'Offset') : (opt(b, 'Offset', num) ?? 0);
  const limit = required ? num(b, 'Limit') : (opt(b, 'Limit', num) ?? 20);
  if (limit < 0 || limit > maxLimit) throw new ApiError('InvalidParameterValue.Limit', `Limit must be within [0, ${maxLimit}]`);
  return { TotalCount: items.size, list: [...items.values()].slice(offset, offset + limit) };
}

function must<T>(items: Map<string, T>, name: string, what: string): T {
  const x = items.get(name);
  if (!x) throw new ApiError(`ResourceNotFound.${what}`, `${what} ${name} does not exist`);
  return x;
}

function absent(items: Map<string, unknown>, name: string, what: string): void {
  if (items.has(name)) throw new ApiError(`ResourceInUse.${what}`, `${what} ${name} already exists`);
}

function oneOf(v: string, allowed: readonly string[], k: string): string {
  if (!allowed.includes(v)) throw new ApiError('InvalidParameterValue', `${k} must be one of ${allowed.join(', ')}`);
  return v;
}

function inRange(v: number, lo: number, hi: number, k: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new ApiError('InvalidParameterValue', `${k} must be within [${lo}, ${hi}]`);
  return v;
}

function namespace(b: Body, k: string): void {
  const ns = k === 'Namespaces' ? strs(b, k) : [str(b, k)];
  if (ns.length !== 1 || ns[0] !== 'tdmq_default')
    throw new ApiError('ResourceNotFound.Namespace', `4.x general clusters have only namespace tdmq_default, not ${ns.join(',')}`);
}

/** Role keys: given (MANUAL) or generated (AUTO, the default). */
function roleKeys(b: Body): { AccessKey: string; SecretKey: string } {
  const mode = opt(b, 'RoleGenerateMode', str) ?? 'AUTO';
  if (oneOf(mode, ['AUTO', 'MANUAL'], 'RoleGenerateMode') === 'MANUAL')
    return { AccessKey: str(b, 'AccessKey'), SecretKey: str(b, 'SecretKey') };
  return { AccessKey: `ak${randomBytes(8).toString('hex')}`, SecretKey: `sk${randomBytes(12).toString('hex')}` };
}

function permissions(b: Body): string[] {
  const p = strs(b, 'Permissions');
  for (const x of p) oneOf(x, ['produce', 'consume'], 'Permissions');
  if (p.length === 0 && !Array.isArray(b.DetailedPerms)) throw new ApiError('InvalidParameterValue', 'Permissions must not be empty');
  return p;
}

// ---- tdmq 2020-02-17 (4.x) ----

const TDMQ_TOPIC_TYPES = ['Normal', 'GlobalOrder', 'PartitionedOrder', 'Transaction', 'DelayScheduled'];

const TDMQ: Record<string, Handler<FakeTdmqCluster>> = {
  DescribeRocketMQCluster: (c) =>
    answer<DescribeRocketMQClusterResponse>({
      ClusterInfo: {
        ClusterId: c.id,
        ClusterName: c.id,
        Region: c.region,
        CreateTime: 0,
        PublicEndPoint: c.endpoints.public ?? '',
        VpcEndPoint: c.endpoints.vpc ?? '',
      },
    }),
  DescribeRocketMQTopics: (c, b) => {
    namespace(b, 'NamespaceId');
    const { TotalCount, list } = page(b, c.topics, 100, true);
    return answer<DescribeRocketMQTopicsResponse>({ TotalCount, Topics: list });
  },
  CreateRocketMQTopic: (c, b) => {
    const name = str(b, 'Topic');
    namespace(b, 'Namespaces');
    const type = oneOf(str(b, 'Type'), TDMQ_TOPIC_TYPES, 'Type');
    absent(c.topics, name, 'Topic');
    const partitions = type === 'GlobalOrder' ? 1 : inRange(opt(b, 'PartitionNum', num) ?? 3, 1, 64, 'PartitionNum');
    c.topics.set(name, {
      Name: name,
      Type: type,
      PartitionNum: partitions,
      Remark: opt(b, 'Remark', str) ?? '',
      Namespace: 'tdmq_default',
      CreateTime: Date.now(),
      UpdateTime: Date.now(),
    });
    return {};
  },
  ModifyRocketMQTopic: (c, b) => {
    namespace(b, 'NamespaceId');
    const t = must(c.topics, str(b, 'Topic'), 'Topic');
    t.Remark = str(b, 'Remark');
    const partitions = opt(b, 'PartitionNum', num);
    if (partitions !== undefined && t.Type !== 'GlobalOrder') {
      if (partitions < (t.PartitionNum ?? 0))
        throw new ApiError('InvalidParameterValue.PartitionNum', 'PartitionNum cannot be less than the current partition count');
      t.PartitionNum = inRange(partitions, 1, 64, 'PartitionNum');
    }
    t.UpdateTime = Date.now();
    return {};
  },
  DeleteRocketMQTopic: (c, b) => {
    namespace(b, 'NamespaceId');
    must(c.topics, str(b, 'Topic'), 'Topic');
    c.topics.delete(str(b, 'Topic'));
    return {};
  },
  DescribeRocketMQGroups: (c, b) => {
    namespace(b, 'NamespaceId');
    const { TotalCount, list } = page(b, c.groups, 100, true);
    return answer<DescribeRocketMQGroupsResponse>({ TotalCount, Groups: list });
  },
  CreateRocketMQGroup: (c, b) => {
    const name = str(b, 'GroupId');
    namespace(b, 'Namespaces');
    absent(c.groups, name, 'Group');
    c.groups.set(name, {
      Name: name,
      ReadEnabled: bool(b, 'ReadEnable'),
      BroadcastEnabled: bool(b, 'BroadcastEnable'),
      RetryMaxTimes: inRange(opt(b, 'RetryMaxTimes', num) ?? 16, 0, 1000, 'RetryMaxTimes'),
      Remark: opt(b, 'Remark', str) ?? '',
      GroupType: opt(b, 'GroupType', str) ?? 'TCP',
      Namespace: 'tdmq_default',
      CreateTime: Date.now(),
    });
    return {};
  },
  ModifyRocketMQGroup: (c, b) => {
    namespace(b, 'NamespaceId');
    const g = must(c.groups, str(b, 'GroupId'), 'Group');
    g.ReadEnabled = opt(b, 'ReadEnable', bool) ?? g.ReadEnabled;
    g.BroadcastEnabled = opt(b, 'BroadcastEnable', bool) ?? g.BroadcastEnabled;
    const retries = opt(b, 'RetryMaxTimes', num);
    if (retries !== undefined) g.RetryMaxTimes = inRange(retries, 0, 1000, 'RetryMaxTimes');
    g.Remark = opt(b, 'Remark', str) ?? g.Remark;
    return {};
  },
  DeleteRocketMQGroup: (c, b) => {
    namespace(b, 'NamespaceId');
    must(c.groups, str(b, 'GroupId'), 'Group');
    c.groups.delete(str(b, 'GroupId'));
    return {};
  },
  DescribeRocketMQRoles: (c, b) => {
    const { TotalCount, list } = page(b, c.roles, 20, true);
    return answer<DescribeRocketMQRolesResponse>({ TotalCount, RoleSets: list });
  },
  CreateRocketMQRole: (c, b) => {
    const name = str(b, 'RoleName');
    absent(c.roles, name, 'Role');
    const keys = roleKeys(b);
    const now = new Date().toISOString();
    c.roles.set(name, {
      RoleName: name,
      Token: keys.AccessKey,
      Remark: opt(b, 'Remark', str) ?? '',
      PermType: oneOf(opt(b, 'PermType', str) ?? 'Cluster', ['Cluster', 'TopicAndGroup'], 'PermType'),
      CreateTime: now,
      UpdateTime: now,
    });
    return answer<CreateRocketMQRoleResponse>({ RoleName: name, Token: keys.AccessKey, Remark: c.roles.get(name)!.Remark });
  },
  ModifyRocketMQRole: (c, b) => {
    const r = must(c.roles, str(b, 'RoleName'), 'Role');
    r.Remark = opt(b, 'Remark', str) ?? r.Remark;
    r.PermType = oneOf(opt(b, 'PermType', str) ?? r.PermType ?? 'Cluster', ['Cluster', 'TopicAndGroup'], 'PermType');
    return {};
  },
  DeleteRocketMQRoles: (c, b) => {
    const names = strs(b, 'RoleNames');
    for (const n of names) {
      must(c.roles, n, 'Role');
      if (c.grants.has(n)) throw new ApiError('ResourceInUse.Role', `role ${n} still has a namespace grant`);
    }
    for (const n of names) c.roles.delete(n);
    return answer<DeleteRocketMQRolesResponse>({ RoleNames: names });
  },
  DescribeRocketMQEnvironmentRoles: (c, b) => {
    namespace(b, 'EnvironmentId');
    const { TotalCount, list } = page(b, c.grants, 20, false);
    return answer<DescribeRocketMQEnvironmentRolesResponse>({ TotalCount, EnvironmentRoleSets: list });
  },
  CreateRocketMQEnvironmentRole: (c, b) => {
    namespace(b, 'EnvironmentId');
    const name = str(b, 'RoleName');
    must(c.roles, name, 'Role');
    absent(c.grants, name, 'EnvironmentRole');
    const now = new Date().toISOString();
    c.grants.set(name, { EnvironmentId: 'tdmq_default', RoleName: name, Permissions: permissions(b), CreateTime: now, UpdateTime: now });
    return {};
  },
  ModifyRocketMQEnvironmentRole: (c, b) => {
    namespace(b, 'EnvironmentId');
    const g = must(c.grants, str(b, 'RoleName'), 'EnvironmentRole');
    g.Permissions = permissions(b);
    g.UpdateTime = new Date().toISOString();
    return {};
  },
  DeleteRocketMQEnvironmentRoles: (c, b) => {
    namespace(b, 'EnvironmentId');
    const names = strs(b, 'RoleNames');
    for (const n of names) must(c.grants, n, 'EnvironmentRole');
    for (const n of names) c.grants.delete(n);
    return {};
  },
};

// ---- trocket 2023-03-08 (5.x) ----

const TROCKET: Record<string, Handler<FakeTrocketCluster>> = {
  DescribeInstance: (c) =>
    answer<DescribeInstanceResponse>({
      InstanceId: c.id,
      InstanceName: c.id,
      EndpointList: (['public', 'vpc'] as const).flatMap((k) =>
        c.endpoints[k] ? [{ Type: k.toUpperCase(), Status: 'OPEN', EndpointUrl: c.endpoints[k] }] : [],
      ),
    }),
  DescribeTopicList: (c, b) => {
    const { TotalCount, list } = page(b, c.topics, 100, false);
    return answer<DescribeTopicListResponse>({ TotalCount, Data: list });
  },
  CreateTopic: (c, b) => {
    const name = str(b, 'Topic');
    const type = oneOf(str(b, 'TopicType'), ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION', 'LITE'], 'TopicType');
    absent(c.topics, name, 'Topic');
    c.topics.set(name, {
      InstanceId: c.id,
      Topic: name,
      TopicType: type,
      QueueNum: inRange(opt(b, 'QueueNum', num) ?? 3, 3, 16, 'QueueNum'),
      Remark: opt(b, 'Remark', str) ?? '',
      MsgTTL: opt(b, 'MsgTTL', num) ?? 72,
    });
    return answer<CreateTopicResponse>({ InstanceId: c.id, Topic: name });
  },
  ModifyTopic: (c, b) => {
    const t = must(c.topics, str(b, 'Topic'), 'Topic');
    const queues = opt(b, 'QueueNum', num);
    if (queues !== undefined) {
      if (queues < (t.QueueNum ?? 0))
        throw new ApiError('InvalidParameterValue.QueueNum', 'QueueNum cannot be less than the current queue count');
      t.QueueNum = inRange(queues, 3, 16, 'QueueNum');
    }
    t.Remark = opt(b, 'Remark', str) ?? t.Remark;
    return {};
  },
  DeleteTopic: (c, b) => {
    must(c.topics, str(b, 'Topic'), 'Topic');
    c.topics.delete(str(b, 'Topic'));
    return {};
  },
  DescribeConsumerGroupList: (c, b) => {
    const { TotalCount, list } = page(b, c.groups, 100, false);
    return answer<DescribeConsumerGroupListResponse>({ TotalCount, Data: list });
  },
  CreateConsumerGroup: (c, b) => {
    const name = str(b, 'ConsumerGroup');
    absent(c.groups, name, 'Group');
    c.groups.set(name, {
      InstanceId: c.id,
      ConsumerGroup: name,
      MaxRetryTimes: inRange(num(b, 'MaxRetryTimes'), 0, 1000, 'MaxRetryTimes'),
      ConsumeEnable: bool(b, 'ConsumeEnable'),
      ConsumeMessageOrderly: bool(b, 'ConsumeMessageOrderly'),
      Remark: opt(b, 'Remark', str) ?? '',
      CreateTime: Date.now(),
    });
    return answer<CreateConsumerGroupResponse>({ InstanceId: c.id, ConsumerGroup: name });
  },
  ModifyConsumerGroup: (c, b) => {
    const g = must(c.groups, str(b, 'ConsumerGroup'), 'Group');
    g.ConsumeEnable = bool(b, 'ConsumeEnable');
    g.ConsumeMessageOrderly = bool(b, 'ConsumeMessageOrderly');
    const retries = opt(b, 'MaxRetryTimes', num);
    if (retries !== undefined) g.MaxRetryTimes = inRange(retries, 0, 1000, 'MaxRetryTimes');
    g.Remark = opt(b, 'Remark', str) ?? g.Remark;
    return {};
  },
  DeleteConsumerGroup: (c, b) => {
    must(c.groups, str(b, 'ConsumerGroup'), 'Group');
    c.groups.delete(str(b, 'ConsumerGroup'));
    return {};
  },
  DescribeRoleList: (c, b) => {
    const { TotalCount, list } = page(b, c.roles, 100, false);
    return answer<DescribeRoleListResponse>({ TotalCount, Data: list });
  },
  CreateRole: (c, b) => {
    const name = str(b, 'Role');
    absent(c.roles, name, 'Role');
    const keys = roleKeys(b);
    c.roles.set(name, {
      RoleName: name,
      PermWrite: bool(b, 'PermWrite'),
      PermRead: bool(b, 'PermRead'),
      Remark: str(b, 'Remark'),
      PermType: oneOf(opt(b, 'PermType', str) ?? 'Cluster', ['Cluster', 'TopicAndGroup'], 'PermType'),
      DetailedRolePerms: (b.DetailedPerms as RoleItem['DetailedRolePerms']) ?? [],
      ...keys,
      CreatedTime: Date.now(),
      ModifiedTime: Date.now(),
    });
    return answer<CreateRoleResponse>({ Role: name });
  },
  ModifyRole: (c, b) => {
    const r = must(c.roles, str(b, 'Role'), 'Role');
    r.PermRead = bool(b, 'PermRead');
    r.PermWrite = bool(b, 'PermWrite');
    r.PermType = oneOf(opt(b, 'PermType', str) ?? r.PermType ?? 'Cluster', ['Cluster', 'TopicAndGroup'], 'PermType');
    r.Remark = opt(b, 'Remark', str) ?? r.Remark;
    if (Array.isArray(b.DetailedPerms)) r.DetailedRolePerms = b.DetailedPerms as RoleItem['DetailedRolePerms'];
    r.ModifiedTime = Date.now();
    return {};
  },
  DeleteRole: (c, b) => {
    must(c.roles, str(b, 'Role'), 'Role');
    c.roles.delete(str(b, 'Role'));
    return {};
  },
};

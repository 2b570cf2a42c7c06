// ClusterAdmin over the Tencent Cloud API, for task endpoints of clusterType 'tencent'.
//
// Which API: the cluster id says it. TDMQ RocketMQ 4.x cluster ids start with `rocketmq-` and are
// administered through tdmq 2020-02-17 (namespace `tdmq_default`); 5.x instance ids start with
// `rmq-` and go through trocket 2023-03-08. Any other id is reported unsupported rather than guessed.
//
// Kinds: topics, groups and roles (ACL kinds do not apply: a Tencent cluster's access control is
// its roles). A Tencent item holds fewer settings than a broker config (no perm, one queue count,
// a type fixed at creation, queues that only grow): each write goes out as the nearest thing the
// cluster can hold, and whatever it could not hold is reported as unsupported, naming the fields.
import { endpointCloudApiKeys, endpointCredentials } from '../clusters/credentials.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import {
  allSettledOrThrow,
  callCloudApi,
  serviceEndpoint,
  TencentCloudApiError,
  tencentServiceFor,
  type CallContext,
  type Caller,
  type RetryOptions,
} from '../tencent-cloud/cloud-api.ts';
import type { TencentDeploymentEnv } from '../config.ts';
import { cloudApiKeys } from '../tencent-cloud/credentials.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { canonical, sameSettings } from './diff.ts';
import type { ClusterSnapshot, GroupItem, MetadataEntry, RoleItem, TopicItem } from './model.ts';
import type { SyncAction } from './plan.ts';
import type { TencentFlavour } from './tencent/flavour.ts';
import { TdmqClient, TdmqFlavour } from './tencent/tdmq.ts';
import { TrocketClient, TrocketFlavour } from './tencent/trocket.ts';

export { TencentCloudApiError, tencentServiceFor };

export interface TencentClusterAdminOptions {
  /** FERRY_TENCENT_API_ENDPOINT: a host or URL (`{service}` = tdmq/trocket) instead of `<service>.tencentcloudapi.com`. */
  apiEndpoint?: string | undefined;
  /** The deployment's keys (TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN); default: read from the environment at each use. */
  env?: TencentDeploymentEnv;
  retry?: RetryOptions;
}

type TencentEndpoint = Extract<StoredEndpoint, { clusterType: 'tencent' }>;

/** A Cloud API call that gets no answer within this is a failed cycle, not a stuck one. */
const REQUEST_TIMEOUT_S = 15;

export function openTencentClusterAdmin(
  endpoint: StoredEndpoint,
  cipher: SecretCipher,
  opts: TencentClusterAdminOptions = {},
): TencentClusterAdmin {
  if (endpoint.clusterType !== 'tencent') throw new Error(`cluster ${endpoint.clusterId} is not a Tencent Cloud cluster`);
  const service = tencentServiceFor(endpoint.clusterId);
  if (!service) {
    throw new MetadataUnsupportedError(
      `cluster ${endpoint.clusterId}: not a TDMQ RocketMQ cluster id (4.x ids start with "rocketmq-", 5.x ids with "rmq-"), so its ` +
        `Cloud API is unknown`,
    );
  }
  const ctx: CallContext = { clusterId: endpoint.clusterId, region: endpoint.region };
  const keys = cloudApiKeys(endpointCloudApiKeys(endpoint, cipher), opts.env);
  const clientConfig = {
    credential: keys ?? {},
    region: endpoint.region,
    profile: { httpProfile: { reqTimeout: REQUEST_TIMEOUT_S, ...serviceEndpoint(service, opts.apiEndpoint) } },
  };
  // Without keys every call fails with the same clear error before the SDK is asked.
  const call: Caller = (action, fn) =>
    keys ? callCloudApi(ctx, action, fn, opts.retry).catch(unsupportedAsMetadata) : Promise.reject(noKeys(ctx));
  const flavour =
    service === 'tdmq'
      ? new TdmqFlavour(new TdmqClient(clientConfig), endpoint.clusterId, call)
      : new TrocketFlavour(new TrocketClient(clientConfig), endpoint.clusterId, call);
  // The role Ferry's own clients sign with (the task's ACL keys for this cluster) is never synced.
  const ownAccessKey = endpointCredentials(endpoint, cipher)?.accessKey;
  return new TencentClusterAdmin(endpoint as TencentEndpoint, flavour, ownAccessKey);
}

/** UnsupportedOperation.*: the cluster cannot do this at all, which metadata sync reports as unsupported. */
function unsupportedAsMetadata(err: unknown): never {
  if (err instanceof TencentCloudApiError && err.failure === 'unsupported')
    throw new MetadataUnsupportedError(err.message, { cause: err.cause });
  throw err;
}

function noKeys(ctx: CallContext): TencentCloudApiError {
  return new TencentCloudApiError({
    failure: 'auth',
    action: 'credentials',
    clusterId: ctx.clusterId,
    message:
      `cluster ${ctx.clusterId} (${ctx.region}): no Tencent Cloud API keys (set cloudApi {secretId, secretKey} on the task's ` +
      `endpoint, or TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY for the deployment)`,
  });
}

export class TencentClusterAdmin implements ClusterAdmin {
  readonly clusterId: string;

  constructor(
    endpoint: Pick<TencentEndpoint, 'clusterId' | 'region'>,
    private readonly flavour: TencentFlavour,
    private readonly ownAccessKey?: string,
  ) {
    this.clusterId = endpoint.clusterId;
  }

  async readSnapshot(): Promise<ClusterSnapshot> {
    const [topics, groups, roles] = await allSettledOrThrow([
      this.flavour.readTopics(),
      this.flavour.readGroups(),
      this.flavour.readRoles(),
    ]);
    const byName = <T extends MetadataEntry>(xs: T[]) => new Map<string, MetadataEntry>(xs.map((x) => [x.name, x]));
    const snapshot: ClusterSnapshot = {
      clusterId: this.clusterId,
      // The Cloud API lists no broker- or cluster-named topics.
      reservedNames: [],
      kinds: {
        topic: { status: 'ok', items: byName(topics) },
        group: { status: 'ok', items: byName(groups) },
        role: { status: 'ok', items: byName(roles) },
      },
    };
    const own = this.ownAccessKey ? roles.filter((r) => r.accessKey === this.ownAccessKey).map((r) => r.name) : [];
    if (own.length > 0) snapshot.ownPrincipals = own;
    return snapshot;
  }

  async apply(a: SyncAction): Promise<void> {
    if (a.op === 'delete') return this.remove(a);
    const item = a.item;
    if (!item || item.kind !== a.kind) throw new Error(`${a.op} ${a.kind} ${a.name} without a ${a.kind} item`);
    const current = a.op === 'update' && a.current?.kind === a.kind ? a.current : undefined;
    let outcome: MetadataEntry;
    switch (item.kind) {
      case 'topic': {
        const t = this.flavour.topicOutcome(item, current as TopicItem | undefined);
        outcome = t;
        if (!current) await this.flavour.createTopic(t);
        else if (!sameSettings(t, current)) await this.flavour.updateTopic(t);
        break;
      }
      case 'group': {
        const g = this.flavour.groupOutcome(item, current as GroupItem | undefined);
        outcome = g;
        if (!current) await this.flavour.createGroup(g);
        else if (!sameSettings(g, current)) await this.flavour.updateGroup(g);
        break;
      }
      case 'role': {
        const r = this.flavour.roleOutcome(item, current as RoleItem | undefined);
        outcome = r;
        if (!current)
          await this.flavour.createRole(
            r,
            item.accessKey && item.secretKey ? { accessKey: item.accessKey, secretKey: item.secretKey } : undefined,
          );
        else if (!sameSettings(r, current)) await this.flavour.updateRole(r);
        break;
      }
      default:
        throw new MetadataUnsupportedError(
          `cluster ${this.clusterId}: ${item.kind} does not exist on Tencent Cloud clusters (their access control is roles)`,
        );
    }
    if (!sameSettings(outcome, item)) {
      throw new MetadataUnsupportedError(
        `cluster ${this.clusterId} (${this.flavour.label}): ${item.kind} ${item.name}: ${gaps(item, outcome)}`,
      );
    }
  }

  private async remove(a: SyncAction): Promise<void> {
    try {
      switch (a.kind) {
        case 'topic':
          return await this.flavour.deleteTopic(a.name);
        case 'group':
          return await this.flavour.deleteGroup(a.name);
        case 'role':
          return await this.flavour.deleteRole(a.name);
        default:
          throw new MetadataUnsupportedError(
            `cluster ${this.clusterId}: ${a.kind} does not exist on Tencent Cloud clusters (their access control is roles)`,
          );
      }
    } catch (err) {
      // Already gone: the goal is reached.
      if (err instanceof TencentCloudApiError && err.failure === 'gone') return;
      throw err;
    }
  }

  close(): void {
    // The SDK opens a connection per request; nothing stays open.
  }
}

/** "the Cloud API cannot set perm to 4 (it is 6); …" for the fields where `outcome` differs from `wanted`. */
function gaps(wanted: MetadataEntry, outcome: MetadataEntry): string {
  const w = wanted as unknown as Record<string, unknown>;
  const o = outcome as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(w)) {
    if (k === 'accessKey' || k === 'secretKey' || w[k] === undefined || o[k] === undefined) continue;
    if (canonical(w[k]) !== canonical(o[k])) out.push(`${k} ${canonical(w[k])} (it is ${canonical(o[k])})`);
  }
  return `the Cloud API cannot set ${out.length > 0 ? out.join(', ') : 'these settings'}`;
}

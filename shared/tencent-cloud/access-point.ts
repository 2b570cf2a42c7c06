// Where a Tencent Cloud cluster is reached on the data plane: the access point the Cloud API reports
// for it on the network asked for (4.x: tdmq DescribeRocketMQCluster, 5.x: trocket
// DescribeInstance). Once resolved, a Tencent cluster is connected exactly like a self-built one.
import { callCloudApi, serviceEndpoint, TencentCloudApiError, tencentServiceFor, type CallContext } from './cloud-api.ts';
import { cloudApiKeys, type CloudApiKeys } from './credentials.ts';
import { TdmqClient, TrocketClient } from './sdk-clients.ts';
import { tencentDeploymentEnv, type TencentDeploymentEnv } from '../config.ts';

export type TencentNetwork = 'public' | 'vpc';

/** The cluster whose access point is asked for (a task's Tencent endpoint is one). */
export interface TencentCluster {
  clusterId: string;
  region: string;
  networkType?: TencentNetwork | undefined;
}

export interface TencentAccess {
  /** The access point as a remoting name server list, `host:port;host:port`. */
  nameServer: string;
  /** The access point as the Cloud API gave it (a gRPC client's endpoint on 5.x). */
  endpoint: string;
  network: TencentNetwork;
}

/** The cluster exists but cannot be reached the way the endpoint asks (no such access point, bad address). */
export class TencentAccessError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TencentAccessError';
  }
}

export interface ResolveOptions {
  /** FERRY_TENCENT_API_ENDPOINT; read from the environment when not given (the replicator is handed only the endpoint). */
  apiEndpoint?: string | undefined;
  env?: TencentDeploymentEnv;
}

/** Access points change rarely (only when one is opened or closed), and every replicator invocation connects anew. */
const CACHE_TTL_MS = 5 * 60_000;
const REQUEST_TIMEOUT_S = 10;
const cache = new Map<string, { until: number; access: Promise<TencentAccess> }>();

/** Tencent clusters are reached over VPC unless the endpoint says public (the product's default). */
const tencentNetwork = (e: TencentCluster): TencentNetwork => e.networkType ?? 'vpc';

/**
 * The cluster's access point, cached. `ownKeys`: the cluster's own Cloud API keys, if any (else the
 * deployment's sign the lookup); asked for only when the Cloud API is.
 */
export function resolveAccessPoint(
  e: TencentCluster,
  ownKeys: () => CloudApiKeys | undefined,
  opts: ResolveOptions = {},
): Promise<TencentAccess> {
  const network = tencentNetwork(e);
  const key = `${e.region}/${e.clusterId}/${network}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.access;
  const access = lookUp(e, network, ownKeys, opts);
  cache.set(key, { until: Date.now() + CACHE_TTL_MS, access });
  // A failure is not remembered: the next attempt asks again (keys fixed, access point opened).
  access.catch(() => {
    if (cache.get(key)?.access === access) cache.delete(key);
  });
  return access;
}

async function lookUp(
  e: TencentCluster,
  network: TencentNetwork,
  ownKeys: () => CloudApiKeys | undefined,
  opts: ResolveOptions,
): Promise<TencentAccess> {
  const service = tencentServiceFor(e.clusterId);
  if (!service)
    throw new TencentAccessError(
      `cluster ${e.clusterId}: not a TDMQ RocketMQ cluster id (4.x ids start with "rocketmq-", 5.x ids with "rmq-")`,
    );
  const env = opts.env ?? tencentDeploymentEnv();
  const keys = cloudApiKeys(ownKeys(), env);
  if (!keys) {
    throw new TencentCloudApiError({
      failure: 'auth',
      action: 'credentials',
      clusterId: e.clusterId,
      message:
        `no Tencent Cloud API keys for cluster ${e.clusterId} (set cloudApi {secretId, secretKey} on the task's endpoint, or ` +
        `TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY for the deployment)`,
    });
  }
  const ctx: CallContext = { clusterId: e.clusterId, region: e.region };
  const config = {
    credential: keys,
    region: e.region,
    profile: {
      httpProfile: {
        reqTimeout: REQUEST_TIMEOUT_S,
        ...serviceEndpoint(service, opts.apiEndpoint ?? (env.FERRY_TENCENT_API_ENDPOINT || undefined)),
      },
    },
  };
  let url: string | undefined;
  if (service === 'tdmq') {
    const client = new TdmqClient(config);
    const r = await callCloudApi(ctx, 'DescribeRocketMQCluster', () => client.DescribeRocketMQCluster({ ClusterId: e.clusterId }));
    url = (network === 'public' ? r.ClusterInfo?.PublicEndPoint : r.ClusterInfo?.VpcEndPoint) || undefined;
  } else {
    const client = new TrocketClient(config);
    const r = await callCloudApi(ctx, 'DescribeInstance', () => client.DescribeInstance({ InstanceId: e.clusterId }));
    const wanted = network === 'public' ? 'PUBLIC' : 'VPC';
    url = r.EndpointList?.find((p) => p.Type === wanted && p.EndpointUrl && p.Status !== 'CLOSE')?.EndpointUrl;
  }
  if (!url) {
    const hint =
      network === 'public'
        ? 'open one in the TDMQ console, or replicate over "vpc"'
        : 'bind one in the TDMQ console, or replicate over "public"';
    throw new TencentAccessError(
      `Tencent cluster ${e.clusterId} (${e.region}) has no open ${network === 'public' ? 'public' : 'VPC'} access point: ${hint}`,
    );
  }
  return { nameServer: nameServerList(url, e.clusterId), endpoint: url, network };
}

/**
 * `http://host:8080`, `host:8080;host2:8080` or `host:8080,host2:8080` as `host:port;…`: 4.x access
 * points come as URLs (the HTTP-style name server address), 5.x ones as host:port.
 */
export function nameServerList(url: string, clusterId: string): string {
  const out = url
    .split(/[;,\s]+/)
    .filter((s) => s.length > 0)
    .map((s) => {
      const hostPort = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
      if (!/^[^:]+:\d+$/.test(hostPort) && !/^\[[0-9a-f:.]+\]:\d+$/i.test(hostPort)) {
        throw new TencentAccessError(`Tencent cluster ${clusterId}: the Cloud API's access point ${JSON.stringify(s)} is not host:port`);
      }
      return hostPort;
    });
  if (out.length === 0) throw new TencentAccessError(`Tencent cluster ${clusterId}: the Cloud API gave an empty access point`);
  return out.join(';');
}

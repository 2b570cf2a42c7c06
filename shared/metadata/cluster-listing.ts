// Reads what a task preview shows of a cluster: every topic with its readable queues, every
// consumer group, each marked when it is RocketMQ's or Ferry's own. Read the way the replicator
// and metadata sync read: a self-built cluster (and a Tencent one's topics, at its resolved access
// point) over remoting — one topic-config and group read per master broker, or topic by topic from
// the name servers where the brokers refuse that — and a Tencent cluster's groups through its
// Cloud API. Nothing is written.
import { connectEndpoint, type ClusterConnection } from '../clusters/connect.ts';
import { isSystemGroup, isSystemTopic } from '../filter/system-resources.ts';
import { RemotingError, RemotingResponseError, UnsupportedOperationError } from '../rocketmq/remoting/errors.ts';
import { PERM_READ, masterAddress } from '../rocketmq/remoting/namesrv.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { ClusterListing } from '../tasks/preview.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { TencentAccessError } from '../tencent-cloud/access-point.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { TencentCloudApiError, openTencentClusterAdmin } from './tencent-cluster-admin.ts';

export interface ClusterListingOptions {
  /** FERRY_TENCENT_API_ENDPOINT (see config.ts). */
  tencentApiEndpoint?: string | undefined;
  /** The Cloud API adapter for a Tencent endpoint's groups (tests hand in a fake). */
  openTencentAdmin?: (endpoint: StoredEndpoint, cipher: SecretCipher) => ClusterAdmin;
}

type Master = { brokerName: string; address: string };

export async function readClusterListing(
  endpoint: StoredEndpoint,
  cipher: SecretCipher,
  opts: ClusterListingOptions = {},
): Promise<ClusterListing> {
  const conn = connectEndpoint(endpoint, cipher, { requestTimeoutMs: 10_000, tencentApiEndpoint: opts.tencentApiEndpoint });
  try {
    const info = await conn.nameServers.clusterInfo();
    // Brokers create topics named after their cluster and themselves: those are the cluster's own.
    const own = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
    const masters = Object.values(info.brokerAddrTable).flatMap((b): Master[] => {
      const address = masterAddress(b);
      return address ? [{ brokerName: b.brokerName, address }] : [];
    });
    const [topics, groups] = await Promise.all([
      readTopics(conn, masters),
      endpoint.clusterType === 'tencent' ? tencentGroups(endpoint, cipher, opts) : brokerGroups(conn, masters),
    ]);
    return {
      topics: [...topics].map(([name, queues]) => ({ name, queues, system: isSystemTopic(name, own) })),
      groups: groups.names.map((name) => ({ name, system: isSystemGroup(name) })),
      ...(groups.error ? { groupsError: groups.error } : {}),
    };
  } finally {
    conn.close();
  }
}

/** Topic → readable queues over all brokers, as the replicator counts them (replication/queues.ts). */
async function readTopics(conn: ClusterConnection, masters: readonly Master[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const tables = await Promise.all(masters.map((m) => conn.admin.getAllTopicConfigs(m.address)));
    for (const table of tables) {
      for (const [topic, cfg] of table) out.set(topic, (out.get(topic) ?? 0) + ((cfg.perm & PERM_READ) === 0 ? 0 : cfg.readQueueNums));
    }
    return out;
  } catch (err) {
    if (!refused(err)) throw err;
  }
  for (const topic of await conn.nameServers.topicList()) {
    try {
      const route = await conn.nameServers.topicRoute(topic);
      out.set(
        topic,
        route.queueDatas.reduce((n, q) => n + ((q.perm & PERM_READ) === 0 ? 0 : q.readQueueNums), 0),
      );
    } catch {
      // Deleted between the list and the route query.
    }
  }
  return out;
}

async function brokerGroups(conn: ClusterConnection, masters: readonly Master[]): Promise<{ names: string[]; error?: string }> {
  try {
    const tables = await Promise.all(masters.map((m) => conn.admin.getAllGroups(m.address)));
    return { names: [...new Set(tables.flatMap((t) => [...t.keys()]))] };
  } catch (err) {
    if (!refused(err)) throw err;
    return { names: [], error: `the brokers refused to list consumer groups: ${(err as Error).message}` };
  }
}

async function tencentGroups(
  endpoint: StoredEndpoint,
  cipher: SecretCipher,
  opts: ClusterListingOptions,
): Promise<{ names: string[]; error?: string }> {
  let admin: ClusterAdmin | undefined;
  try {
    admin = (opts.openTencentAdmin ?? ((e, c) => openTencentClusterAdmin(e, c, { apiEndpoint: opts.tencentApiEndpoint })))(
      endpoint,
      cipher,
    );
    const groups = (await admin.readSnapshot()).kinds.group;
    if (groups?.status !== 'ok') return { names: [], error: groups ? groups.reason : 'the cluster has no consumer groups to list' };
    return { names: [...groups.items.keys()] };
  } catch (err) {
    // Groups are the lesser half of a preview: without Cloud API access the topics still show.
    return { names: [], error: `consumer groups could not be read through the Cloud API: ${(err as Error).message}` };
  } finally {
    admin?.close();
  }
}

/** The cluster cannot be read as the endpoint says (unreachable, refused, unknown, unsupported): not a bug. */
export function isClusterProblem(err: unknown): boolean {
  return (
    err instanceof RemotingError ||
    err instanceof TencentAccessError ||
    err instanceof TencentCloudApiError ||
    err instanceof MetadataUnsupportedError
  );
}

/** An account without the right, or a managed endpoint that does not serve the request. */
const refused = (err: unknown): boolean => err instanceof RemotingResponseError || err instanceof UnsupportedOperationError;

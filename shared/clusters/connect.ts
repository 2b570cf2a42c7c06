// Opens the remoting clients for one side of a task. Self-built clusters are reached at their
// name servers; Tencent clusters need their endpoints resolved through the Cloud API first.
import { FerryError } from '../errors.ts';
import { RemotingAdmin } from '../rocketmq/remoting/admin.ts';
import { BrokerClient } from '../rocketmq/remoting/broker.ts';
import { RemotingClient } from '../rocketmq/remoting/client.ts';
import { NameServerClient } from '../rocketmq/remoting/namesrv.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { resolveAccessPoint, type ResolveOptions, type TencentAccess } from '../tencent-cloud/access-point.ts';
import { endpointCloudApiKeys, endpointCredentials } from './credentials.ts';

/** What a connection asks of its name servers: a NameServerClient, or one resolved on first use. */
export type NameServers = Pick<NameServerClient, 'addresses' | 'invoke' | 'topicRoute' | 'clusterInfo' | 'topicList' | 'masterAddresses'>;

export interface ClusterConnection {
  /** The cluster's id as the task names it; it also marks the replication path. */
  clusterId: string;
  /** The name server list (for a Tencent cluster: empty until its access point is resolved). */
  readonly nameServer: string;
  remoting: RemotingClient;
  nameServers: NameServers;
  broker: BrokerClient;
  admin: RemotingAdmin;
  close(): void;
}

export interface ConnectOptions {
  requestTimeoutMs?: number;
  /** Consumer group used for pulls (must exist or be auto-created on the source). */
  consumerGroup?: string;
  /** Where a Tencent cluster's access point is asked for (default FERRY_TENCENT_API_ENDPOINT). */
  tencentApiEndpoint?: string | undefined;
}

/**
 * Synchronous for every cluster type: a Tencent cluster's access point is looked up through the
 * Cloud API (cached) when its name servers are first asked, so callers treat both types alike.
 */
export function connectEndpoint(endpoint: StoredEndpoint, cipher: SecretCipher, opts: ConnectOptions = {}): ClusterConnection {
  if (endpoint.protocol === 'grpc') {
    throw new FerryError(
      'INVALID_STATE',
      `cluster ${endpoint.clusterId} is reached over gRPC; this needs its remoting protocol (name server and broker access)`,
      'protocol',
    );
  }
  const credentials = endpointCredentials(endpoint, cipher);
  const remoting = new RemotingClient({ credentials, requestTimeoutMs: opts.requestTimeoutMs ?? 5000, connectTimeoutMs: 3000 });
  const nameServers: NameServers =
    endpoint.clusterType === 'tencent'
      ? new ResolvedOnUse(
          remoting,
          async () => (await resolveTencentAccess(endpoint, cipher, { apiEndpoint: opts.tencentApiEndpoint })).nameServer,
        )
      : new NameServerClient(remoting, endpoint.nameServer);
  return {
    clusterId: endpoint.clusterId,
    get nameServer() {
      return nameServers.addresses.join(';');
    },
    remoting,
    nameServers,
    broker: new BrokerClient(remoting, { consumerGroup: opts.consumerGroup ?? FERRY_CONSUMER_GROUP, producerGroup: FERRY_PRODUCER_GROUP }),
    // Tencent clusters' metadata goes through the Cloud API; this admin only ever serves self-built ones.
    admin: new RemotingAdmin(remoting, nameServers),
    close: () => remoting.close(),
  };
}

/** Where a task's Tencent endpoint is reached (cached); its own Cloud API keys are unsealed only when the Cloud API is asked. */
export function resolveTencentAccess(
  e: Extract<StoredEndpoint, { clusterType: 'tencent' }>,
  cipher: SecretCipher,
  opts: ResolveOptions = {},
): Promise<TencentAccess> {
  return resolveAccessPoint(e, () => endpointCloudApiKeys(e, cipher), opts);
}

/** A NameServerClient over an address list looked up on first use; a failed lookup is retried on the next query. */
class ResolvedOnUse implements NameServers {
  private client: Promise<NameServerClient> | undefined;
  private resolved: NameServerClient | undefined;

  constructor(
    private readonly remoting: RemotingClient,
    private readonly lookUp: () => Promise<string>,
  ) {}

  get addresses(): string[] {
    return this.resolved?.addresses ?? [];
  }

  private ready(): Promise<NameServerClient> {
    this.client ??= this.lookUp().then(
      (list) => (this.resolved = new NameServerClient(this.remoting, list)),
      (err: unknown) => {
        this.client = undefined;
        throw err;
      },
    );
    return this.client;
  }

  async invoke(...args: Parameters<NameServerClient['invoke']>) {
    return (await this.ready()).invoke(...args);
  }
  async topicRoute(topic: string) {
    return (await this.ready()).topicRoute(topic);
  }
  async clusterInfo() {
    return (await this.ready()).clusterInfo();
  }
  async topicList() {
    return (await this.ready()).topicList();
  }
  async masterAddresses(cluster?: string) {
    return (await this.ready()).masterAddresses(cluster);
  }
}

/** Ferry's own groups: never synchronised, never touched by metadata sync. */
const FERRY_CONSUMER_GROUP = 'FERRY_REPLICATOR';
const FERRY_PRODUCER_GROUP = 'FERRY_PRODUCER';

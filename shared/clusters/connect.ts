// Opens the remoting clients for one side of a task. Self-built clusters are reached at their
// name servers; Tencent clusters need their endpoints resolved through the Cloud API first.
import { FerryError } from '../errors.ts';
import { RemotingAdmin } from '../rocketmq/remoting/admin.ts';
import { BrokerClient } from '../rocketmq/remoting/broker.ts';
import { RemotingClient } from '../rocketmq/remoting/client.ts';
import { NameServerClient } from '../rocketmq/remoting/namesrv.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import { endpointCredentials, type StoredEndpoint } from '../tasks/model.ts';

export interface ClusterConnection {
  /** The cluster's id as the task names it; it also marks the replication path. */
  clusterId: string;
  nameServer: string;
  remoting: RemotingClient;
  nameServers: NameServerClient;
  broker: BrokerClient;
  admin: RemotingAdmin;
  close(): void;
}

export interface ConnectOptions {
  requestTimeoutMs?: number;
  /** Consumer group used for pulls (must exist or be auto-created on the source). */
  consumerGroup?: string;
}

export function connectEndpoint(endpoint: StoredEndpoint, cipher: SecretCipher, opts: ConnectOptions = {}): ClusterConnection {
  if (endpoint.clusterType !== 'self-built') {
    throw new FerryError('INVALID_STATE', `cluster ${endpoint.clusterId}: Tencent Cloud clusters need the Cloud API adapter to resolve their endpoints`, 'clusterType');
  }
  if (endpoint.protocol === 'grpc') {
    throw new FerryError('INVALID_STATE', `cluster ${endpoint.clusterId}: the gRPC protocol cannot pull by offset; replicate over remoting`, 'protocol');
  }
  const credentials = endpointCredentials(endpoint, cipher);
  const remoting = new RemotingClient({ credentials, requestTimeoutMs: opts.requestTimeoutMs ?? 5000, connectTimeoutMs: 3000 });
  const nameServers = new NameServerClient(remoting, endpoint.nameServer);
  return {
    clusterId: endpoint.clusterId,
    nameServer: endpoint.nameServer,
    remoting,
    nameServers,
    broker: new BrokerClient(remoting, { consumerGroup: opts.consumerGroup ?? FERRY_CONSUMER_GROUP, producerGroup: FERRY_PRODUCER_GROUP }),
    admin: new RemotingAdmin(remoting, nameServers),
    close: () => remoting.close(),
  };
}

/** Ferry's own groups: never synchronised, never touched by metadata sync. */
export const FERRY_CONSUMER_GROUP = 'FERRY_REPLICATOR';
export const FERRY_PRODUCER_GROUP = 'FERRY_PRODUCER';
export const isFerryGroup = (group: string): boolean => group.startsWith('FERRY_');

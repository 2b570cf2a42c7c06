// The shape of a running test-bed cluster, apart from the harness so readiness can take it too.
import type { AdminCredentials } from './config-files.ts';
import type { ServerVersion } from './versions.ts';

export interface BrokerInfo {
  name: string;
  address: string;
}

/** What a client needs to talk to the cluster; also the shape `npm run clusters` prints. */
export interface ClusterInfo {
  name: string;
  version: ServerVersion;
  nameServer: string;
  brokers: BrokerInfo[];
  /** 5.x only: the proxy's remoting and gRPC endpoints. */
  proxyRemoting?: string;
  grpcEndpoint?: string;
  acl?: AdminCredentials;
}

// Picks the ClusterAdmin adapter for a task endpoint. Self-built clusters are administered over
// remoting; Tencent Cloud clusters need the Cloud API adapter, which is not built yet — they are
// reported as unsupported rather than failing as if unreachable.
import { connectEndpoint } from '../clusters/connect.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { RemotingClusterAdmin } from './remoting-cluster-admin.ts';

export function openClusterAdmin(endpoint: StoredEndpoint, cipher: SecretCipher): ClusterAdmin {
  if (endpoint.clusterType === 'tencent') {
    throw new MetadataUnsupportedError(`cluster ${endpoint.clusterId}: metadata of Tencent Cloud clusters is synchronised through the Cloud API adapter, which this version does not have yet`);
  }
  // Admin requests take longer than data-plane ones on a busy broker.
  const conn = connectEndpoint(endpoint, cipher, { requestTimeoutMs: 10_000 });
  return new RemotingClusterAdmin(conn, { aclEnabled: endpoint.acl?.enabled === true });
}

// Picks the ClusterAdmin adapter for a task endpoint: self-built clusters are administered over
// remoting, Tencent Cloud clusters through the Cloud API.
import { connectEndpoint } from '../clusters/connect.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import type { ClusterAdmin } from './cluster-admin.ts';
import { RemotingClusterAdmin } from './remoting-cluster-admin.ts';
import { openTencentClusterAdmin } from './tencent-cluster-admin.ts';

export interface OpenClusterAdminOptions {
  /** FERRY_TENCENT_API_ENDPOINT (see config.ts). */
  tencentApiEndpoint?: string | undefined;
  /** False: leave a self-built cluster's ACL users/accounts unread (the task does not sync them). Default true. */
  readAccess?: boolean;
}

export function openClusterAdmin(endpoint: StoredEndpoint, cipher: SecretCipher, opts: OpenClusterAdminOptions = {}): ClusterAdmin {
  if (endpoint.clusterType === 'tencent') return openTencentClusterAdmin(endpoint, cipher, { apiEndpoint: opts.tencentApiEndpoint });
  // Admin requests take longer than data-plane ones on a busy broker.
  const conn = connectEndpoint(endpoint, cipher, { requestTimeoutMs: 10_000 });
  return new RemotingClusterAdmin(conn, { aclEnabled: endpoint.acl?.enabled === true && opts.readAccess !== false });
}

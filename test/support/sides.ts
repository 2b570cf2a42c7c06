// Shared helpers for end-to-end tests: clients for one test cluster, the task endpoint that
// points at it, and waiting on a task's status through the API.
import type { ClusterInfo } from '../testbed/cluster.ts';
import type { AdminCredentials } from '../testbed/config-files.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import type { client, HttpResult } from './runtime.ts';

export function side(c: ClusterInfo) {
  const remoting = new RemotingClient({ credentials: c.acl, requestTimeoutMs: 3000, connectTimeoutMs: 1000 });
  return {
    c,
    remoting,
    broker: new BrokerClient(remoting),
    admin: new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer)),
    addr: c.brokers[0]!.address,
  };
}
export type Side = ReturnType<typeof side>;

/** The task API's self-built endpoint for a test cluster (with its ACL credentials, or others). */
export const endpointOf = (c: ClusterInfo, acl: AdminCredentials | undefined = c.acl) => ({
  clusterType: 'self-built',
  clusterId: c.name,
  nameServer: c.nameServer,
  networkType: 'public',
  acl: acl ? { enabled: true, accessKey: acl.accessKey, secretKey: acl.secretKey } : { enabled: false },
});

export async function waitForStatus(api: ReturnType<typeof client>, id: string, status: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: HttpResult['body'];
  while (Date.now() < deadline) {
    last = (await api('GET', `/v1/tasks/${id}`)).body;
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`task ${id} did not reach ${status}: ${JSON.stringify(last)}`);
}

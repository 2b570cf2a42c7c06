// Shared helpers for end-to-end tests: clients for one test cluster, the task endpoint that
// points at it, waiting on a task's status through the API, and reading a topic until quiet.
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
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

/**
 * Every message of the topic's queues 0..queues-1 on one side, per queue in stored order: read
 * again and again until at least `expect` are there and nothing new arrived for `quietMs`, so a
 * late duplicate is seen rather than missed. At the timeout it returns what it has (the caller's
 * count assertion shows the shortfall).
 */
export async function readUntilQuiet(
  s: Side,
  topic: string,
  queues: number,
  opts: { expect: number; quietMs?: number; timeoutMs?: number },
): Promise<StoredMessage[][]> {
  const { expect, quietMs = 5000, timeoutMs = 120_000 } = opts;
  const got: StoredMessage[][] = Array.from({ length: queues }, () => []);
  const next = Array.from({ length: queues }, () => 0);
  const deadline = Date.now() + timeoutMs;
  let lastNew = Date.now();
  for (;;) {
    for (let q = 0; q < queues; q++) {
      for (;;) {
        const r = await s.broker.pull(s.addr, { topic, queueId: q, offset: next[q]!, maxMessages: 32 });
        if (r.messages.length === 0) break;
        got[q]!.push(...r.messages);
        next[q] = r.nextBeginOffset;
        lastNew = Date.now();
      }
    }
    const total = got.reduce((n, m) => n + m.length, 0);
    if ((total >= expect && Date.now() - lastNew >= quietMs) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 500));
  }
}

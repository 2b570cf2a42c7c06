// Shared clusters for integration tests. `npm test` (test/run.ts) starts them once and passes their
// addresses in FERRY_TESTBED; a test file run on its own starts what it needs and the JVMs die with it.
import { RocketMQCluster, type ClusterInfo, type ClusterOptions } from '../testbed/cluster.ts';

export const TESTBED_CLUSTERS = {
  v4: { version: '4.9.7' },
  v4acl: { version: '4.9.7', acl: true },
  v5: { version: '5.3.3' },
  v5acl: { version: '5.3.3', acl: true },
} satisfies Record<string, ClusterOptions>;

export type TestbedKey = keyof typeof TESTBED_CLUSTERS;

export const TESTBED_ENV = 'FERRY_TESTBED';

const started = new Map<TestbedKey, Promise<ClusterInfo>>();

export function testCluster(key: TestbedKey): Promise<ClusterInfo> {
  const shared = process.env[TESTBED_ENV];
  if (shared) {
    const info = (JSON.parse(shared) as Partial<Record<TestbedKey, ClusterInfo>>)[key];
    if (info) return Promise.resolve(info);
  }
  let p = started.get(key);
  if (!p) {
    p = RocketMQCluster.start({ ...TESTBED_CLUSTERS[key], name: `t-${key}` }).then((c) => c.info);
    started.set(key, p);
  }
  return p;
}

// `npx tsx test/testbed/testbed-cli.ts`: starts the four clusters `npm test` uses and prints the
// FERRY_TESTBED value (ONE JSON line) on stdout, then runs until Ctrl-C/SIGTERM. With that variable
// exported, `npm test -- <files>` and single test files reuse these clusters instead of starting
// their own: a faster loop while writing integration tests.
import { TESTBED_CLUSTERS, type TestbedKey } from '../support/testbed.ts';
import { RocketMQCluster, type ClusterInfo } from './cluster.ts';

const clusters: RocketMQCluster[] = [];
let stopping: Promise<void> | undefined;
const stopAll = () => (stopping ??= Promise.all(clusters.map((c) => c.stop())).then(() => undefined));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll().finally(() => process.exit(0)));

try {
  const infos: Partial<Record<TestbedKey, ClusterInfo>> = {};
  await Promise.all(
    (Object.keys(TESTBED_CLUSTERS) as TestbedKey[]).map(async (k) => {
      const c = await RocketMQCluster.start({ ...TESTBED_CLUSTERS[k], name: `t-${k}` });
      clusters.push(c);
      infos[k] = c.info;
    }),
  );
  process.stdout.write(`${JSON.stringify(infos)}\n`);
  // The JVMs are unref'd children: without this the process would exit here and take them down.
  setInterval(() => undefined, 1 << 30);
} catch (err) {
  console.error(err);
  await stopAll();
  process.exit(1);
}

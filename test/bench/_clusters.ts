// Two fresh 5.3.3 clusters for a benchmark, or neither: one that started is stopped again when the
// other did not (no JVM outlives a failed start).
import { RocketMQCluster } from '../testbed/cluster.ts';

export async function startPair(names: [string, string]): Promise<[RocketMQCluster, RocketMQCluster]> {
  const started = await Promise.allSettled(names.map((name) => RocketMQCluster.start({ version: '5.3.3', name, startTimeoutMs: 180_000 })));
  const up = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(up.map((c) => c.stop()));
    throw failed.reason;
  }
  return [up[0]!, up[1]!];
}

// Store hot paths the replicator leans on, on both adapters: fenced checkpoint writes (8 queues
// per write), lease acquire+release, and metrics bucket upserts.
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { throwawayDataDir, throwawayPostgres } from '../support/databases.ts';
import { plainTaskSpec } from '../support/task-spec.ts';
import type { Bench } from './run.ts';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function measure(store: Store, label: string, n: number) {
  await store.insertTask({ id: 'bench', tenant: 't', name: 'bench', spec: plainTaskSpec(), desiredState: 'running', status: 'running' });
  const lease = await store.acquireLease({ taskId: 'bench', flow: 'A>B', shard: 0, owner: 'bench', ttlMs: 60_000 });
  if (!lease) throw new Error('could not take the bench lease');
  const holder = { taskId: 'bench', flow: 'A>B', shard: 0, owner: 'bench', epoch: lease.epoch };

  let t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await store.saveCheckpoints(
      holder,
      Array.from({ length: 8 }, (_, q) => ({ topic: 'T', broker: 'b0', queueId: q, nextOffset: i * 10 + q })),
    );
  }
  const checkpointOps = n / ((performance.now() - t0) / 1000);

  const lat: number[] = [];
  for (let i = 0; i < n / 2; i++) {
    const s = performance.now();
    const l = await store.acquireLease({ taskId: 'bench', flow: 'A>B', shard: 1 + (i % 16), owner: `o${i}`, ttlMs: 60_000 });
    await store.releaseLease({ taskId: 'bench', flow: 'A>B', shard: 1 + (i % 16) }, `o${i}`, l!.epoch);
    lat.push(performance.now() - s);
  }
  lat.sort((a, b) => a - b);

  t0 = performance.now();
  for (let i = 0; i < n; i++)
    await store.addMetrics([{ taskId: 'bench', flow: 'A>B', minuteMs: 60_000 * (i % 30), consumed: 10, replicated: 10, lag: i }]);
  const metricsOps = n / ((performance.now() - t0) / 1000);

  console.log(
    `${label.padEnd(10)} checkpoint writes ${checkpointOps.toFixed(0).padStart(6)}/s   lease acquire+release p50 ` +
      `${percentile(lat, 0.5).toFixed(2)} ms p99 ${percentile(lat, 0.99).toFixed(2)} ms   metrics upserts ` +
      `${metricsOps.toFixed(0).padStart(6)}/s`,
  );
  return { checkpointOps, leaseP99: percentile(lat, 0.99), metricsOps };
}

const bench: Bench = async (args) => {
  const n = Number(args[0] ?? 2000);
  const dir = await throwawayDataDir();
  const embedded = await openStore({ dataDir: dir.value });
  const e = await measure(embedded, 'embedded', n);
  await embedded.close();
  await dir.drop();
  const db = await throwawayPostgres();
  const postgres = await openStore({ databaseUrl: db.value, dataDir: '' });
  const p = await measure(postgres, 'postgres', n);
  await postgres.close();
  await db.drop();
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    embeddedCheckpointOpsPerSec: r(e.checkpointOps),
    postgresCheckpointOpsPerSec: r(p.checkpointOps),
    embeddedLeaseP99Ms: r(e.leaseP99),
    postgresLeaseP99Ms: r(p.leaseP99),
    embeddedMetricsOpsPerSec: r(e.metricsOps),
    postgresMetricsOpsPerSec: r(p.metricsOps),
  };
};
export default bench;

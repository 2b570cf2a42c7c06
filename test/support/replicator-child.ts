// One replicator invocation in its own process (`node --import tsx replicator-child.ts '<job>'`),
// so a chaos test can SIGKILL it mid-batch. Hand-over is left to the test's reconciler.
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { runReplicator } from '../../shared/replication/replicator.ts';
import { coreDepsFromEnv } from '../../shared/runtime/deps.ts';

const job = JSON.parse(process.argv[2]!) as ReplicatorJob;
const deps = await coreDepsFromEnv();
const { exit } = await runReplicator(job, { ...deps, invoker: { invokeReplicator: async () => undefined } }, {
  bufferBytes: deps.config.replicatorBufferBytes,
  budgetMs: deps.config.replicatorBudgetMs,
  leaseTtlMs: deps.config.leaseTtlMs,
});
await deps.store.close();
process.stdout.write(`${exit}\n`);
process.exit(0);

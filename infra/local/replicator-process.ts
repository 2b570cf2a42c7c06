// One replicator invocation in its own process: `node [--import tsx] replicator-process.ts '<job>'`.
// Started by the process invoker (FERRY_INVOKER=process) and by tests that kill replicators; its
// successor is started by that parent, asked over the IPC channel.
import { parentInvoker } from '../../shared/invoker/child-process.ts';
import { ReplicatorJobSchema } from '../../shared/invoker/invoker.ts';
import { onDemandMetadataSync } from '../../shared/metadata/on-demand.ts';
import { emfWriter } from '../../shared/monitoring/emf.ts';
import { replicatorRecords } from '../../shared/monitoring/emf-records.ts';
import { runReplicator } from '../../shared/replication/replicator.ts';
import { coreDepsFromEnv } from '../../shared/runtime/deps.ts';

const job = ReplicatorJobSchema.parse(JSON.parse(process.argv[2] ?? 'null'));
const deps = await coreDepsFromEnv();
const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());
const report = await runReplicator(job, { ...deps, invoker: parentInvoker, requestMetadataSync: onDemandMetadataSync(deps) }, {
  bufferBytes: deps.config.replicatorBufferBytes,
  budgetMs: deps.config.replicatorBudgetMs,
  leaseTtlMs: deps.config.leaseTtlMs,
  signal: shutdown.signal,
});
await emfWriter(deps.config, deps.log).write(replicatorRecords(report));
await deps.store.close();
process.exit(0);

// Invoked asynchronously with one shard's job; replicates until its time budget is nearly spent.
import { createInvoker } from '../../shared/invoker/index.ts';
import { ReplicatorJobSchema } from '../../shared/invoker/invoker.ts';
import { onDemandMetadataSync } from '../../shared/metadata/on-demand.ts';
import { emfWriter } from '../../shared/monitoring/emf.ts';
import { replicatorRecords } from '../../shared/monitoring/emf-records.ts';
import { runReplicator, type ReplicatorExit } from '../../shared/replication/replicator.ts';
import { coreDepsFromEnv } from '../../shared/runtime/deps.ts';
import { remainingMs } from '../runtime-context.ts';

// Leaves room to flush metrics, release the lease and hand over before the platform's timeout.
const PLATFORM_MARGIN_MS = 5000;

export async function handler(event: unknown, context?: unknown): Promise<{ exit: ReplicatorExit }> {
  const job = ReplicatorJobSchema.parse(event);
  const deps = await coreDepsFromEnv();
  const budgetMs = Math.max(5000, remainingMs(context, deps.config.replicatorBudgetMs) - PLATFORM_MARGIN_MS);
  const report = await runReplicator(job, { ...deps, invoker: createInvoker(deps.config), requestMetadataSync: onDemandMetadataSync(deps) }, { bufferBytes: deps.config.replicatorBufferBytes, budgetMs, leaseTtlMs: deps.config.leaseTtlMs });
  await emfWriter(deps.config, deps.log).write(replicatorRecords(report));
  return { exit: report.exit };
}

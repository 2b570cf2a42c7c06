// Scheduled (every minute on AWS): desired vs actual for every task; dispatches replicators.
import { createInvoker } from '../../shared/invoker/index.ts';
import { syncTaskMetadata } from '../../shared/metadata/sync.ts';
import { emfWriter } from '../../shared/monitoring/emf.ts';
import { reconcilerRecords } from '../../shared/monitoring/emf-records.ts';
import { reconcile, type ReconcileSummary } from '../../shared/replication/reconciler.ts';
import { coreDepsFromEnv } from '../../shared/runtime/deps.ts';

export async function handler(): Promise<ReconcileSummary> {
  const deps = await coreDepsFromEnv();
  const started = Date.now();
  const summary = await reconcile({ ...deps, invoker: createInvoker(deps.config), syncMetadata: (t) => syncTaskMetadata(t, deps).then(() => undefined) }, { redispatchAfterMs: deps.config.leaseTtlMs });
  deps.log.info({ summary }, 'reconciler run');
  await emfWriter(deps.config, deps.log).write(reconcilerRecords(summary, Date.now() - started));
  return summary;
}

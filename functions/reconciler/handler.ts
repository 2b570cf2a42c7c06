// Scheduled (every minute on AWS): desired vs actual for every task; dispatches replicators.
import type { ReconcileSummary } from '../../shared/replication/reconciler.ts';
import { ferryFromEnv } from '../../shared/runtime/root.ts';

export async function handler(): Promise<ReconcileSummary> {
  const ferry = await ferryFromEnv();
  const summary = await ferry.reconcile();
  ferry.log.info({ summary }, 'reconciler run');
  return summary;
}

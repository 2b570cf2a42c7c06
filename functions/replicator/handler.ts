// Invoked asynchronously with one shard's job; replicates until its time budget is nearly spent.
import { ReplicatorJobSchema } from '../../shared/invoker/invoker.ts';
import type { ReplicatorExit } from '../../shared/replication/replicator.ts';
import { ferryFromEnv } from '../../shared/runtime/root.ts';
import { invocationDeadline, msUntil } from '../runtime-context.ts';

// Leaves room to flush metrics, release the lease and hand over before the platform's timeout.
const PLATFORM_MARGIN_MS = 5000;

export async function handler(event: unknown, context?: unknown): Promise<{ exit: ReplicatorExit }> {
  // Read before anything else: a cold start's store opening is part of the invocation's time.
  const started = Date.now();
  const platformDeadline = invocationDeadline(context, started);
  const job = ReplicatorJobSchema.parse(event);
  const ferry = await ferryFromEnv();
  const deadline = platformDeadline ?? started + ferry.config.replicatorBudgetMs;
  const budgetMs = Math.max(5000, msUntil(deadline) - PLATFORM_MARGIN_MS);
  const report = await ferry.replicate(job, { budgetMs });
  return { exit: report.exit };
}

// Scheduled (every minute on AWS; a timer in the local runtime): one metadata sync cycle for every
// task whose desired state is running (shared/metadata/run.ts decides which).
import type { MetadataSyncSummary } from '../../shared/metadata/run.ts';
import { ferryFromEnv } from '../../shared/runtime/root.ts';
import { invocationDeadline } from '../runtime-context.ts';

// No new task is started this close to the function's timeout: a cycle of a large cluster pair
// takes seconds, and a cycle cut off mid-way only costs a retry, but a clean stop costs nothing.
const STOP_MARGIN_MS = 30_000;

/** Lambda and SCF timer triggers both call `handler(event, context)`; the event is not needed. */
export async function handler(_event?: unknown, context?: unknown): Promise<MetadataSyncSummary> {
  const now = Date.now();
  const stopAt = (invocationDeadline(context, now) ?? now + 300_000) - STOP_MARGIN_MS;
  return (await ferryFromEnv()).syncMetadata({ stopAt });
}

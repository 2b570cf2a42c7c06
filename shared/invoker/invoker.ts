// Invoker port: starts a replicator invocation without waiting for it (Lambda/SCF "Event" calls,
// a child process, or in-process locally). The reconciler and chaining replicators are its callers.
import { z } from 'zod';
/** A replicator job, as it arrives from outside (an event payload, a command line): checked before it runs. */
export const ReplicatorJobSchema = z.object({
  tenant: z.string().min(1),
  taskId: z.string().min(1),
  flow: z.enum(['forward', 'reverse']),
  /** `copy` (default): copy one shard's queues. `retry-parked`: re-send parked messages whose retry was asked for. */
  kind: z.enum(['copy', 'retry-parked']).optional(),
  shard: z.number().int().min(0),
  /** The flow's shard count and plan generation the shard belongs to (none: one shard, generation 0). */
  shards: z.number().int().min(1).max(256).optional(),
  generation: z.number().int().min(0).optional(),
  /**
   * Started by the shard's current holder shortly before it stops: it gets ready and waits for the
   * lease instead of giving up at once, so the hand-over gap is the holder's final flush, not a start-up.
   */
  successor: z.boolean().optional(),
});

export type ReplicatorJob = z.infer<typeof ReplicatorJobSchema>;

export interface Invoker {
  invokeReplicator(job: ReplicatorJob): Promise<void>;
}

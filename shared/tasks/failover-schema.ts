// Failover's request body and the `failover` field of a task as the API shows it (api/contract.ts includes
// them). Only zod here, like contract.ts, so the console and the CLI can load it.
import { z } from 'zod';

/** POST /v1/tasks/{id}/failover. */
export const FailoverInput = z
  .object({
    mode: z.enum(['planned', 'unplanned'], { error: 'mode must be "planned" or "unplanned"' }),
    reverse: z.boolean({ error: 'reverse must be true or false' }).default(false),
  })
  .strict();
export type FailoverInput = z.infer<typeof FailoverInput>;

export const FailoverState = z.enum(['waiting-for-lag', 'translating', 'stopping', 'done', 'failed']);
export type FailoverState = z.infer<typeof FailoverState>;

/** Per source queue: messages on the source that may be missing on the target (unplanned failover). */
export const PossibleLossQueue = z.object({
  flow: z.string(),
  topic: z.string(),
  broker: z.string(),
  queueId: z.number(),
  /** The source queue's end once the replicators had stopped. */
  sourceEnd: z.number(),
  /** The replicators' checkpoint then: every message below it was stored on the target (or filtered out). */
  replicated: z.number(),
  missing: z.number(),
});

/**
 * The task's last failover (null: none yet). planned: waiting-for-lag → translating → stopping → done;
 * unplanned: stopping → translating → done; failed (reason says why) from any of them.
 */
export const FailoverView = z.object({
  mode: z.enum(['planned', 'unplanned']),
  reverse: z.boolean(),
  state: FailoverState,
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** Planned: messages between the checkpoints and the source ends snapshotted at the start (null until taken). */
  lagAtStart: z.number().nullable(),
  /** Planned: what is left of that snapshot now (0 once drained). */
  lag: z.number().nullable(),
  /** Unplanned: total and the queues with messages possibly missing on the target (null until known, or the source is unreadable). */
  possibleLoss: z.object({ total: z.number(), queues: z.array(PossibleLossQueue) }).nullable(),
  /** The last consumer-offset translation's counts (null: not run, or offset sync is off). */
  offsets: z.object({ synced: z.number(), skipped: z.number(), noMapping: z.number(), failed: z.number() }).nullable(),
  /** With reverse: the B→A task created for failback. */
  reverseTaskId: z.string().nullable(),
  /** Why it failed, or what was noted along the way. */
  reason: z.string().nullable(),
  /**
   * Delayed messages (delay levels, consumer retries, 5.x timers) pending on the source once the
   * replicators had stopped, sent to the target due at the same time; null until then.
   */
  delayed: z.object({ carried: z.number(), failed: z.number(), note: z.string().nullable() }).nullable(),
});
export type FailoverView = z.infer<typeof FailoverView>;

// Which shard copies which queue, and how many shards a flow gets. Shared by the reconciler (which
// sizes and dispatches) and the replicator (which takes the queues of its shard).
import { createHash } from 'node:crypto';
import type { ReplicatorJob } from '../invoker/invoker.ts';
import { queueKey, type SourceQueue } from './queues.ts';

/** Idle queues cost a held long poll each: one invocation keeps this many before a second shard is added. */
export const QUEUES_PER_SHARD = 2048;
/** Auto sizing never goes past this many shards per flow (a pinned `shards` may, up to 256). */
const MAX_AUTO_SHARDS = 64;
/** A backlog that the flow's measured rate would take longer than this to drain asks for more shards. */
const CATCH_UP_S = 60;
/** Caught up: the backlog would drain within this at the measured rate. */
const CAUGHT_UP_S = 5;
/** A flow keeps a new count at least this long before growing again / shrinking. */
const GROW_AFTER_MS = 30_000;
const SHRINK_AFTER_MS = 120_000;

/** Stable shard of a queue: under one shard count the same queue always belongs to the same shard. */
export function shardOf(q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>, shardCount: number): number {
  return createHash('sha1').update(queueKey(q)).digest().readUInt32BE(0) % shardCount;
}

export const isOwnQueue = (
  q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>,
  job: Pick<ReplicatorJob, 'shard' | 'shards'>,
): boolean => shardOf(q, job.shards ?? 1) === job.shard;

/** What the reconciler knows of a flow: queue count (from checkpoints) and what its live shards last reported. */
export interface FlowLoad {
  queues: number;
  /** Messages not yet replicated, summed over the live shards; null when none reported. */
  lag: number | null;
  /** Messages per second the live shards replicate, summed; null when none reported. */
  rate: number | null;
}

/**
 * The shard count for `shards: "auto"`: enough shards for the queue count, more while a backlog
 * would take longer than a minute to drain at the measured rate (at most doubling per step), and
 * back to the queue-count base once caught up. A change waits for the previous one to settle.
 */
export function autoShardCount(load: FlowLoad, current: number, sinceChangeMs: number, max = MAX_AUTO_SHARDS): number {
  const cap = Math.max(1, Math.min(max, load.queues));
  const base = Math.min(cap, Math.max(1, Math.ceil(load.queues / QUEUES_PER_SHARD)));
  let want = Math.max(current, base);
  if (load.lag !== null && load.rate !== null) {
    if (load.lag <= load.rate * CAUGHT_UP_S) want = base;
    else if (load.rate > 0 && load.lag > load.rate * CATCH_UP_S) {
      want = Math.max(current + 1, Math.min(current * 2, Math.ceil((current * load.lag) / (load.rate * CATCH_UP_S))));
    }
  }
  want = Math.min(cap, Math.max(base, want));
  if (want > current && want > base && sinceChangeMs < GROW_AFTER_MS) return current;
  if (want < current && sinceChangeMs < SHRINK_AFTER_MS) return current;
  return want;
}

/** The count a flow should run with: the task's pinned number, or auto sizing. */
export function shardCountFor(
  shards: 'auto' | number | undefined,
  load: FlowLoad,
  current: number | undefined,
  sinceChangeMs: number,
): number {
  if (typeof shards === 'number') return Math.min(256, Math.max(1, Math.min(shards, Math.max(1, load.queues))));
  return autoShardCount(load, current ?? 1, current === undefined ? Infinity : sinceChangeMs);
}

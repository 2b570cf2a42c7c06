// The lease ports: who holds which shard of a flow (with the flow's shard plan, whose generation
// every lease belongs to), and the checkpoints a holder writes fenced by its lease.
import type { OffsetPairEntry } from './offsets.ts';

/** A self-hosted runtime and the live leases its replicators hold. */
export interface RuntimeLoad {
  id: string;
  leases: number;
}

/** A flow is one replication direction of a task (e.g. A→B); shards split a flow's queues. */
export interface LeaseKey {
  taskId: string;
  flow: string;
  shard: number;
}

export interface LeaseRequest extends LeaseKey {
  owner: string;
  ttlMs: number;
  /** The flow's shard-plan generation the holder works for (0 when the flow has no plan). */
  generation?: number;
}

/** How a flow is split: `shardCount` shards of the layout numbered `generation`. */
export interface ShardPlan {
  taskId: string;
  flow: string;
  shardCount: number;
  generation: number;
  /** Database-clock milliseconds of the last change of count. */
  changedAtMs: number;
}

/** What a holder reports when it renews: its queues' backlog and its drain rate. */
export interface ShardStats {
  lag: number | null;
  /** Messages per second replicated recently. */
  rate: number | null;
}

/** Who must still hold a lease for a fenced write to be accepted. */
export interface LeaseHolder extends LeaseKey {
  owner: string;
  epoch: number;
}

export interface Lease extends LeaseKey, ShardStats {
  owner: string;
  epoch: number;
  generation: number;
  /** Database-clock milliseconds; the release time once released (free from then on). */
  expiresAtMs: number;
}

export interface CheckpointEntry {
  topic: string;
  broker: string;
  queueId: number;
  /** The next offset to pull from this source queue. */
  nextOffset: number;
  /** The writer stopped cleanly here: nothing past nextOffset was sent (no tail read on resume). */
  exact?: boolean;
  /** Start-offset capture only: the queue's end at that moment, the catch-up baseline (see CatchUpBaseline). */
  baselineEnd?: number;
}

/**
 * One flow's backlog when its start offsets were last fixed (first start or reset) and how far the
 * checkpoints are through it: messages that arrived later, or were read twice after a hand-over, do not count.
 */
export interface CatchUpBaseline {
  flow: string;
  /** When the start offsets were fixed (epoch ms). */
  sinceMs: number;
  queues: number;
  /** Messages between the start offsets and the queue ends at that moment. */
  backlog: number;
  /** Of those, how many the checkpoints have passed. */
  done: number;
}

export interface Checkpoint extends CheckpointEntry {
  taskId: string;
  flow: string;
  /** Lease epoch of the writer; 0 for unfenced writes (start-offset capture, reset-offset). */
  epoch: number;
  updatedAt: Date;
}

/** Leases and the shard plans they are granted under. */
export interface LeaseStore {
  /**
   * Takes the shard's lease if it is free, expired (by the database clock) or already held by
   * the same owner; null when another owner holds it unexpired, when `generation` is not the
   * flow's current plan generation (or the shard is outside the plan), or while a lease of
   * another generation of the flow is still live. Every successful acquisition —
   * re-acquisition by the same owner included — starts a new tenure with epoch + 1 (first ever:
   * 1), fencing out anything an earlier tenure still has in flight. Extend a tenure with
   * renewLease, which keeps the epoch.
   */
  acquireLease(request: LeaseRequest): Promise<{ epoch: number } | null>;
  /**
   * Extends the tenure by ttlMs from now and records the holder's stats; false when owner/epoch
   * no longer hold the lease or its generation is no longer the flow's plan.
   */
  renewLease(key: LeaseKey, owner: string, epoch: number, ttlMs: number, stats?: ShardStats): Promise<boolean>;
  /** Ends the tenure now: the lease expires at once (the row stays so epochs keep growing); false when not held. */
  releaseLease(key: LeaseKey, owner: string, epoch: number): Promise<boolean>;
  listLeases(taskId: string): Promise<Lease[]>;
  /**
   * Marks runtime `id` alive (database clock) and returns every runtime seen within `ttlMs`, each
   * with the live leases it holds (an owner starting with its id and '-'), sorted by id.
   */
  heartbeatRuntime(id: string, ttlMs: number): Promise<RuntimeLoad[]>;
  /** Leases of the task not yet released nor expired (by the database clock). */
  liveLeaseCount(taskId: string): Promise<number>;
  /**
   * Fences every tenure of the task's shards: each lease's epoch goes up by one and it expires now,
   * so nothing a holder still has in flight (a final checkpoint) is accepted any more. Used in the
   * transaction of whatever rewrites the checkpoints unfenced (reset-offset, start-offset capture).
   */
  fenceLeases(taskId: string): Promise<number>;

  getShardPlans(taskId: string): Promise<ShardPlan[]>;
  /** Sets a flow's shard count; a new count (or a first plan) starts a new generation. */
  setShardCount(taskId: string, flow: string, shardCount: number): Promise<ShardPlan>;
}

/** Where each source queue of a flow resumes. */
export interface CheckpointStore {
  /**
   * Fenced write: atomically checks that holder still owns the shard's lease at its epoch, under
   * the flow's current plan generation, and upserts all entries — and the offset pairs recorded since
   * the last write (see ports/offsets.ts) — otherwise throws STALE_EPOCH and writes nothing.
   */
  saveCheckpoints(holder: LeaseHolder, entries: readonly CheckpointEntry[], pairs?: readonly OffsetPairEntry[]): Promise<void>;
  getCheckpoints(taskId: string, flow: string): Promise<Checkpoint[]>;
  /** How many queues each flow of the task has a checkpoint for; flows without any are absent. */
  countCheckpoints(taskId: string): Promise<Record<string, number>>;
  /**
   * Unfenced upsert, for when no replicator runs (start-offset capture, reset-offset). Entries with a
   * baselineEnd also set the queue's catch-up baseline (from nextOffset to baselineEnd, now).
   */
  setCheckpoints(taskId: string, flow: string, entries: readonly CheckpointEntry[]): Promise<void>;
  /** Per flow with a baseline: the backlog at its start offsets and how much of it the checkpoints have passed. */
  catchUpBaselines(taskId: string): Promise<CatchUpBaseline[]>;
}

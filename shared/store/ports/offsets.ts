// The offset ports: offset pairs (where replicas of a source queue landed on the target, written by
// replicators beside their checkpoints) and the outcome of each consumer-offset translation.
//
// Invariants of offset pairs: a pair is a fact about the target (the message at sourceOffset was stored
// at targetOffset), so pairs are never wrong, only missing or sparse; a later pair of the same source
// offset (a resend after an unclean stop) replaces the earlier one, since the later copy is the one
// after which everything the source queue holds next follows. Pruning only removes rows: translation
// then takes an older pair and errs toward redelivery, never toward loss.

/** The source queue a pair or a translation belongs to (within a task's flow). */
export interface SourceQueueRef {
  topic: string;
  broker: string;
  queueId: number;
}

export interface OffsetPairEntry extends SourceQueueRef {
  sourceOffset: number;
  targetBroker: string;
  targetQueueId: number;
  targetOffset: number;
}

export interface OffsetPair extends OffsetPairEntry {
  taskId: string;
  flow: string;
  recordedAt: Date;
}

/** "The newest pair of this source queue at or below sourceOffset." */
export interface OffsetPairQuery extends SourceQueueRef {
  sourceOffset: number;
}

/** "The newest pair of this source queue stored in that target queue at or below targetOffset." */
export interface OffsetPairTargetQuery extends SourceQueueRef {
  targetBroker: string;
  targetQueueId: number;
  targetOffset: number;
}

export type OffsetSyncStatus = 'synced' | 'skipped-active-consumers' | 'no-mapping-yet' | 'failed';

export interface OffsetSyncOutcome extends SourceQueueRef {
  group: string;
  /** The group's committed offset on the source queue (the next message it would consume). */
  sourceOffset: number;
  targetBroker: string | null;
  targetQueueId: number | null;
  /** The group's offset on the target queue after this translation (null when none is known). */
  targetOffset: number | null;
  status: OffsetSyncStatus;
  error?: string | null;
}

export interface OffsetSyncItem extends Required<OffsetSyncOutcome> {
  taskId: string;
  flow: string;
  syncedAt: Date;
}

export interface OffsetPairStore {
  /** For each query (in order): the newest pair of its source queue with sourceOffset ≤ the query's, or null. */
  findOffsetPairs(taskId: string, flow: string, queries: readonly OffsetPairQuery[]): Promise<(OffsetPair | null)[]>;
  /** For each query (in order): the newest pair of its source queue in its target queue with targetOffset ≤ the query's, or null. */
  findOffsetPairsByTarget(taskId: string, flow: string, queries: readonly OffsetPairTargetQuery[]): Promise<(OffsetPair | null)[]>;
  /** The newest pair of every source queue of the flow that has one. */
  newestOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]>;
  /** The oldest pair of every source queue of the flow that has one (pruning keeps it). */
  oldestOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]>;
  /** Unfenced upsert of pairs, for a task no replicator runs yet (a failback task seeded with its origin's pairs, inverted). */
  seedOffsetPairs(taskId: string, flow: string, pairs: readonly OffsetPairEntry[]): Promise<void>;
  /** Every pair of the flow, by source queue and offset (tests and diagnostics; the table is kept small). */
  listOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]>;
  /**
   * Thins the flow's pairs: within `denseSpan` source offsets of each queue's newest pair every row stays;
   * farther back one row per bucket, buckets ~1/64 of the distance wide (powers of two). Returns rows removed.
   */
  pruneOffsetPairs(taskId: string, flow: string, denseSpan?: number): Promise<number>;
}

export interface OffsetSyncStore {
  /** Records each translation's latest outcome, keyed by (flow, group, topic, broker, queueId). */
  upsertOffsetSyncs(taskId: string, flow: string, items: readonly OffsetSyncOutcome[]): Promise<void>;
  /** By flow, group, topic, broker, queue. */
  listOffsetSyncs(taskId: string): Promise<OffsetSyncItem[]>;
}

// Invoker port: starts a replicator invocation without waiting for it (Lambda/SCF "Event" calls,
// or in-process locally). The reconciler and chaining replicators are its callers.
export interface ReplicatorJob {
  tenant: string;
  taskId: string;
  flow: 'forward' | 'reverse';
  /** `copy` (default): copy one shard's queues. `retry-parked`: re-send parked messages whose retry was asked for. */
  kind?: 'copy' | 'retry-parked';
  shard: number;
  /** The flow's shard count and plan generation the shard belongs to (none: one shard, generation 0). */
  shards?: number;
  generation?: number;
}

export interface Invoker {
  invokeReplicator(job: ReplicatorJob): Promise<void>;
}

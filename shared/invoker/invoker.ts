// Invoker port: starts a replicator invocation without waiting for it (Lambda/SCF "Event" calls,
// or in-process locally). The reconciler and chaining replicators are its callers.
export interface ReplicatorJob {
  tenant: string;
  taskId: string;
  flow: 'forward' | 'reverse';
  shard: number;
}

export interface Invoker {
  invokeReplicator(job: ReplicatorJob): Promise<void>;
}

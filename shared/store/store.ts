// The Store port: everything Ferry persists, behind one interface with one SQL implementation
// (sql-store.ts) that runs on PostgreSQL and on embedded PGlite alike.
//
// Conventions: rows are camelCase; timestamps are Dates; int8 columns are numbers (they fit in
// 2^53); JSON columns are `unknown` because the store does not own their shape — the module that
// writes a document validates it when reading it back. Writes that hang off a task (leases,
// checkpoints, metrics, parked messages, metadata) throw FerryError('NOT_FOUND') once the task is
// gone, so a straggling invocation cannot leave rows behind for a deleted task.

export type DesiredState = 'running' | 'stopped';
export type TaskStatus = 'initializing' | 'running' | 'stopped' | 'start_failed' | 'deleting';

export interface TaskRow {
  id: string;
  tenant: string;
  name: string;
  /** The full task definition as the tasks service stored it (secrets already encrypted). */
  spec: unknown;
  desiredState: DesiredState;
  status: TaskStatus;
  statusReason: string | null;
  /** Optimistic-concurrency token: 1 on insert, +1 on every update. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  startOffsetsCaptured: boolean;
}

export interface NewTask {
  id: string;
  tenant: string;
  name: string;
  spec: unknown;
  desiredState: DesiredState;
  status: TaskStatus;
  statusReason?: string | null;
  startOffsetsCaptured?: boolean;
  /** Defaults to the database clock; settable for imports and tests. */
  createdAt?: Date;
}

/** Fields an update may change; absent (undefined) fields are left as they are. */
export interface TaskPatch {
  name?: string;
  spec?: unknown;
  desiredState?: DesiredState;
  status?: TaskStatus;
  statusReason?: string | null;
  startOffsetsCaptured?: boolean;
}

export interface ListTasksQuery {
  status?: TaskStatus;
  /** Case-insensitive substring of the name (taken literally: `%` and `_` are not wildcards). */
  name?: string;
  /** 1..1000. */
  limit: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque; null when this is the last page. */
  nextCursor: string | null;
}

export interface AuditEvent {
  id: number;
  taskId: string;
  tenant: string;
  actor: string;
  action: string;
  at: Date;
  before: unknown;
  after: unknown;
}

export interface NewAuditEvent {
  taskId: string;
  tenant: string;
  actor: string;
  action: string;
  /** null/undefined when there is no prior (create) or later (delete) state. */
  before?: unknown;
  after?: unknown;
}

export interface ApiToken {
  /** Only the hash is stored; the caller hashes the presented token before lookup. */
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewApiToken {
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
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
}

export interface Checkpoint extends CheckpointEntry {
  taskId: string;
  flow: string;
  /** Lease epoch of the writer; 0 for unfenced writes (start-offset capture, reset-offset). */
  epoch: number;
  updatedAt: Date;
}

export interface MetricsCounters {
  consumed: number;
  replicated: number;
  filtered: number;
  loopSkipped: number;
  failed: number;
  throttled: number;
}

export interface MetricsGauges {
  lag: number | null;
  delayP50Ms: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
}

/** One shard's contribution to a minute bucket: counters are added, gauges overwrite if given. */
export interface MetricsDelta extends Partial<MetricsCounters>, Partial<MetricsGauges> {
  taskId: string;
  flow: string;
  /** Start of the minute, a multiple of 60 000. */
  minuteMs: number;
}

export interface MetricsRow extends MetricsCounters, MetricsGauges {
  taskId: string;
  flow: string;
  minuteMs: number;
}

export interface NewParkedMessage {
  taskId: string;
  flow: string;
  topic: string;
  broker: string;
  queueId: number;
  queueOffset: number;
  reason: string;
  /** The message as it would be sent again (serialization is the replicator's business). */
  payload: Uint8Array;
  properties: Record<string, string>;
  /** The message's flag and born time as the replica carries them. */
  flag?: number;
  bornTimestamp?: number | null;
}

export interface ParkedMessage extends Omit<NewParkedMessage, 'payload' | 'flag' | 'bornTimestamp'> {
  id: number;
  flag: number;
  bornTimestamp: number | null;
  /** Present only when asked for (listParked includePayload) and always in a retry batch. */
  payload?: Uint8Array;
  payloadSize: number;
  parkedAt: Date;
  /** Set by requestRetry; cleared when a replicator takes the message into a retry batch. */
  retryRequestedAt: Date | null;
  resolvedAt: Date | null;
}

export interface ListParkedQuery {
  limit: number;
  includePayload?: boolean;
  /** Resolved messages are hidden unless asked for. */
  includeResolved?: boolean;
}

export type ClusterSide = 'source' | 'target';

export interface MetadataSnapshot {
  taskId: string;
  side: ClusterSide;
  takenAt: Date;
  items: unknown;
}

/** acl_user/acl: ACL 2.0 users and ACLs (5.3+); acl_account: ACL 1.0 accounts; role: Tencent Cloud roles. */
export type MetadataKind = 'topic' | 'group' | 'acl_user' | 'acl' | 'acl_account' | 'role';
export type SyncDirection = 'source_to_target' | 'target_to_source';
export type MetadataAction = 'create' | 'update' | 'delete' | 'none';
export type MetadataItemStatus = 'synced' | 'failed' | 'unsupported';

export interface MetadataItemOutcome {
  kind: MetadataKind;
  name: string;
  direction: SyncDirection;
  action: MetadataAction;
  status: MetadataItemStatus;
  error?: string | null;
  /** Defaults to the database clock. */
  syncedAt?: Date;
}

export interface MetadataItem extends Required<MetadataItemOutcome> {
  taskId: string;
  error: string | null;
}

export interface Store {
  // ── tasks ─────────────────────────────────────────────────────────────────
  insertTask(task: NewTask): Promise<TaskRow>;
  /** null when absent or owned by another tenant. */
  getTask(tenant: string, id: string): Promise<TaskRow | null>;
  /** Newest first, keyset-paginated by (createdAt, id). */
  listTasks(tenant: string, query: ListTasksQuery): Promise<Page<TaskRow>>;
  /** Every task of every tenant, oldest first (for the reconciler). */
  listAllTasks(): Promise<TaskRow[]>;
  /** Throws NOT_FOUND when absent, CONFLICT when the stored version is not expectedVersion. */
  updateTask(tenant: string, id: string, expectedVersion: number, patch: TaskPatch): Promise<TaskRow>;
  /** Removes the task and everything hanging off it (audit events stay). false when absent. */
  deleteTask(tenant: string, id: string): Promise<boolean>;

  // ── audit ─────────────────────────────────────────────────────────────────
  appendAudit(event: NewAuditEvent): Promise<AuditEvent>;
  /** Newest first. */
  listAudit(tenant: string, taskId: string, query: { limit: number }): Promise<AuditEvent[]>;

  // ── tokens ────────────────────────────────────────────────────────────────
  insertToken(token: NewApiToken): Promise<ApiToken>;
  /** Only tokens that are not revoked. */
  findToken(tokenHash: string): Promise<ApiToken | null>;
  /** true when a live token was revoked by this call. */
  revokeToken(tokenHash: string): Promise<boolean>;
  /** Every token ever issued, revoked ones included (first-start bootstrap). */
  countTokens(): Promise<number>;

  // ── leases ────────────────────────────────────────────────────────────────
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

  // ── shard plans ───────────────────────────────────────────────────────────
  getShardPlans(taskId: string): Promise<ShardPlan[]>;
  /** Sets a flow's shard count; a new count (or a first plan) starts a new generation. */
  setShardCount(taskId: string, flow: string, shardCount: number): Promise<ShardPlan>;

  // ── checkpoints ───────────────────────────────────────────────────────────
  /**
   * Fenced write: atomically checks that holder still owns the shard's lease at its epoch, under
   * the flow's current plan generation, and upserts all entries; otherwise throws STALE_EPOCH and
   * writes nothing.
   */
  saveCheckpoints(holder: LeaseHolder, entries: readonly CheckpointEntry[]): Promise<void>;
  getCheckpoints(taskId: string, flow: string): Promise<Checkpoint[]>;
  /** How many queues each flow of the task has a checkpoint for; flows without any are absent. */
  countCheckpoints(taskId: string): Promise<Record<string, number>>;
  /** Unfenced upsert, for when no replicator runs (start-offset capture, reset-offset). */
  setCheckpoints(taskId: string, flow: string, entries: readonly CheckpointEntry[]): Promise<void>;

  // ── metrics ───────────────────────────────────────────────────────────────
  /** Adds counters into each minute bucket; a gauge given (not null) replaces the stored one. */
  addMetrics(rows: readonly MetricsDelta[]): Promise<void>;
  /** Buckets with fromMs <= minuteMs < toMs, by minute then flow. */
  queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]>;

  // ── parked messages ───────────────────────────────────────────────────────
  /** Returns the new message's id. */
  parkMessage(message: NewParkedMessage): Promise<number>;
  /** Oldest first. */
  listParked(taskId: string, query: ListParkedQuery): Promise<ParkedMessage[]>;
  /** Marks every unresolved message of the task for retry; returns how many. */
  requestRetry(taskId: string): Promise<number>;
  /**
   * Claims up to limit retry-requested, unresolved messages of the flow (oldest first, payload
   * included) and clears their request, so two replicators never take the same message. The
   * taker resolves what it re-sent; what it could not stays parked until the next request.
   */
  takeRetryBatch(taskId: string, flow: string, limit: number): Promise<ParkedMessage[]>;
  /** Returns how many were newly resolved. */
  resolveParked(ids: readonly number[]): Promise<number>;
  /** Flows of the task holding parked messages whose retry was requested and not yet taken. */
  retryRequestedFlows(taskId: string): Promise<string[]>;
  /** Unresolved messages of the task by flow; flows without any are absent. */
  countParked(taskId: string): Promise<Record<string, number>>;

  // ── metadata sync ─────────────────────────────────────────────────────────
  /** Replaces the side's previous snapshot. */
  saveSnapshot(taskId: string, side: ClusterSide, items: unknown): Promise<void>;
  getSnapshot(taskId: string, side: ClusterSide): Promise<MetadataSnapshot | null>;
  /** Records each item's latest outcome, keyed by (kind, name, direction). */
  upsertMetadataItems(taskId: string, items: readonly MetadataItemOutcome[]): Promise<void>;
  /** By kind, name, direction. */
  listMetadataItems(taskId: string): Promise<MetadataItem[]>;

  // ── lifecycle ─────────────────────────────────────────────────────────────
  /** One round trip to the database (health checks); rejects when it is unreachable. */
  ping(): Promise<void>;
  /**
   * Runs fn against a store bound to one transaction: everything it writes commits together or
   * not at all. Do not use the outer store inside fn (on the embedded adapter that deadlocks).
   */
  withTransaction<R>(fn: (store: Store) => Promise<R>): Promise<R>;
  /** Closes the underlying pool / embedded database. Not allowed on a transaction-bound store. */
  close(): Promise<void>;
}

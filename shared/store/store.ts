// The store's ports: everything Ferry persists, cut into role-sized interfaces (ports/*.ts) that
// callers take one or a few of, each implemented over the same SQL (sql/*.ts) on PostgreSQL and on
// embedded PGlite alike. `Store` is all of them at once: the composition root opens one and hands
// it to whatever takes a narrower port.
//
// Conventions: rows are camelCase; timestamps are Dates; int8 columns are numbers (they fit in
// 2^53); JSON columns are `unknown` where the store does not own their shape — the module that
// writes such a document validates it when reading it back. The exception is a task's spec, which
// the store decodes with the tasks module's schema (ports/tasks.ts). Writes that hang off a task
// (leases, checkpoints, metrics, parked messages, metadata) throw FerryError('NOT_FOUND') once
// the task is gone, so a straggling invocation cannot leave rows behind for a deleted task.
import type { AuditStore } from './ports/audit.ts';
import type { IdempotencyStore } from './ports/idempotency.ts';
import type { CheckpointStore, LeaseStore } from './ports/leases.ts';
import type { MetadataStateStore } from './ports/metadata.ts';
import type { MetricsStore } from './ports/metrics.ts';
import type { OffsetPairStore, OffsetSyncStore } from './ports/offsets.ts';
import type { ParkedStore } from './ports/parked.ts';
import type { TaskStore } from './ports/tasks.ts';
import type { TokenStore } from './ports/tokens.ts';

export type * from './ports/audit.ts';
export type * from './ports/idempotency.ts';
export type * from './ports/leases.ts';
export type * from './ports/metadata.ts';
export type * from './ports/metrics.ts';
export type * from './ports/offsets.ts';
export type * from './ports/parked.ts';
export type * from './ports/tasks.ts';
export type * from './ports/tokens.ts';

export interface StoreHealth {
  /** One round trip to the database (health checks); rejects when it is unreachable. */
  ping(): Promise<void>;
}

/** Ports whose writes a caller groups into one transaction: fn gets the same ports bound to it. */
export interface Transactional<P> {
  /**
   * Runs fn against ports bound to one transaction: everything it writes commits together or not
   * at all. Do not use the outer store inside fn (on the embedded adapter that deadlocks). Store
   * methods that are transactions themselves nest inside it as savepoints.
   */
  withTransaction<R>(fn: (tx: P) => Promise<R>): Promise<R>;
}

/** Every port at once, as opened by openStore (index.ts). */
export interface Store
  extends TaskStore,
    AuditStore,
    TokenStore,
    IdempotencyStore,
    LeaseStore,
    CheckpointStore,
    MetricsStore,
    ParkedStore,
    MetadataStateStore,
    OffsetPairStore,
    OffsetSyncStore,
    StoreHealth,
    Transactional<Store> {
  /** Closes the underlying pool / embedded database. Not allowed on a transaction-bound store. */
  close(): Promise<void>;
}

// The whole Store over one SQL executor: every role module on the same executor, so a store bound
// to a transaction (withTransaction) runs every role's statements inside that transaction.
import { FerryError } from '../../errors.ts';
import type { SqlDatabase, SqlExecutor } from '../executor.ts';
import type { Store } from '../store.ts';
import { sqlAuditStore } from './audit.ts';
import { sqlIdempotencyStore } from './idempotency.ts';
import { sqlCheckpointStore, sqlLeaseStore } from './leases.ts';
import { sqlMetadataStateStore } from './metadata.ts';
import { sqlMetricsStore } from './metrics.ts';
import { sqlOffsetPairStore, sqlOffsetSyncStore } from './offsets.ts';
import { sqlParkedStore } from './parked.ts';
import { sqlTaskStore } from './tasks.ts';
import { sqlTokenStore } from './tokens.ts';

/**
 * @param db the executor every statement runs on (a pool/instance, or a transaction)
 * @param owner the database to close; absent for a store bound to a transaction
 */
export const sqlStore = (db: SqlExecutor, owner?: SqlDatabase): Store => ({
  ...sqlTaskStore(db),
  ...sqlAuditStore(db),
  ...sqlTokenStore(db),
  ...sqlIdempotencyStore(db),
  ...sqlLeaseStore(db),
  ...sqlCheckpointStore(db),
  ...sqlMetricsStore(db),
  ...sqlParkedStore(db),
  ...sqlMetadataStateStore(db),
  ...sqlOffsetPairStore(db),
  ...sqlOffsetSyncStore(db),

  async ping(): Promise<void> {
    await db.query('SELECT 1');
  },

  withTransaction<R>(fn: (tx: Store) => Promise<R>): Promise<R> {
    return db.transaction((tx) => fn(sqlStore(tx)));
  },

  async close(): Promise<void> {
    if (!owner) {
      throw new FerryError('INTERNAL', 'a transaction-bound store cannot be closed; close the store that opened it');
    }
    await owner.close();
  },
});

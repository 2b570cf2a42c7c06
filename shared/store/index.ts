// Opens Ferry's store: PostgreSQL when a database URL is configured, otherwise the embedded
// database in dataDir. Migrations run before the store is handed out, so callers never see an
// old schema. Choosing the default data directory is the caller's job.
import type { SqlDatabase } from './executor.ts';
import { migrate } from './migrate.ts';
import { PostgresDatabase, type PostgresOptions } from './postgres.ts';
import { sqlStore } from './sql/store.ts';
import type { Store } from './store.ts';

export type * from './store.ts';

export interface OpenStoreOptions {
  /** postgres://… ; when unset (or empty) the embedded database is used. */
  databaseUrl?: string;
  /** Embedded data directory, created if missing. Ignored when databaseUrl is set. */
  dataDir: string;
  /** Pool and statement timeouts (postgres.ts has the defaults). Ignored for the embedded database. */
  postgres?: Pick<PostgresOptions, 'connectTimeoutMs' | 'statementTimeoutMs'>;
}

// The embedded database is loaded only when used: cloud bundles leave PGlite (WASM) out.
export const openDatabase = async (options: OpenStoreOptions): Promise<SqlDatabase> =>
  options.databaseUrl
    ? new PostgresDatabase(options.databaseUrl, options.postgres)
    : (await import('./embedded.ts')).EmbeddedDatabase.open(options.dataDir);

export const openStore = async (options: OpenStoreOptions): Promise<Store> => {
  const db = await openDatabase(options);
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return sqlStore(db, db);
};

// Embedded adapter: PGlite (PostgreSQL compiled to WASM) in a local data directory, so Ferry runs
// with no database to set up. One PGlite instance is one single-connection backend, owned by one
// process; two processes must not open the same data directory.
import { mkdir } from 'node:fs/promises';
import type { PGlite, Transaction } from '@electric-sql/pglite';
import { INT8_OID, inSavepoint, parseInt8 } from './executor.ts';
import type { SqlDatabase, SqlExecutor, SqlParam } from './executor.ts';
import { initializeInChild, isInitialized } from './embedded-init.ts';
import { makePrivate, PRIVATE_DIR_MODE } from './private-files.ts';

/** The embedded database's buffer cache (PostgreSQL's default is 128MB). */
const SHARED_BUFFERS = '16MB';

class EmbeddedTransaction implements SqlExecutor {
  constructor(
    private readonly tx: Transaction,
    private readonly depth: number,
  ) {}

  async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const result = await this.tx.query<T>(sql, [...params]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }

  transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R> {
    const inner = new EmbeddedTransaction(this.tx, this.depth + 1);
    return inSavepoint(this, this.depth + 1, () => fn(inner));
  }
}

export class EmbeddedDatabase implements SqlDatabase {
  readonly kind = 'embedded';

  private constructor(
    private readonly db: PGlite,
    private readonly dataDir: string,
  ) {}

  static async open(dataDir: string): Promise<EmbeddedDatabase> {
    await mkdir(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    // Loaded on first use, so bundles without PGlite (the cloud functions) never touch it.
    const { PGlite } = await import('@electric-sql/pglite');
    // PostgreSQL's default 128 MB of shared buffers live in the WASM heap; Ferry's tables are small.
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`];
    if (!isInitialized(dataDir)) await initializeInChild(dataDir, startParams);
    // Files PGlite makes later follow the process umask (the local runtime sets 077); this fixes
    // what is there now, older directories included, and close() fixes what was made since.
    await makePrivate(dataDir);
    const db = await PGlite.create(dataDir, { parsers: { [INT8_OID]: parseInt8 }, startParams });
    return new EmbeddedDatabase(db, dataDir);
  }

  // Concurrency: PGlite has a single backend. Its transaction() holds an exclusive mutex for the
  // whole callback and query() waits on that mutex, so concurrent callers are serialized rather
  // than interleaved inside someone else's transaction. The one way to deadlock is to call this
  // top-level object from inside a transaction callback; the store only ever uses the tx it is given.

  async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const result = await this.db.query<T>(sql, [...params]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R> {
    return this.db.transaction((tx) => fn(new EmbeddedTransaction(tx, 0)));
  }

  async close(): Promise<void> {
    if (this.db.closed) return;
    await this.db.close();
    await makePrivate(this.dataDir);
  }
}

// PostgreSQL adapter for deployments: a pg Pool, with each transaction pinned to one client.
import pg from 'pg';
import type { PoolClient } from 'pg';
import { INT8_OID, inSavepoint, parseInt8 } from './executor.ts';
import type { SqlDatabase, SqlExecutor, SqlParam } from './executor.ts';

// int8 → number for this pool only; the global pg.types registry is left alone so other pg users
// in the same process keep their own parsing.
const ferryTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** A transaction on one checked-out client; nested transactions become savepoints. */
class PgTransaction implements SqlExecutor {
  constructor(
    private readonly client: PoolClient,
    private readonly depth: number,
  ) {}

  async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const result = await this.client.query(sql, [...params]);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R> {
    const inner = new PgTransaction(this.client, this.depth + 1);
    return inSavepoint(this, this.depth + 1, () => fn(inner));
  }
}

export interface PostgresOptions {
  maxConnections?: number;
  /** How long getting a connection may take (connecting, or waiting for a free one in the pool). Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * The server's statement_timeout for every statement (0: none). Default 30 s. The client gives up
   * on a statement 5 s after that (query_timeout), so a server that went silent frees its caller too.
   */
  statementTimeoutMs?: number;
}

export const POSTGRES_DEFAULTS = { connectTimeoutMs: 5000, statementTimeoutMs: 30_000 } as const;
/** A transaction left open (a caller stuck between statements) gives back its locks after this long. */
const IDLE_IN_TRANSACTION_MS = 60_000;

export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;

  constructor(connectionString: string, options: PostgresOptions = {}) {
    const statementMs = options.statementTimeoutMs ?? POSTGRES_DEFAULTS.statementTimeoutMs;
    this.pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      types: ferryTypes,
      connectionTimeoutMillis: options.connectTimeoutMs ?? POSTGRES_DEFAULTS.connectTimeoutMs,
      ...(statementMs > 0 ? { statement_timeout: statementMs, query_timeout: statementMs + 5000 } : {}),
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
      // A peer that vanished (a restarted server, a dropped route) is noticed on idle connections too.
      keepAlive: true,
    });
    // An idle client that loses its connection is evicted by the pool and the next query opens a
    // fresh one; without a listener the 'error' event would crash the process instead.
    this.pool.on('error', () => {});
  }

  async query<T>(sql: string, params: readonly SqlParam[] = []): Promise<T[]> {
    const result = await this.pool.query(sql, [...params]);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    let broken = false;
    // The pool listens for errors of idle clients only: a checked-out one whose server goes away
    // between two statements (a restart) would raise an uncaught 'error' and end the process.
    const lost = () => {
      broken = true;
    };
    client.on('error', lost);
    try {
      try {
        await client.query('BEGIN');
      } catch (err) {
        broken = true;
        throw err;
      }
      try {
        const result = await fn(new PgTransaction(client, 0));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          // The connection is unusable; destroy it rather than return it to the pool mid-transaction.
          broken = true;
        }
        throw err;
      }
    } finally {
      client.removeListener('error', lost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

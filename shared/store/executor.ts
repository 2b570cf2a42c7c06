// The narrow seam between the store and a database driver. The store speaks only this, so the
// PostgreSQL adapter (pg) and the embedded one (PGlite) run byte-identical SQL.

/** A positional statement parameter. JSON goes in as a string (JSON.stringify) cast to jsonb. */
export type SqlParam = string | number | boolean | Date | Uint8Array | null;

export interface SqlExecutor {
  /** Runs one statement with $1..$n parameters and returns its rows. */
  query<T>(sql: string, params?: readonly SqlParam[]): Promise<T[]>;
  /** Runs a parameterless script that may hold several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs fn inside a transaction: committed when fn resolves, rolled back when it throws.
   * Called on an executor that is already a transaction, it nests with a savepoint, so store
   * methods that need atomicity compose inside a caller's transaction.
   */
  transaction<R>(fn: (tx: SqlExecutor) => Promise<R>): Promise<R>;
}

/** An executor that owns a connection (pool or embedded instance) and must be closed. */
export interface SqlDatabase extends SqlExecutor {
  /** Which adapter this is; lets callers and tests name it, never branch SQL on it. */
  readonly kind: 'postgres' | 'embedded';
  close(): Promise<void>;
}

/**
 * int8 arrives as text; offsets, epochs and counters all fit in 2^53, so numbers are the right
 * JS type. A value that does not fit fails loudly rather than silently losing precision.
 */
export const parseInt8 = (text: string): number => {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${text} does not fit in a JS number`);
  }
  return n;
};

export const INT8_OID = 20;

/** Nested transactions become savepoints; names only need to be unique along one nesting chain. */
export const savepointName = (depth: number): string => `ferry_sp_${depth}`;

/**
 * Wraps fn in a savepoint on an executor that is already inside a transaction. Shared by both
 * adapters because savepoint SQL is the same everywhere.
 */
export const inSavepoint = async <R>(tx: SqlExecutor, depth: number, fn: () => Promise<R>): Promise<R> => {
  const name = savepointName(depth);
  await tx.exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await tx.exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (err) {
    await tx.exec(`ROLLBACK TO SAVEPOINT ${name}`);
    throw err;
  }
};

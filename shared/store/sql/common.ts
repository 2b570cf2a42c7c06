// What the role modules share: the database clock, JSON parameters, argument checks and the
// "task must exist" translation of a foreign-key violation. Every module speaks plain PostgreSQL
// through SqlExecutor, so the deployed (pg) and embedded (PGlite) adapters run exactly the same
// statements. Bulk writes pass their rows as one jsonb document (jsonb_to_recordset) because both
// drivers agree on JSON text, whereas JS-array parameter encoding differs between them.
import { FerryError } from '../../errors.ts';

/** Database clock in epoch milliseconds. clock_timestamp(), not now(): now() is frozen for the
 *  whole transaction, and lease expiry must be judged at the moment the row lock is held. */
export const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export const MAX_PAGE = 1000;

/** jsonb parameters go in as JSON text: pg would otherwise encode a JS array as a PG array. */
export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export const requireCount = (value: number, field: string, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new FerryError('VALIDATION_FAILED', `${field} must be an integer between 1 and ${max}`, field);
  }
  return value;
};

export const requireNonNegative = (value: number, field: string): number => {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FerryError('VALIDATION_FAILED', `${field} must be a non-negative integer`, field);
  }
  return value;
};

const PG_FOREIGN_KEY_VIOLATION = '23503';

const isForeignKeyViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && 'code' in err && err.code === PG_FOREIGN_KEY_VIOLATION;

/** Rows hanging off a task reference it; writing for a vanished task is NOT_FOUND, not a crash. */
export const taskMustExist = async <T>(taskId: string | readonly string[], write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      const ids = typeof taskId === 'string' ? taskId : taskId.join(', ');
      throw new FerryError('NOT_FOUND', `task ${ids} not found`, undefined, { cause: err });
    }
    throw err;
  }
};

/**
 * Last write wins for duplicate keys inside one bulk call: a single INSERT ... ON CONFLICT DO
 * UPDATE may not touch the same row twice.
 */
export const lastPerKey = <T>(rows: readonly T[], key: (row: T) => string): T[] => {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(key(row), row);
  return [...byKey.values()];
};

// The documents that hold sealed secrets, rewritten in place for a key rotation (`npm run reseal`).
// Each row is locked, rewritten and committed on its own, so the API and the functions keep
// running meanwhile: a concurrent edit waits for the row or is waited for, never overwritten.
// Neither a task's version nor its updated_at moves — the task itself did not change.
import type { SqlExecutor } from '../executor.ts';
import { json } from './common.ts';

/** Where sealed values live: table, key columns, document column. */
const SEALED_DOCUMENTS = [
  { table: 'tasks', keys: ['id'], column: 'spec' },
  { table: 'metadata_snapshots', keys: ['task_id', 'cluster_side'], column: 'items' },
] as const;

export interface ResealCounts {
  /** Rows read, per table. */
  scanned: Record<string, number>;
  /** Rows rewritten, per table. */
  rewritten: Record<string, number>;
}

/**
 * Calls `rewrite` on every document that may hold sealed values and stores what it returns;
 * undefined means "leave the row as it is". Throws on the first document that cannot be opened,
 * leaving the rows before it re-sealed (a second run continues where this one stopped).
 */
export async function resealStoredDocuments(db: SqlExecutor, rewrite: (doc: unknown) => unknown): Promise<ResealCounts> {
  const counts: ResealCounts = { scanned: {}, rewritten: {} };
  for (const { table, keys, column } of SEALED_DOCUMENTS) {
    counts.scanned[table] = 0;
    counts.rewritten[table] = 0;
    const keyList = keys.join(', ');
    const rows = await db.query<Record<string, string>>(`SELECT ${keyList} FROM ${table} ORDER BY ${keyList}`);
    const where = keys.map((k, i) => `${k} = $${i + 1}`).join(' AND ');
    for (const row of rows) {
      const ids = keys.map((k) => row[k]!);
      const done = await db.transaction(async (tx) => {
        const [locked] = await tx.query<{ doc: unknown }>(`SELECT ${column} AS doc FROM ${table} WHERE ${where} FOR UPDATE`, ids);
        if (!locked) return undefined; // deleted meanwhile
        const next = rewrite(locked.doc);
        if (next === undefined) return false;
        await tx.query(`UPDATE ${table} SET ${column} = $${keys.length + 1}::jsonb WHERE ${where}`, [...ids, json(next)]);
        return true;
      });
      if (done !== undefined) counts.scanned[table]! += 1;
      if (done) counts.rewritten[table]! += 1;
    }
  }
  return counts;
}

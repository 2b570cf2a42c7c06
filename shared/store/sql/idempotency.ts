// IdempotencyStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type { IdempotencyClaim, IdempotencyStore, IdempotentAnswer } from '../ports/idempotency.ts';
import { json } from './common.ts';

interface KeyDbRow {
  fingerprint: string;
  status: number | null;
  headers: Record<string, string> | null;
  body: string | null;
}

const AGE = '(clock_timestamp() - idempotency_keys.created_at)';

export const sqlIdempotencyStore = (db: SqlExecutor): IdempotencyStore => ({
  async claimIdempotencyKey(tenant, key, fingerprint, { ttlMs, staleMs }): Promise<IdempotencyClaim> {
    // One statement: a new key, an expired one, or an abandoned claim becomes this caller's; a live
    // one is left alone (the update's WHERE fails and nothing is returned).
    const claimed = await db.query(
      `INSERT INTO idempotency_keys (tenant, key, fingerprint) VALUES ($1, $2, $3)
       ON CONFLICT (tenant, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, status = NULL, headers = NULL, body = NULL, created_at = clock_timestamp()
         WHERE ${AGE} >= make_interval(secs => $4::float8 / 1000)
            OR (idempotency_keys.status IS NULL AND ${AGE} >= make_interval(secs => $5::float8 / 1000))
       RETURNING 1`,
      [tenant, key, fingerprint, ttlMs, staleMs],
    );
    if (claimed.length > 0) return { state: 'claimed' };
    const [row] = await db.query<KeyDbRow>(
      'SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE tenant = $1 AND key = $2',
      [tenant, key],
    );
    // Deleted between the two statements (pruned): the next attempt claims it.
    if (!row) return { state: 'in-flight' };
    if (row.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (row.status === null) return { state: 'in-flight' };
    return { state: 'done', answer: { status: row.status, headers: row.headers ?? {}, body: row.body ?? '' } };
  },

  async completeIdempotencyKey(tenant: string, key: string, answer: IdempotentAnswer): Promise<void> {
    await db.query('UPDATE idempotency_keys SET status = $3, headers = $4::jsonb, body = $5 WHERE tenant = $1 AND key = $2', [
      tenant,
      key,
      answer.status,
      json(answer.headers),
      answer.body,
    ]);
  },

  async releaseIdempotencyKey(tenant: string, key: string): Promise<void> {
    await db.query('DELETE FROM idempotency_keys WHERE tenant = $1 AND key = $2 AND status IS NULL', [tenant, key]);
  },

  async pruneIdempotencyKeys(ttlMs: number): Promise<number> {
    const rows = await db.query(
      'DELETE FROM idempotency_keys WHERE created_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000) RETURNING 1',
      [ttlMs],
    );
    return rows.length;
  },
});

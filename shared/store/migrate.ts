// Applies infra/migrations/*.sql in filename order, each once, each in its own transaction.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlExecutor } from './executor.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../infra/migrations/', import.meta.url));

// Arbitrary but fixed: every Ferry process contends on the same key, so two cold starts against
// an empty database take turns instead of both creating tables. Transaction-scoped, so it can
// never outlive a crashed migrator. PGlite implements advisory locks too, so the SQL is shared.
const MIGRATION_LOCK_KEY = 0x46_45_52_52_59; // "FERRY"

/** Returns the names of the migrations this call applied (empty when already up to date). */
export const migrate = async (db: SqlExecutor, dir: string = MIGRATIONS_DIR): Promise<string[]> => {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const applied: string[] = [];
  for (const file of files) {
    const sql = await readFile(join(dir, file), 'utf8');
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      // Created under the lock: a concurrent CREATE TABLE IF NOT EXISTS can still fail on the
      // catalog's unique index, so it must not race.
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [file]);
      if (done.length > 0) return false;
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
      return true;
    });
    if (ran) applied.push(file);
  }
  return applied;
};

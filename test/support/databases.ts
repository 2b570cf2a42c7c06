// Throwaway databases for tests and benchmarks: a fresh PostgreSQL database on the machine's
// server (dropped afterwards) or a fresh embedded data directory.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const POSTGRES_ADMIN_URL = process.env.FERRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin<R>(fn: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await client.connect(); // an unreachable PostgreSQL throws here: callers fail, never skip
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface Throwaway<T> {
  value: T;
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database; `value` is its URL. */
export async function throwawayPostgres(): Promise<Throwaway<string>> {
  const name = `ferry_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return { value: url.toString(), drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

/** A path inside a new temp directory that does not exist yet (openStore must create it). */
export async function throwawayDataDir(): Promise<Throwaway<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-store-'));
  return { value: join(dir, 'data'), drop: () => rm(dir, { recursive: true, force: true }) };
}

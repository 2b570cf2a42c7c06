// What every store contract file shares: the two adapters — embedded PGlite and PostgreSQL — each
// port's suite runs against (the promise of the ports is that both behave identically), a fresh
// database per suite, and the small helpers the suites use. PostgreSQL is required: if it cannot
// be reached the PostgreSQL half fails rather than skips.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isFerryError, type FerryErrorCode } from '../../shared/errors.ts';
import { openStore, type OpenStoreOptions } from '../../shared/store/index.ts';
import type { NewTask, Store } from '../../shared/store/store.ts';
import { throwawayDataDir, throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { plainTaskSpec } from '../support/task-spec.ts';

interface Adapter {
  name: string;
  /** Whether several Store instances may share one database (PGlite: one process, one instance). */
  sharedAcrossInstances: boolean;
  /** A brand-new, empty database, removed again when the suite ends. */
  fresh(): Promise<OpenStoreOptions>;
  teardown(): Promise<void>;
}

const embeddedAdapter = (): Adapter => {
  const dirs: Throwaway<string>[] = [];
  return {
    name: 'embedded (PGlite)',
    sharedAcrossInstances: false,
    async fresh() {
      const dir = await throwawayDataDir();
      dirs.push(dir);
      return { dataDir: dir.value };
    },
    async teardown() {
      for (const dir of dirs) await dir.drop();
    },
  };
};

const postgresAdapter = (): Adapter => {
  const databases: Throwaway<string>[] = [];
  return {
    name: 'PostgreSQL',
    sharedAcrossInstances: true,
    async fresh() {
      const db = await throwawayPostgres();
      databases.push(db);
      return { databaseUrl: db.value, dataDir: '/nonexistent-unused' };
    },
    async teardown() {
      for (const db of databases) await db.drop();
    },
  };
};

/** One suite's database, opened before its first test and dropped after its last. */
interface StoreFixture {
  readonly adapter: Omit<Adapter, 'teardown'>;
  readonly options: OpenStoreOptions;
  readonly store: Store;
  /** A second instance on the same database where the adapter allows it, else the same one. */
  readonly other: Store;
  /** Stores for racing: separate instances (own pools) on PostgreSQL, the one instance on PGlite. */
  racers(n: number): Promise<Store[]>;
}

/**
 * Declares `${port} contract — ${adapter}` once per adapter. `body` runs inside the describe, so
 * its own before() hooks run after the fixture's store is open.
 */
export function storeContract(port: string, body: (db: StoreFixture) => void): void {
  for (const makeAdapter of [embeddedAdapter, postgresAdapter]) {
    const adapter = makeAdapter();
    describe(`${port} contract — ${adapter.name}`, () => {
      const extraStores: Store[] = [];
      const fixture = {
        adapter,
        options: undefined as unknown as OpenStoreOptions,
        store: undefined as unknown as Store,
        other: undefined as unknown as Store,
        async racers(n: number): Promise<Store[]> {
          if (!adapter.sharedAcrossInstances) return Array.from({ length: n }, () => fixture.store);
          const opened = await Promise.all(Array.from({ length: Math.min(n, 4) }, () => openStore(fixture.options)));
          extraStores.push(...opened);
          return Array.from({ length: n }, (_, i) => opened[i % opened.length]!);
        },
      };

      before(async () => {
        fixture.options = await adapter.fresh();
        fixture.store = await openStore(fixture.options);
        fixture.other = adapter.sharedAcrossInstances ? await openStore(fixture.options) : fixture.store;
      });

      after(async () => {
        for (const s of new Set([fixture.store, fixture.other, ...extraStores])) await s?.close();
        await adapter.teardown();
      });

      body(fixture);
    });
  }
}

export const uid = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

export const newTask = (tenant: string, overrides: Partial<NewTask> = {}): NewTask => ({
  id: uid('task'),
  tenant,
  name: uid('replicate-orders'), // names are unique per tenant
  spec: plainTaskSpec(),
  desiredState: 'stopped',
  status: 'stopped',
  ...overrides,
});

export const rejectsWith = async (p: Promise<unknown>, code: FerryErrorCode): Promise<void> => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isFerryError(err, code), `expected FerryError ${code}, got ${String(err)}`);
    return true;
  });
};

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const MINUTE = 60_000;

// Key rotation on the store: `npm run reseal`'s rewrite (shared/store/sql/reseal.ts with
// shared/secrets/reseal.ts) re-seals every sealed value of task specs and metadata snapshots under
// the current key — v1 envelopes (no key id) and v2 ones under an older key alike — leaves tasks'
// versions alone, changes nothing on a second run, and stops at a value no configured key opens.
// On both adapters (PostgreSQL and embedded PGlite), like the other store contracts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { aesGcmCipher, keyringCipher, sealV1 } from '../../shared/secrets/cipher.ts';
import { resealDocument, sealedValues } from '../../shared/secrets/reseal.ts';
import type { SqlDatabase } from '../../shared/store/executor.ts';
import { openDatabase } from '../../shared/store/index.ts';
import { migrate } from '../../shared/store/migrate.ts';
import { resealStoredDocuments } from '../../shared/store/sql/reseal.ts';
import { sqlStore } from '../../shared/store/sql/store.ts';
import type { Store } from '../../shared/store/store.ts';
import { throwawayDataDir, throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { plainTaskSpec } from '../support/task-spec.ts';

const OLD = randomBytes(32);
const NEW = randomBytes(32);
const oldCipher = aesGcmCipher(OLD);
const rotated = keyringCipher(NEW, [OLD]);

const adapters: [string, () => Promise<{ options: { databaseUrl?: string; dataDir: string }; drop: () => Promise<void> }>][] = [
  [
    'PostgreSQL',
    async () => {
      const db: Throwaway<string> = await throwawayPostgres();
      return { options: { databaseUrl: db.value, dataDir: '/nonexistent-unused' }, drop: db.drop };
    },
  ],
  [
    'embedded (PGlite)',
    async () => {
      const dir: Throwaway<string> = await throwawayDataDir();
      return { options: { dataDir: dir.value }, drop: dir.drop };
    },
  ],
];

for (const [name, fresh] of adapters) {
  describe(`re-seal contract — ${name}`, () => {
    let db: SqlDatabase;
    let store: Store;
    let drop: () => Promise<void>;
    let sealedTaskId: string;
    let plainTaskId: string;

    before(async () => {
      const f = await fresh();
      drop = f.drop;
      db = await openDatabase(f.options);
      await migrate(db);
      store = sqlStore(db, db);
      const spec = plainTaskSpec();
      const sealed = await store.insertTask({
        id: `task-${randomUUID()}`,
        tenant: 'acme',
        name: 'sealed',
        desiredState: 'stopped',
        status: 'stopped',
        spec: {
          ...spec,
          // Written before key ids existed (v1) and under the old key with its id (v2).
          source: {
            ...spec.source,
            acl: { enabled: true, accessKeySealed: sealV1(OLD, 'AK-source'), secretKeySealed: sealV1(OLD, 'SK-source') },
          },
          target: {
            ...spec.target,
            acl: { enabled: true, accessKeySealed: oldCipher.encrypt('AK-target'), secretKeySealed: oldCipher.encrypt('SK-target') },
          },
        },
      });
      sealedTaskId = sealed.id;
      plainTaskId = (
        await store.insertTask({
          id: `task-${randomUUID()}`,
          tenant: 'acme',
          name: 'plain',
          desiredState: 'stopped',
          status: 'stopped',
          spec,
        })
      ).id;
      await store.saveSnapshot(sealedTaskId, 'source', {
        users: [{ name: 'u1', passwordSealed: oldCipher.encrypt('pw-1'), perm: 'PUB' }],
        topics: [{ name: 'orders' }],
      });
    });

    after(async () => {
      await db.close();
      await drop();
    });

    it('re-seals every sealed value under the new key, the plaintexts unchanged, the task version untouched', async () => {
      const before = (await store.getTask('acme', sealedTaskId))!;
      const counts = await resealStoredDocuments(db, (doc) => resealDocument(doc, rotated));
      assert.deepEqual(counts.rewritten, { tasks: 1, metadata_snapshots: 1 });
      assert.deepEqual(counts.scanned, { tasks: 2, metadata_snapshots: 1 });

      const after = (await store.getTask('acme', sealedTaskId))!;
      assert.equal(after.version, before.version);
      assert.equal(after.updatedAt.getTime(), before.updatedAt.getTime());
      const snapshot = await store.getSnapshot(sealedTaskId, 'source');
      const values = [...sealedValues(after.spec), ...sealedValues(snapshot!.items)];
      assert.equal(values.length, 5);
      for (const v of values) assert.equal(rotated.keyIdOf(v), rotated.currentKeyId, v);
      // The new key alone opens them now: the old one can be dropped.
      const newOnly = aesGcmCipher(NEW);
      assert.deepEqual(values.map((v) => newOnly.decrypt(v)).sort(), ['AK-source', 'AK-target', 'SK-source', 'SK-target', 'pw-1']);
      assert.throws(() => oldCipher.decrypt(values[0]!), /not configured/);
      assert.deepEqual((snapshot!.items as { topics: unknown }).topics, [{ name: 'orders' }]);
      assert.deepEqual((await store.getTask('acme', plainTaskId))!.spec, plainTaskSpec());
    });

    it('changes nothing on a second run', async () => {
      const counts = await resealStoredDocuments(db, (doc) => resealDocument(doc, rotated));
      assert.deepEqual(counts.rewritten, { tasks: 0, metadata_snapshots: 0 });
    });

    it('stops with the key id named when a value is sealed under a key that is not configured', async () => {
      const stranger = aesGcmCipher(randomBytes(32));
      await store.saveSnapshot(plainTaskId, 'target', { users: [{ name: 'u2', passwordSealed: stranger.encrypt('pw-2') }] });
      await assert.rejects(
        resealStoredDocuments(db, (doc) => resealDocument(doc, rotated)),
        new RegExp(`sealed under key ${stranger.currentKeyId}, which is not configured`),
      );
    });
  });
}

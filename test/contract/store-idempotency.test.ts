// Store contract, IdempotencyStore: an Idempotency-Key's first answer, per tenant — on both adapters.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../shared/store/store.ts';
import { sleep, storeContract, uid } from './store-contract.ts';

const DAY = 86_400_000;
const opts = { ttlMs: DAY, staleMs: 5 * 60_000 };
const answer = { status: 201, headers: { 'content-type': 'application/json', etag: '"1"' }, body: '{"id":"task-1"}' };

storeContract('IdempotencyStore', (db) => {
  let store: Store;
  before(() => {
    ({ store } = db);
  });

  describe('idempotency keys', () => {
    it('claims a new key once; the same request then sees it in flight, then its answer; another request is a mismatch', async () => {
      const key = uid('key');
      assert.deepEqual(await store.claimIdempotencyKey('acme', key, 'fp-1', opts), { state: 'claimed' });
      assert.deepEqual(await store.claimIdempotencyKey('acme', key, 'fp-1', opts), { state: 'in-flight' });
      assert.deepEqual(await store.claimIdempotencyKey('acme', key, 'fp-2', opts), { state: 'mismatch' });
      await store.completeIdempotencyKey('acme', key, answer);
      assert.deepEqual(await store.claimIdempotencyKey('acme', key, 'fp-1', opts), { state: 'done', answer });
      assert.deepEqual(await store.claimIdempotencyKey('acme', key, 'fp-2', opts), { state: 'mismatch' });
    });

    it('keys are per tenant', async () => {
      const key = uid('key');
      assert.equal((await store.claimIdempotencyKey('acme', key, 'fp-1', opts)).state, 'claimed');
      assert.equal((await store.claimIdempotencyKey('other', key, 'fp-9', opts)).state, 'claimed');
    });

    it('concurrent claims of one key: exactly one wins', async () => {
      const key = uid('key');
      const racers = await db.racers(8);
      const claims = await Promise.all(racers.map((s) => s.claimIdempotencyKey('acme', key, 'fp', opts)));
      assert.equal(claims.filter((c) => c.state === 'claimed').length, 1);
      assert.equal(claims.filter((c) => c.state === 'in-flight').length, 7);
    });

    it('a released claim can be claimed again; a completed one cannot be released', async () => {
      const key = uid('key');
      await store.claimIdempotencyKey('acme', key, 'fp', opts);
      await store.releaseIdempotencyKey('acme', key);
      assert.equal((await store.claimIdempotencyKey('acme', key, 'fp-other', opts)).state, 'claimed');
      await store.completeIdempotencyKey('acme', key, answer);
      await store.releaseIdempotencyKey('acme', key);
      assert.equal((await store.claimIdempotencyKey('acme', key, 'fp-other', opts)).state, 'done');
    });

    it('after the TTL a key is free again, an abandoned claim after staleMs, and pruning deletes old keys', async () => {
      const [done, abandoned] = [uid('key'), uid('key')];
      await store.claimIdempotencyKey('acme', done, 'fp', opts);
      await store.completeIdempotencyKey('acme', done, answer);
      await store.claimIdempotencyKey('acme', abandoned, 'fp', opts);
      await sleep(300);
      const short = { ttlMs: 200, staleMs: 100 };
      assert.equal((await store.claimIdempotencyKey('acme', done, 'fp-new', short)).state, 'claimed', 'expired: claimed afresh');
      assert.equal((await store.claimIdempotencyKey('acme', abandoned, 'fp', { ttlMs: DAY, staleMs: 100 })).state, 'claimed');
      await sleep(300);
      const pruned = await store.pruneIdempotencyKeys(200);
      assert.ok(pruned >= 2, `pruned ${pruned}`);
      assert.equal((await store.claimIdempotencyKey('acme', done, 'fp-other', opts)).state, 'claimed', 'gone after pruning');
    });
  });
});

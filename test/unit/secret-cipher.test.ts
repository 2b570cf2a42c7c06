// The sealed envelope: v2 names its key (bound in as associated data), a keyring seals under the
// newest key and opens under any configured one, v1 envelopes (no key id) still open, and
// FERRY_PREVIOUS_SECRET_KEYS reaches the configuration.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { aesGcmCipher, keyId, keyringCipher, sealV1 } from '../../shared/secrets/cipher.ts';
import { resealDocument } from '../../shared/secrets/reseal.ts';

const K1 = randomBytes(32);
const K2 = randomBytes(32);

describe('secret envelope', () => {
  it('v2 carries the id of the key that sealed it', () => {
    const c = aesGcmCipher(K1);
    const sealed = c.encrypt('secret-key-1');
    assert.match(sealed, /^v2:[0-9a-f]{16}:/);
    assert.equal(c.keyIdOf(sealed), keyId(K1));
    assert.equal(c.decrypt(sealed), 'secret-key-1');
    assert.notEqual(sealed, c.encrypt('secret-key-1'), 'a fresh IV per value');
  });

  it('a keyring seals under the newest key and opens what older keys sealed, v1 included', () => {
    const ring = keyringCipher(K2, [K1]);
    const byOld = aesGcmCipher(K1).encrypt('old-v2');
    const v1 = sealV1(K1, 'old-v1');
    assert.equal(ring.decrypt(byOld), 'old-v2');
    assert.equal(ring.decrypt(v1), 'old-v1');
    assert.equal(ring.keyIdOf(ring.encrypt('x')), keyId(K2));
    assert.deepEqual(ring.keyIds, [keyId(K2), keyId(K1)]);
    assert.equal(ring.needsReseal(byOld), true);
    assert.equal(ring.needsReseal(v1), true);
    assert.equal(ring.needsReseal(ring.encrypt('x')), false);
  });

  it('refuses an unknown key id by name, a v1 envelope no key opens, and a relabelled key id', () => {
    const other = aesGcmCipher(K2);
    assert.throws(() => other.decrypt(aesGcmCipher(K1).encrypt('x')), new RegExp(`sealed under key ${keyId(K1)}, which is not configured`));
    assert.throws(() => other.decrypt(sealV1(K1, 'x')), /opens with none of the configured keys/);
    // Both keys configured, the envelope's key id swapped: the associated data no longer matches.
    const ring = keyringCipher(K1, [K2]);
    const sealed = ring.encrypt('x');
    const relabelled = sealed.replace(keyId(K1), keyId(K2));
    assert.throws(() => ring.decrypt(relabelled));
    assert.throws(() => ring.decrypt('plain text'), /unknown secret envelope/);
  });

  it('resealDocument rewrites only out-of-date *Sealed fields, anywhere in a document', () => {
    const ring = keyringCipher(K2, [K1]);
    const doc = { a: { accessKeySealed: sealV1(K1, 'ak'), accessKeyMasked: 'ak**' }, list: [{ passwordSealed: ring.encrypt('pw') }] };
    const next = resealDocument(doc, ring) as typeof doc;
    assert.equal(ring.keyIdOf(next.a.accessKeySealed), keyId(K2));
    assert.equal(ring.decrypt(next.a.accessKeySealed), 'ak');
    assert.equal(next.a.accessKeyMasked, 'ak**');
    assert.equal(next.list[0]!.passwordSealed, doc.list[0]!.passwordSealed, 'already current: untouched');
    assert.equal(resealDocument(next, ring), undefined);
  });

  it('FERRY_PREVIOUS_SECRET_KEYS: a comma-separated list of keys, each checked', () => {
    const c = loadConfig({
      FERRY_SECRET_KEY: K2.toString('base64'),
      FERRY_PREVIOUS_SECRET_KEYS: `${K1.toString('hex')}, ${K1.toString('base64')}`,
    });
    assert.deepEqual(c.previousSecretKeys, [K1.toString('hex'), K1.toString('base64')]);
    assert.deepEqual(loadConfig({}).previousSecretKeys, []);
    assert.throws(() => loadConfig({ FERRY_PREVIOUS_SECRET_KEYS: 'short' }), /FERRY_PREVIOUS_SECRET_KEYS must be a comma-separated list/);
  });
});

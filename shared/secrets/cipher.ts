// Envelope for secrets at rest (AK/SK): AES-256-GCM with a random 96-bit IV per value.
// Format v2: "v2:" + key id + ":" + base64url(iv | tag | ciphertext), the key id bound in as
// associated data. The older "v1:" + base64url(iv | tag | ciphertext) carries no key id; it still
// opens with any configured key (GCM's tag tells the right one) until `npm run reseal` rewrites it.
// The current key comes from FERRY_SECRET_KEY (32 bytes, base64 or hex) or, for the embedded
// runtime, a key file generated once in the data directory; FERRY_PREVIOUS_SECRET_KEYS lists older
// keys that still open what they sealed (key rotation, docs/deployment.md).
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SecretCipher {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
  /**
   * 32-byte keys for one purpose (`info` names it), derived with HKDF-SHA256 from the deployment key
   * (first: make new values with it) and from each previous key (still accepted): keys that need no
   * storing of their own, e.g. the per-task key signing Ferry's message properties.
   */
  deriveKeys(info: string): readonly Buffer[];
}

/** A cipher over several keys: seals under the newest, opens under any of them. */
export interface KeyringCipher extends SecretCipher {
  /** The id of the key new envelopes are sealed with. */
  readonly currentKeyId: string;
  /** Every configured key's id, the current one first. */
  readonly keyIds: readonly string[];
  /** The key id an envelope names (undefined for a v1 envelope, which names none). */
  keyIdOf(sealed: string): string | undefined;
  /** True when the envelope is not a v2 envelope under the current key. */
  needsReseal(sealed: string): boolean;
}

export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('FERRY_SECRET_KEY must be 32 bytes, given as 64 hex characters or base64');
  return key;
}

/** Reads the key file, creating it (mode 0600) with a fresh random key when absent. */
export function loadOrCreateKeyFile(path: string): Buffer {
  if (existsSync(path)) return parseKey(readFileSync(path, 'utf8'));
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return key;
}

/**
 * A key's id: derived from the key (a hash, which reveals nothing of it), so every instance of a
 * deployment names the same key the same way without anyone having to name keys.
 */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('ferry-secret-key-id\0').update(key).digest('hex').slice(0, 16);
}

const V2 = /^v2:([0-9a-f]{16}):([A-Za-z0-9_-]+)$/;

function seal(key: Buffer, id: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(id, 'ascii'));
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `v2:${id}:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url')}`;
}

function open(key: Buffer, raw: Buffer, aad: string | undefined): string {
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  if (aad !== undefined) d.setAAD(Buffer.from(aad, 'ascii'));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}

/** Seals under `current`; opens envelopes of `current` and of every key in `previous`. */
export function keyringCipher(current: Buffer, previous: readonly Buffer[] = []): KeyringCipher {
  for (const k of [current, ...previous]) if (k.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) if (!keys.has(keyId(k))) keys.set(keyId(k), k);
  const currentKeyId = keyId(current);
  const keyIdOf = (sealed: string) => V2.exec(sealed)?.[1];
  return {
    currentKeyId,
    keyIds: [...keys.keys()],
    keyIdOf,
    needsReseal: (sealed) => keyIdOf(sealed) !== currentKeyId,
    encrypt: (plain) => seal(current, currentKeyId, plain),
    deriveKeys: (info) => [...keys.values()].map((k) => Buffer.from(hkdfSync('sha256', k, 'ferry/derived-key/v1', info, 32))),
    decrypt(sealed) {
      const v2 = V2.exec(sealed);
      if (v2) {
        const [, id, body] = v2 as unknown as [string, string, string];
        const key = keys.get(id);
        if (!key)
          throw new Error(
            `secret sealed under key ${id}, which is not configured (FERRY_SECRET_KEY or FERRY_PREVIOUS_SECRET_KEYS); ` +
              `configured: ${[...keys.keys()].join(', ')}`,
          );
        return open(key, Buffer.from(body, 'base64url'), id);
      }
      if (!sealed.startsWith('v1:')) throw new Error('unknown secret envelope');
      // v1 names no key: the one whose tag verifies is the one that sealed it.
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      for (const key of keys.values()) {
        try {
          return open(key, raw, undefined);
        } catch {
          // not this key
        }
      }
      throw new Error('secret (v1 envelope) opens with none of the configured keys (FERRY_SECRET_KEY, FERRY_PREVIOUS_SECRET_KEYS)');
    },
  };
}

/** One key: seals and opens under it alone. */
export function aesGcmCipher(key: Buffer): KeyringCipher {
  return keyringCipher(key);
}

/** The v1 envelope (no key id) as Ferry wrote it before key ids; kept so tests can make old data. */
export function sealV1(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `v1:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url')}`;
}

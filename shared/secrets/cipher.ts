// Envelope for secrets at rest (AK/SK): AES-256-GCM with a random 96-bit IV per value.
// Format: "v1:" + base64url(iv | tag | ciphertext). The key comes from FERRY_SECRET_KEY (32 bytes,
// base64 or hex) or, for the embedded runtime, a key file generated once in the data directory.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface SecretCipher {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
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

export function aesGcmCipher(key: Buffer): SecretCipher {
  if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `v1:${Buffer.concat([iv, c.getAuthTag(), ct]).toString('base64url')}`;
    },
    decrypt(sealed) {
      if (!sealed.startsWith('v1:')) throw new Error('unknown secret envelope');
      const raw = Buffer.from(sealed.slice(3), 'base64url');
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

// Bearer tokens: random, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes } from 'node:crypto';
import { FerryError } from '../errors.ts';
import type { TokenStore } from '../store/store.ts';
import type { Principal, Role } from './principal.ts';

// Tokens we issue are `ferry_` + 43 base64url chars; an operator-chosen FERRY_API_TOKEN may be any 16+ printable chars.
const TOKEN_RE = /^[\x21-\x7e]{16,512}$/;
const TENANT_RE = /^[A-Za-z0-9_-]{1,64}$/;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * A token's public id: the first 16 hex digits of its hash. It names the token in listings and
 * revocations and tells nothing about the token itself (the hash of 256 random bits).
 */
export const tokenId = (tokenHash: string): string => tokenHash.slice(0, 16);

const newToken = (): string => `ferry_${randomBytes(32).toString('base64url')}`;

export async function issueToken(store: TokenStore, tenant: string, role: Role, label: string, token = newToken()): Promise<string> {
  if (!TENANT_RE.test(tenant)) throw new FerryError('VALIDATION_FAILED', 'tenant must be 1-64 letters, digits, "-" or "_"', 'tenant');
  if (role !== 'admin' && role !== 'reader') throw new FerryError('VALIDATION_FAILED', 'role must be "admin" or "reader"', 'role');
  await store.insertToken({ tokenHash: hashToken(token), tenant, role, label: label.slice(0, 100) });
  return token;
}

/** The principal behind an `Authorization: Bearer …` header, or UNAUTHENTICATED. */
export async function authenticate(store: TokenStore, authorization: string | undefined): Promise<Principal> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new FerryError('UNAUTHENTICATED', 'missing bearer token (Authorization: Bearer <token>)');
  const token = m[1]!;
  if (!TOKEN_RE.test(token)) throw new FerryError('UNAUTHENTICATED', 'invalid or revoked token');
  const row = await store.findToken(hashToken(token));
  if (!row) throw new FerryError('UNAUTHENTICATED', 'invalid or revoked token');
  return {
    tenant: row.tenant,
    role: row.role === 'admin' ? 'admin' : 'reader',
    subject: row.label || `token:${row.tokenHash.slice(0, 8)}`,
  };
}

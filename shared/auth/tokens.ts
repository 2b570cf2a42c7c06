// Bearer tokens: random, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes } from 'node:crypto';
import { FerryError } from '../errors.ts';
import type { TokenStore } from '../store/store.ts';
import type { Principal, Role } from './principal.ts';

// Tokens we issue are `ferry_` + 43 base64url chars; an operator-chosen FERRY_API_TOKEN may be any 16+ printable chars.
const TOKEN_RE = /^[\x21-\x7e]{16,512}$/;
const TENANT_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** lastUsedAt is written at most this often per token: a use is not a write per request. */
const TOUCH_EVERY_MS = 60_000;
export const MAX_EXPIRY_DAYS = 3650;

/**
 * Names Ferry's own work writes into the audit trail, and the `token:` prefix of token actors: a
 * label may not be one of them, so nothing a tenant names reads like the system.
 */
const RESERVED_LABEL = /^\s*(reconciler|replicator|metadata-sync|offset-sync|failover|system|ferry|migration\b.*|token:.*)\s*$/i;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * A token's public id: the first 16 hex digits of its hash. It names the token in listings and
 * revocations and tells nothing about the token itself (the hash of 256 random bits).
 */
export const tokenId = (tokenHash: string): string => tokenHash.slice(0, 16);

/** The audit trail's actor for a token. */
export const tokenActor = (tokenHash: string): string => `token:${tokenId(tokenHash)}`;

const newToken = (): string => `ferry_${randomBytes(32).toString('base64url')}`;

export interface IssueOptions {
  /** Days until the token stops working (1..3650, fractions allowed); undefined: never expires. */
  expiresInDays?: number | undefined;
  /** An operator-chosen token (FERRY_API_TOKEN); default a new random one. */
  token?: string | undefined;
}

/** A token label under the rules: 1..100 characters, not a reserved system name. */
export function checkLabel(label: string): string {
  const trimmed = label.trim();
  if (trimmed.length === 0 || label.length > 100) throw new FerryError('VALIDATION_FAILED', 'label must be 1-100 characters', 'label');
  if (RESERVED_LABEL.test(trimmed)) {
    throw new FerryError('VALIDATION_FAILED', `label "${trimmed}" is reserved for Ferry's own audit entries`, 'label');
  }
  return label;
}

export function checkExpiry(days: unknown): number | undefined {
  if (days === undefined || days === null) return undefined;
  if (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > MAX_EXPIRY_DAYS) {
    throw new FerryError(
      'VALIDATION_FAILED',
      `expiresInDays must be a number of days from 0 to ${MAX_EXPIRY_DAYS} (not 0)`,
      'expiresInDays',
    );
  }
  return days;
}

export async function issueToken(store: TokenStore, tenant: string, role: Role, label: string, opts: IssueOptions = {}): Promise<string> {
  if (!TENANT_RE.test(tenant)) throw new FerryError('VALIDATION_FAILED', 'tenant must be 1-64 letters, digits, "-" or "_"', 'tenant');
  if (role !== 'admin' && role !== 'reader') throw new FerryError('VALIDATION_FAILED', 'role must be "admin" or "reader"', 'role');
  const token = opts.token ?? newToken();
  await store.insertToken({
    tokenHash: hashToken(token),
    tenant,
    role,
    label: checkLabel(label),
    expiresInDays: checkExpiry(opts.expiresInDays),
  });
  return token;
}

/** The principal behind an `Authorization: Bearer …` header, or UNAUTHENTICATED (also for revoked and expired tokens). */
export async function authenticate(store: TokenStore, authorization: string | undefined): Promise<Principal> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) throw new FerryError('UNAUTHENTICATED', 'missing bearer token (Authorization: Bearer <token>)');
  const token = m[1]!;
  if (!TOKEN_RE.test(token)) throw new FerryError('UNAUTHENTICATED', 'invalid, expired or revoked token');
  const row = await store.findToken(hashToken(token));
  if (!row) throw new FerryError('UNAUTHENTICATED', 'invalid, expired or revoked token');
  // The row just read says whether a minute has passed; the store's own condition settles races.
  if (row.lastUsedAt === null || Date.now() - row.lastUsedAt.getTime() >= TOUCH_EVERY_MS) await store.touchToken(row.tokenHash);
  return { tenant: row.tenant, role: row.role === 'admin' ? 'admin' : 'reader', subject: tokenActor(row.tokenHash), label: row.label };
}

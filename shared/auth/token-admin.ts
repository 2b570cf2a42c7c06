// Token administration within the caller's own tenant, for admins: mint (optionally expiring), list
// (never the token, only its id) and revoke by id. Another tenant's token is "not found", like any
// other tenant-owned object.
import { FerryError } from '../errors.ts';
import type { ApiToken, TokenStore } from '../store/store.ts';
import type { Principal, Role } from './principal.ts';
import { hashToken, issueToken, tokenId } from './tokens.ts';

export interface TokenListing {
  id: string;
  label: string;
  role: Role;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface TokenMinted extends Pick<TokenListing, 'id' | 'label' | 'role' | 'createdAt' | 'expiresAt'> {
  token: string;
  tenant: string;
}

function requireAdmin(p: Principal): void {
  if (p.role !== 'admin') throw new FerryError('FORBIDDEN', 'only an admin token may administer tokens');
}

const listing = (t: ApiToken): TokenListing => ({
  id: tokenId(t.tokenHash),
  label: t.label,
  role: t.role === 'admin' ? 'admin' : 'reader',
  createdAt: t.createdAt.toISOString(),
  expiresAt: t.expiresAt?.toISOString() ?? null,
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});

const CREATE_FIELDS = new Set(['role', 'label', 'expiresInDays']);

/** POST /v1/tokens: `{label?, role?, expiresInDays?}` (a JSON object, nothing else) → the token, shown this once. */
export async function mintTenantToken(store: TokenStore, p: Principal, body: unknown): Promise<TokenMinted> {
  requireAdmin(p);
  const b = body ?? {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object', 'body');
  const fields = b as Record<string, unknown>;
  const unknownField = Object.keys(fields).find((k) => !CREATE_FIELDS.has(k));
  if (unknownField !== undefined) throw new FerryError('VALIDATION_FAILED', `unknown field ${unknownField}`, unknownField);
  const role = fields.role ?? 'reader';
  if (role !== 'admin' && role !== 'reader') throw new FerryError('VALIDATION_FAILED', 'role must be "admin" or "reader"', 'role');
  if (fields.label !== undefined && typeof fields.label !== 'string') {
    throw new FerryError('VALIDATION_FAILED', 'label must be a string', 'label');
  }
  const label = fields.label ?? `${role} token`;
  const token = await issueToken(store, p.tenant, role, label, { expiresInDays: fields.expiresInDays as number | undefined });
  const row = await store.getToken(hashToken(token));
  if (!row) throw new FerryError('INTERNAL', 'the new token was not stored');
  const { id, createdAt, expiresAt } = listing(row);
  return { id, token, tenant: p.tenant, role, label: row.label, createdAt, expiresAt };
}

export async function listTenantTokens(store: TokenStore, p: Principal): Promise<TokenListing[]> {
  requireAdmin(p);
  return (await store.listTokens(p.tenant)).map(listing);
}

/** Revokes the tenant's token with this id; revoking one already revoked is a no-op (the outcome is the same). */
export async function revokeTokenById(store: TokenStore, p: Principal, id: string): Promise<void> {
  requireAdmin(p);
  const match = (await store.listTokens(p.tenant)).find((t) => tokenId(t.tokenHash) === id);
  if (!match) throw new FerryError('NOT_FOUND', 'token not found');
  await store.revokeToken(match.tokenHash);
}

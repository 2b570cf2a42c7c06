// Token administration within the caller's own tenant, for admins: list (never the token, only its
// id) and revoke by id. Another tenant's token is "not found", like any other tenant-owned object.
import { FerryError } from '../errors.ts';
import type { TokenStore } from '../store/store.ts';
import type { Principal } from './principal.ts';
import { tokenId } from './tokens.ts';

export interface TokenListing {
  id: string;
  label: string;
  role: 'admin' | 'reader';
  createdAt: string;
  revokedAt: string | null;
}

function requireAdmin(p: Principal): void {
  if (p.role !== 'admin') throw new FerryError('FORBIDDEN', 'only an admin token may administer tokens');
}

export async function listTenantTokens(store: TokenStore, p: Principal): Promise<TokenListing[]> {
  requireAdmin(p);
  return (await store.listTokens(p.tenant)).map((t) => ({
    id: tokenId(t.tokenHash),
    label: t.label,
    role: t.role === 'admin' ? 'admin' : 'reader',
    createdAt: t.createdAt.toISOString(),
    revokedAt: t.revokedAt?.toISOString() ?? null,
  }));
}

/** Revokes the tenant's token with this id; revoking one already revoked is a no-op (the outcome is the same). */
export async function revokeTokenById(store: TokenStore, p: Principal, id: string): Promise<void> {
  requireAdmin(p);
  const match = (await store.listTokens(p.tenant)).find((t) => tokenId(t.tokenHash) === id);
  if (!match) throw new FerryError('NOT_FOUND', 'token not found');
  await store.revokeToken(match.tokenHash);
}

// The token port: API bearer tokens, kept as hashes.

export interface ApiToken {
  /** Only the hash is stored; the caller hashes the presented token before lookup. */
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewApiToken {
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
}

export interface TokenStore {
  insertToken(token: NewApiToken): Promise<ApiToken>;
  /** Only tokens that are not revoked. */
  findToken(tokenHash: string): Promise<ApiToken | null>;
  /** true when a live token was revoked by this call. */
  revokeToken(tokenHash: string): Promise<boolean>;
  /** Every token ever issued, revoked ones included (first-start bootstrap). */
  countTokens(): Promise<number>;
  /** A tenant's tokens, revoked ones included, newest first. */
  listTokens(tenant: string): Promise<ApiToken[]>;
}

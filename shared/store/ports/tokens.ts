// The token port: API bearer tokens, kept as hashes.

export interface ApiToken {
  /** Only the hash is stored; the caller hashes the presented token before lookup. */
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
  createdAt: Date;
  /** null: never expires. */
  expiresAt: Date | null;
  /** Written at most once a minute per token (touchToken), so it lags real use by up to a minute. */
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface NewApiToken {
  tokenHash: string;
  tenant: string;
  role: string;
  label: string;
  /** Days from now (database clock) until the token stops working; undefined: never. */
  expiresInDays?: number | undefined;
}

export interface TokenStore {
  insertToken(token: NewApiToken): Promise<ApiToken>;
  /** Only tokens that are live: not revoked and not expired. */
  findToken(tokenHash: string): Promise<ApiToken | null>;
  /** The token whatever its state (revoked and expired ones too), or null when never issued. */
  getToken(tokenHash: string): Promise<ApiToken | null>;
  /**
   * Records a use: sets lastUsedAt to now unless it was set less than a minute ago (then nothing is
   * written). true when this call wrote.
   */
  touchToken(tokenHash: string): Promise<boolean>;
  /** true when a live token was revoked by this call. */
  revokeToken(tokenHash: string): Promise<boolean>;
  /** Every token ever issued, revoked ones included (first-start bootstrap). */
  countTokens(): Promise<number>;
  /** A tenant's tokens, revoked and expired ones included, newest first. */
  listTokens(tenant: string): Promise<ApiToken[]>;
}

// TokenStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type { ApiToken, NewApiToken, TokenStore } from '../ports/tokens.ts';

interface TokenDbRow {
  token_hash: string;
  tenant: string;
  role: string;
  label: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const toToken = (r: TokenDbRow): ApiToken => ({
  tokenHash: r.token_hash,
  tenant: r.tenant,
  role: r.role,
  label: r.label,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

const LIVE = 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > clock_timestamp())';

export const sqlTokenStore = (db: SqlExecutor): TokenStore => ({
  async insertToken(token: NewApiToken): Promise<ApiToken> {
    const [row] = await db.query<TokenDbRow>(
      `INSERT INTO api_tokens (token_hash, tenant, role, label, expires_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5::float8 IS NULL THEN NULL ELSE clock_timestamp() + make_interval(days => 1) * $5::float8 END)
       RETURNING *`,
      [token.tokenHash, token.tenant, token.role, token.label, token.expiresInDays ?? null],
    );
    return toToken(row!);
  },

  async findToken(tokenHash: string): Promise<ApiToken | null> {
    const [row] = await db.query<TokenDbRow>(`SELECT * FROM api_tokens WHERE token_hash = $1 AND ${LIVE}`, [tokenHash]);
    return row ? toToken(row) : null;
  },

  async getToken(tokenHash: string): Promise<ApiToken | null> {
    const [row] = await db.query<TokenDbRow>('SELECT * FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return row ? toToken(row) : null;
  },

  async touchToken(tokenHash: string): Promise<boolean> {
    // The condition makes concurrent touches of one token within a minute write once between them.
    const rows = await db.query(
      `UPDATE api_tokens SET last_used_at = clock_timestamp()
       WHERE token_hash = $1 AND (last_used_at IS NULL OR last_used_at <= clock_timestamp() - interval '1 minute')
       RETURNING 1`,
      [tokenHash],
    );
    return rows.length > 0;
  },

  async countTokens(): Promise<number> {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens');
    return row?.n ?? 0;
  },

  async listTokens(tenant: string): Promise<ApiToken[]> {
    const rows = await db.query<TokenDbRow>('SELECT * FROM api_tokens WHERE tenant = $1 ORDER BY created_at DESC, token_hash', [tenant]);
    return rows.map(toToken);
  },

  async revokeToken(tokenHash: string): Promise<boolean> {
    const rows = await db.query(
      `UPDATE api_tokens SET revoked_at = clock_timestamp()
       WHERE token_hash = $1 AND revoked_at IS NULL RETURNING 1`,
      [tokenHash],
    );
    return rows.length > 0;
  },
});

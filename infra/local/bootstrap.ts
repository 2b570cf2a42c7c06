// First-start credentials for the local runtime: FERRY_API_TOKEN (admin of tenant `default`) is
// registered if given; otherwise, when the store has never issued a token, one is made and
// printed once.
import { hashToken, issueToken } from '../../shared/auth/tokens.ts';
import type { Logger } from '../../shared/log.ts';
import type { TokenStore } from '../../shared/store/store.ts';

export async function ensureBootstrapToken(store: TokenStore, apiToken: string | undefined, log: Logger): Promise<void> {
  if (apiToken) {
    const known = await store.getToken(hashToken(apiToken));
    if (!known) {
      await issueToken(store, 'default', 'admin', 'FERRY_API_TOKEN', { token: apiToken });
    } else if (known.revokedAt !== null || (known.expiresAt !== null && known.expiresAt.getTime() <= Date.now())) {
      // A revoked token stays revoked: starting again must neither fail nor bring it back.
      log.warn('FERRY_API_TOKEN was revoked or has expired; it is not accepted (set another one, or mint one with `npm run tokens`)');
    }
    return;
  }
  if ((await store.countTokens()) > 0) return;
  const token = await issueToken(store, 'default', 'admin', 'first-start token');
  // Printed to the terminal once, deliberately outside the JSON log stream.
  process.stderr.write(`\nFerry API token (admin of tenant "default"), shown once — keep it:\n  ${token}\n\n`);
  log.info('issued the first-start API token (printed on stderr)');
}

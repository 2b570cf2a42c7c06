// `npm run tokens -- create --tenant T --role admin|reader [--label L] [--expires-in-days N]` /
// `npm run tokens -- revoke <token>` / `npm run tokens -- list --tenant T`
// Operator tool with direct store access (DATABASE_URL or FERRY_DATA_DIR). The embedded store
// admits one process at a time: stop `npm start` first, or use the API's /v1/tokens routes.
import { parseArgs } from 'node:util';
import { hashToken, issueToken, tokenId } from '../../shared/auth/tokens.ts';
import { loadConfig } from '../../shared/config.ts';
import { openStore } from '../../shared/store/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    role: { type: 'string', default: 'reader' },
    label: { type: 'string' },
    'expires-in-days': { type: 'string' },
  },
});
const [command, arg] = positionals;
// The store's files are the operator's alone (data dir 0700, files 0600).
process.umask(0o077);
const config = loadConfig();
const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const when = (d: Date | null) => d?.toISOString() ?? '-';
let code = 0;
try {
  if (command === 'create' && values.tenant) {
    const role = values.role === 'admin' ? 'admin' : values.role === 'reader' ? 'reader' : undefined;
    if (!role) throw new Error('--role must be admin or reader');
    const days = values['expires-in-days'];
    const token = await issueToken(store, values.tenant, role, values.label ?? `${role} of ${values.tenant}`, {
      expiresInDays: days === undefined ? undefined : Number(days),
    });
    console.log(token);
  } else if (command === 'revoke' && arg) {
    if (!(await store.revokeToken(hashToken(arg)))) throw new Error('no live token matches');
    console.error('revoked');
  } else if (command === 'list' && values.tenant) {
    console.log(['ID', 'ROLE', 'LABEL', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'].join('\t'));
    for (const t of await store.listTokens(values.tenant)) {
      console.log(
        [tokenId(t.tokenHash), t.role, t.label, when(t.createdAt), when(t.expiresAt), when(t.lastUsedAt), when(t.revokedAt)].join('\t'),
      );
    }
  } else {
    console.error(
      'usage: npm run tokens -- create --tenant T --role admin|reader [--label L] [--expires-in-days N]\n' +
        '       npm run tokens -- revoke <token>\n' +
        '       npm run tokens -- list --tenant T',
    );
    code = 2;
  }
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  code = 1;
} finally {
  await store.close();
}
process.exit(code);

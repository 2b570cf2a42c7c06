// `npm run tokens -- create --tenant T --role admin|reader [--label L]` / `npm run tokens -- revoke <token>`
// Operator tool with direct store access (DATABASE_URL or FERRY_DATA_DIR). The embedded store
// admits one process at a time: stop `npm start` first, or use the API's /v1/tokens routes.
import { parseArgs } from 'node:util';
import { hashToken, issueToken } from '../../shared/auth/tokens.ts';
import { loadConfig } from '../../shared/config.ts';
import { openStore } from '../../shared/store/index.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tenant: { type: 'string' }, role: { type: 'string', default: 'reader' }, label: { type: 'string' } },
});
const [command, arg] = positionals;
const config = loadConfig();
const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
let code = 0;
try {
  if (command === 'create' && values.tenant) {
    const role = values.role === 'admin' ? 'admin' : values.role === 'reader' ? 'reader' : undefined;
    if (!role) throw new Error('--role must be admin or reader');
    const token = await issueToken(store, values.tenant, role, values.label ?? `${role} of ${values.tenant}`);
    console.log(token);
  } else if (command === 'revoke' && arg) {
    if (!(await store.revokeToken(hashToken(arg)))) throw new Error('no live token matches');
    console.error('revoked');
  } else {
    console.error('usage: npm run tokens -- create --tenant T --role admin|reader [--label L]\n       npm run tokens -- revoke <token>');
    code = 2;
  }
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  code = 1;
} finally {
  await store.close();
}
process.exit(code);

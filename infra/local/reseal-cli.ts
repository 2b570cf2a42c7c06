// `npm run reseal [-- --check]`: re-seals every stored secret under the current key (key rotation,
// docs/deployment.md). Set FERRY_SECRET_KEY to the new key and FERRY_PREVIOUS_SECRET_KEYS to the
// old one(s), deploy that, then run this once against the deployment's store (DATABASE_URL); after
// it reports nothing left under an old key, the old keys can be dropped. --check only counts.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../shared/config.ts';
import { keyringCipher, loadOrCreateKeyFile, parseKey } from '../../shared/secrets/cipher.ts';
import { resealDocument, sealedValues } from '../../shared/secrets/reseal.ts';
import { openDatabase } from '../../shared/store/index.ts';
import { migrate } from '../../shared/store/migrate.ts';
import { resealStoredDocuments } from '../../shared/store/sql/reseal.ts';

const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });
const config = loadConfig();
// A deployed store's key is never generated here: without FERRY_SECRET_KEY only the embedded store's key file applies.
if (config.databaseUrl && !config.secretKey) {
  console.error('error: FERRY_SECRET_KEY (the current key) is required with DATABASE_URL');
  process.exit(2);
}
const current = config.secretKey ? parseKey(config.secretKey) : loadOrCreateKeyFile(join(config.dataDir, 'secret.key'));
const cipher = keyringCipher(current, config.previousSecretKeys.map(parseKey));
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
let code = 0;
try {
  await migrate(db);
  let stale = 0;
  const counts = await resealStoredDocuments(db, (doc) => {
    if (!values.check) return resealDocument(doc, cipher);
    stale += sealedValues(doc).filter((s) => cipher.needsReseal(s)).length;
    return undefined;
  });
  const summary = values.check
    ? { currentKeyId: cipher.currentKeyId, staleValues: stale, ...counts }
    : { currentKeyId: cipher.currentKeyId, ...counts };
  console.log(JSON.stringify(summary));
} catch (err) {
  console.error(`error: ${(err as Error).message}`);
  code = 1;
} finally {
  await db.close();
}
process.exit(code);

// What every function needs, built once per process (cold start) from the validated configuration.
import { join } from 'node:path';
import type { FerryConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { aesGcmCipher, loadOrCreateKeyFile, parseKey, type SecretCipher } from '../secrets/cipher.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';

export interface CoreDeps {
  config: FerryConfig;
  store: Store;
  storeKind: 'embedded' | 'postgres';
  cipher: SecretCipher;
  log: Logger;
}

export async function createCoreDeps(config: FerryConfig, log: Logger): Promise<CoreDeps> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  // A deployment sets FERRY_SECRET_KEY; the embedded runtime keeps a generated key beside its data.
  const key = config.secretKey ? parseKey(config.secretKey) : loadOrCreateKeyFile(join(config.dataDir, 'secret.key'));
  return { config, store, storeKind: config.databaseUrl ? 'postgres' : 'embedded', cipher: aesGcmCipher(key), log };
}

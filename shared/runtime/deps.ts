// What every function needs, built once per process (cold start) from the validated configuration.
import { join } from 'node:path';
import { loadConfig, type FerryConfig } from '../config.ts';
import { createLogger, type Logger } from '../log.ts';
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

let fromEnv: Promise<CoreDeps> | undefined;

/** The process-wide deps of a function instance: built on first use, rebuilt if that failed. */
export function coreDepsFromEnv(): Promise<CoreDeps> {
  fromEnv ??= (async () => {
    const config = loadConfig();
    return createCoreDeps(config, createLogger(config.logLevel));
  })().catch((err: unknown) => {
    fromEnv = undefined;
    throw err;
  });
  return fromEnv;
}

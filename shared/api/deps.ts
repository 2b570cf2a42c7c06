// Everything the API needs, built once per process (cold start) from the validated configuration.
import { join } from 'node:path';
import type { FerryConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { aesGcmCipher, loadOrCreateKeyFile, parseKey } from '../secrets/cipher.ts';
import { openStore } from '../store/index.ts';
import { TaskService } from '../tasks/service.ts';
import type { ApiDeps } from './router.ts';

export async function createApiDeps(config: FerryConfig, log: Logger): Promise<ApiDeps> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  // A deployment sets FERRY_SECRET_KEY; the embedded runtime keeps a generated key beside its data.
  const key = config.secretKey ? parseKey(config.secretKey) : loadOrCreateKeyFile(join(config.dataDir, 'secret.key'));
  const tasks = new TaskService(store, aesGcmCipher(key), { requireManagedSide: config.requireManagedSide });
  return { store, storeKind: config.databaseUrl ? 'postgres' : 'embedded', tasks, log };
}

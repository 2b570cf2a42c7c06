// `npm start`: Ferry in one process on the embedded store (or PostgreSQL when DATABASE_URL is set).
import { mkdirSync } from 'node:fs';
import { createApiDeps } from '../../shared/api/deps.ts';
import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureBootstrapToken } from './bootstrap.ts';
import { createHttpServer } from './server.ts';

const config = loadConfig();
const log = createLogger(config.logLevel);
mkdirSync(config.dataDir, { recursive: true });
const deps = await createApiDeps(config, log);
await ensureBootstrapToken(deps.store, config.apiToken, log);
const server = createHttpServer(deps, log);

server.listen(config.port, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ port, store: deps.storeKind, dataDir: config.databaseUrl ? undefined : config.dataDir }, `Ferry listening on http://127.0.0.1:${port}`);
});

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down');
  server.close();
  server.closeIdleConnections();
  await deps.store.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

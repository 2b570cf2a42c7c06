// `npm start`: Ferry in one process — the HTTP API, the reconciler and metadata sync on timers,
// replicator invocations in-process — on the embedded store (or PostgreSQL when DATABASE_URL is set).
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig, type FerryConfig } from '../../shared/config.ts';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
import { LocalInvoker } from '../../shared/invoker/local.ts';
import { composeFerry } from '../../shared/runtime/root.ts';
import { ensureBootstrapToken } from './bootstrap.ts';
import { replicatorProcessArgs } from './replicator-bundle.ts';
import { createHttpServer } from './server.ts';
import { every } from './timer.ts';

/**
 * What an operator fixes in the environment — a malformed variable, a data directory that cannot be
 * made, a database that is not there, a port in use — is one line naming the setting and exit code
 * 1; anything else keeps its stack trace.
 */
function exitOnSetupError(err: unknown, setting?: (reason: string, code: string) => string | undefined): never {
  const code = (err as { code?: unknown } | null)?.code;
  const message = String((err as Error | null)?.message ?? '');
  const reason = typeof code !== 'string' ? message : message.startsWith(code) ? message : message ? `${code}: ${message}` : code;
  const line = err instanceof ConfigError ? err.message : typeof code === 'string' ? setting?.(reason, code) : undefined;
  if (line === undefined) throw err;
  process.stderr.write(`ferry: ${line}\n`);
  process.exit(1);
}

// Connection refused or unknown host, or PostgreSQL refusing the login or the database.
const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '28P01', '28000', '3D000'];

let config: FerryConfig;
try {
  config = loadConfig();
} catch (err) {
  exitOnSetupError(err);
}
// Everything this process writes (the embedded store's files above all) is the operator's alone.
process.umask(0o077);
try {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
} catch (err) {
  exitOnSetupError(err, (reason) => `cannot create FERRY_DATA_DIR ${config.dataDir} (${reason})`);
}
const storeProblem = (reason: string, code: string) =>
  config.databaseUrl && UNREACHABLE.includes(code) ? `cannot open the PostgreSQL store at DATABASE_URL (${reason})` : undefined;
const shutdownSignal = new AbortController();
// In-process by default; FERRY_INVOKER=process gives each invocation its own process (and root).
const processArgs = config.invoker === 'process' ? await replicatorProcessArgs() : undefined;
let invoker: LocalInvoker | ChildProcessInvoker | undefined;
const ferry = await composeFerry(config, {
  localInvoker: (f) =>
    (invoker = processArgs
      ? new ChildProcessInvoker({ args: processArgs, env: config.childEnv, log: f.log })
      : new LocalInvoker((job) =>
          f
            .replicate(job, { budgetMs: config.replicatorBudgetMs, signal: shutdownSignal.signal })
            .then(() => undefined)
            .catch((err: unknown) => f.log.error({ err, job }, 'replicator invocation failed')),
        )),
}).catch((err: unknown) => exitOnSetupError(err, storeProblem));
const { log } = ferry;
await ensureBootstrapToken(ferry.store, config.apiToken, log);

const timers = [
  every(config.reconcileIntervalMs, 'reconciler', log, () => ferry.reconcile()),
  every(config.metadataSyncIntervalMs, 'metadata-sync', log, () => ferry.syncMetadata()),
];

const server = createHttpServer(ferry.api, log);
server.once('error', (err) =>
  exitOnSetupError(err, (reason, code) =>
    code === 'EADDRINUSE' || code === 'EACCES' ? `cannot listen on PORT ${config.port} (${reason})` : undefined,
  ),
);
server.listen(config.port, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info(
    { port, store: ferry.storeKind, dataDir: config.databaseUrl ? undefined : config.dataDir },
    `Ferry listening on http://127.0.0.1:${port}`,
  );
});

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'shutting down');
  server.close();
  server.closeIdleConnections();
  await Promise.all(timers.map((t) => t.stop()));
  shutdownSignal.abort();
  await invoker?.drain();
  await ferry.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

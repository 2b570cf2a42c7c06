// `npm start`: Ferry in one process — the HTTP API, the reconciler and metadata sync on timers,
// replicator invocations in-process — on the embedded store (or PostgreSQL when DATABASE_URL is set).
import { mkdirSync } from 'node:fs';
import { createApiDeps } from '../../shared/api/deps.ts';
import { loadConfig } from '../../shared/config.ts';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
import { LocalInvoker } from '../../shared/invoker/local.ts';
import { createLogger } from '../../shared/log.ts';
import { onDemandMetadataSync } from '../../shared/metadata/on-demand.ts';
import { runMetadataSync } from '../../shared/metadata/run.ts';
import { syncTaskMetadata } from '../../shared/metadata/sync.ts';
import { emfWriter } from '../../shared/monitoring/emf.ts';
import { metadataSyncRecords, reconcilerRecords, replicatorRecords } from '../../shared/monitoring/emf-records.ts';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { runReplicator } from '../../shared/replication/replicator.ts';
import { createCoreDeps } from '../../shared/runtime/deps.ts';
import { ensureBootstrapToken } from './bootstrap.ts';
import { replicatorProcessArgs } from './replicator-bundle.ts';
import { createHttpServer } from './server.ts';
import { every } from './timer.ts';

const config = loadConfig();
const log = createLogger(config.logLevel);
mkdirSync(config.dataDir, { recursive: true });
const core = await createCoreDeps(config, log);
await ensureBootstrapToken(core.store, config.apiToken, log);

// EMF lines only with FERRY_EMF=1 here; Prometheus /metrics is the local runtime's own output.
const emf = emfWriter(config, log);
const shutdownSignal = new AbortController();
const requestMetadataSync = onDemandMetadataSync(core);
// In-process by default; FERRY_INVOKER=process gives each invocation its own process (and core).
const invoker: LocalInvoker | ChildProcessInvoker =
  config.invoker === 'process'
    ? new ChildProcessInvoker({ args: await replicatorProcessArgs(), env: process.env, log })
    : new LocalInvoker((job) =>
        runReplicator(job, { ...core, invoker, requestMetadataSync }, { bufferBytes: config.replicatorBufferBytes, budgetMs: config.replicatorBudgetMs, leaseTtlMs: config.leaseTtlMs, signal: shutdownSignal.signal })
          .then((report) => emf.write(replicatorRecords(report)))
          .catch((err: unknown) => {
            log.error({ err, job }, 'replicator invocation failed');
          }),
      );
const syncMetadata = (task: Parameters<typeof syncTaskMetadata>[0]) => syncTaskMetadata(task, core).then(() => undefined);
const timers = [
  every(config.reconcileIntervalMs, 'reconciler', log, async () => {
    const started = Date.now();
    const summary = await reconcile({ ...core, invoker, syncMetadata }, { redispatchAfterMs: config.leaseTtlMs });
    await emf.write(reconcilerRecords(summary, Date.now() - started));
    return summary;
  }),
  every(config.metadataSyncIntervalMs, 'metadata-sync', log, async () => {
    const summary = await runMetadataSync(core);
    await emf.write(metadataSyncRecords(summary));
    return summary;
  }),
];

const server = createHttpServer(createApiDeps(core), log, new PrometheusExporter(core.store));
server.listen(config.port, () => {
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info({ port, store: core.storeKind, dataDir: config.databaseUrl ? undefined : config.dataDir }, `Ferry listening on http://127.0.0.1:${port}`);
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
  await invoker.drain();
  await core.store.close();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

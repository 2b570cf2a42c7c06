// The composition root: the one place that builds Ferry's parts from the validated configuration.
// Every function handler and the local runtime start here, so wiring is written once; the parts
// below this folder take what they need as arguments and never read the environment.
import { join } from 'node:path';
import { RateLimiter } from '../api/rate-limit.ts';
import type { ApiDeps } from '../api/router.ts';
import { loadConfig, runtimeId, type FerryConfig } from '../config.ts';
import { EgressPolicy, installEgressPolicy } from '../egress/policy.ts';
import { createInvoker } from '../invoker/index.ts';
import type { Invoker, ReplicatorJob } from '../invoker/invoker.ts';
import { createLogger, type Logger } from '../log.ts';
import { onDemandMetadataSync } from '../metadata/on-demand.ts';
import { runMetadataSync, type MetadataSyncRunOptions, type MetadataSyncSummary } from '../metadata/run.ts';
import { syncTaskMetadata } from '../metadata/sync.ts';
import { emfWriter, type EmfWriter } from '../monitoring/emf.ts';
import { metadataSyncRecords, reconcilerRecords, replicatorRecords } from '../monitoring/emf-records.ts';
import { PrometheusExporter } from '../monitoring/prometheus.ts';
import { reconcile, type ReconcileSummary } from '../replication/reconciler.ts';
import { runFailovers } from '../replication/failover-run.ts';
import { runOffsetSync } from '../replication/offset-sync.ts';
import { runReplicator, type InvocationReport } from '../replication/replicator.ts';
import { keyringCipher, loadOrCreateKeyFile, parseKey, type SecretCipher } from '../secrets/cipher.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/store.ts';
import { TaskService } from '../tasks/service.ts';

export interface Ferry {
  config: FerryConfig;
  log: Logger;
  store: Store;
  storeKind: 'embedded' | 'postgres';
  cipher: SecretCipher;
  emf: EmfWriter;
  /** Where replicator jobs go: a function platform, child processes or this process. */
  invoker: Invoker;
  /** What the HTTP API's routes need. */
  api: ApiDeps;
  /** One replicator invocation; its metrics are written (EMF) before it resolves. */
  replicate(job: ReplicatorJob, opts: { budgetMs: number; signal?: AbortSignal }): Promise<InvocationReport>;
  /** One reconciler pass over every task. */
  reconcile(): Promise<ReconcileSummary>;
  /** One metadata sync cycle over every task that is due. */
  syncMetadata(opts?: MetadataSyncRunOptions): Promise<MetadataSyncSummary>;
  close(): Promise<void>;
}

export interface ComposeOptions {
  /**
   * How jobs run when FERRY_INVOKER is local or process: only a runtime that hosts replicators (the
   * local runtime, a replicator child process) can say; a function platform's invoker needs nothing.
   */
  localInvoker?: (ferry: Ferry) => Invoker;
}

export async function composeFerry(config: FerryConfig, opts: ComposeOptions = {}): Promise<Ferry> {
  const log = createLogger(config.logLevel);
  // Process-wide: every connection this process opens to a cluster is checked against it.
  installEgressPolicy(new EgressPolicy(config.egressAllow));
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, postgres: config.postgres });
  // A deployment sets FERRY_SECRET_KEY; the embedded runtime keeps a generated key beside its data.
  const key = config.secretKey ? parseKey(config.secretKey) : loadOrCreateKeyFile(join(config.dataDir, 'secret.key'));
  const cipher = keyringCipher(key, config.previousSecretKeys.map(parseKey));
  const storeKind = config.databaseUrl ? 'postgres' : 'embedded';
  const emf = emfWriter(config, log);
  const core = { config, log, store, cipher };
  const requestMetadataSync = onDemandMetadataSync(core);
  const syncMetadata = (task: Parameters<typeof syncTaskMetadata>[0]) => syncTaskMetadata(task, core).then(() => undefined);
  const tasks = new TaskService(store, cipher, {
    requireManagedSide: config.requireManagedSide,
    tencentApiEndpoint: config.tencentApiEndpoint,
    maxTasksPerTenant: config.maxTasksPerTenant,
  });

  let invoker: Invoker | undefined;
  let exporter: PrometheusExporter | undefined;
  const ferry: Ferry = {
    ...core,
    storeKind,
    emf,
    // Built on first use: the API function never needs one, and a local invoker runs jobs through
    // this very object.
    get invoker() {
      return (invoker ??= createInvoker(config, opts.localInvoker && (() => opts.localInvoker!(ferry))));
    },
    api: {
      store,
      storeKind,
      tasks,
      log,
      rateLimit: config.rateLimitRps === undefined ? undefined : new RateLimiter(config.rateLimitRps),
      // Built at the first scrape: it starts collecting this process's own metrics from then on.
      get exporter() {
        return (exporter ??= new PrometheusExporter(store, Date.now, {
          perTopic: config.metricsPerTopic,
          topicSeriesMax: config.metricsTopicSeriesMax,
        }));
      },
    },
    async replicate(job, { budgetMs, signal }) {
      const deps = { ...core, invoker: ferry.invoker, requestMetadataSync };
      const report = await runReplicator(job, deps, {
        bufferBytes: config.replicatorBufferBytes,
        budgetMs,
        leaseTtlMs: config.leaseTtlMs,
        signal,
        perTopicMetrics: config.metricsPerTopic,
      });
      await emf.write(replicatorRecords(report));
      return report;
    },
    async reconcile() {
      const started = Date.now();
      const summary = await reconcile(
        { ...core, invoker: ferry.invoker, syncMetadata },
        {
          redispatchAfterMs: config.leaseTtlMs,
          health: { unreachableAfterMs: config.healthUnreachableMs, lagWithoutProgressMs: config.healthLagMs },
          // Self-hosted runtimes run the replicators they dispatch: several on one database share the shards.
          ...(config.invoker === 'local' || config.invoker === 'process'
            ? {
                share: {
                  self: runtimeId(),
                  heartbeatTtlMs: Math.max(3 * config.reconcileIntervalMs, 2000),
                  takeoverMs: 2 * config.leaseTtlMs,
                },
              }
            : {}),
        },
      );
      await emf.write(reconcilerRecords(summary, Date.now() - started));
      // Failovers move on by the reconciler's cycles (serverless: no request waits for one).
      await runFailovers(core).catch((err: unknown) => log.error({ err }, 'failover cycle failed'));
      return summary;
    },
    async syncMetadata(runOpts = {}) {
      // runMetadataSync logs the run's JSON summary itself.
      const summary = await runMetadataSync(core, runOpts);
      await emf.write(metadataSyncRecords(summary));
      // Consumer offsets are translated on the same tick, after metadata sync has made the groups on the targets.
      await runOffsetSync(core, runOpts);
      return summary;
    },
    close: () => store.close(),
  };
  return ferry;
}

let fromEnv: Promise<Ferry> | undefined;

/**
 * The process-wide Ferry of a function instance, built on first use (the cold start) and reused by
 * every warm invocation; a failed start (database unreachable, say) is retried by the next one.
 */
export function ferryFromEnv(opts: ComposeOptions = {}): Promise<Ferry> {
  fromEnv ??= composeFerry(loadConfig(), opts).catch((err: unknown) => {
    fromEnv = undefined;
    throw err;
  });
  return fromEnv;
}

/** Closes the process-wide Ferry, if one was built (tests and runtimes that stop gracefully). */
export async function closeFerryFromEnv(): Promise<void> {
  const current = fromEnv;
  fromEnv = undefined;
  const ferry = await current?.catch(() => undefined);
  await ferry?.close();
}

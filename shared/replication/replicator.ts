// One replicator invocation. A copy job leases one shard of a flow (under the flow's current shard
// layout), runs it until the time budget is nearly spent or the task stops, then releases the
// lease and hands over to the next invocation. A retry-parked job re-sends parked messages.
import { randomBytes } from 'node:crypto';
import { connectEndpoint } from '../clusters/connect.ts';
import { connectGrpcEndpoint } from '../clusters/grpc-connect.ts';
import type { Invoker, ReplicatorJob } from '../invoker/invoker.ts';
import type { Logger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { CheckpointStore, LeaseHolder, LeaseStore, MetricsStore, ParkedStore, TaskStore } from '../store/store.ts';
import { flowsOf } from './flows.ts';
import { FlowMetrics, type FlowTotals } from './flow-metrics.ts';
import { retryParked } from './parked-retry.ts';
import { sleep } from './delivery.ts';
import { taskSigner } from './origin.ts';
import { runtimeId } from '../config.ts';
import { ShardRun, type ShardExit } from './shard-run.ts';

export interface ReplicatorDeps {
  store: TaskStore & LeaseStore & CheckpointStore & MetricsStore & ParkedStore;
  cipher: SecretCipher;
  log: Logger;
  invoker: Invoker;
  /** Asks metadata sync to run for the task now (a target topic is missing). */
  requestMetadataSync?: (taskId: string) => void;
}

export interface ReplicatorOptions {
  /** Wall time this invocation may use; it stops taking new batches `stopMarginMs` before. */
  budgetMs: number;
  stopMarginMs?: number;
  leaseTtlMs?: number;
  /** Send attempts before a batch is parked. */
  sendAttempts?: number;
  /** Message bytes one invocation may hold in memory across all its queues (default 64 MiB). */
  bufferBytes?: number;
  /** Aborted when the hosting process shuts down: finish the batch in flight, checkpoint, release. */
  signal?: AbortSignal;
  /** Also count consumed/replicated/failed by source topic (FERRY_METRICS_PER_TOPIC). */
  perTopicMetrics?: boolean;
}

export type ReplicatorExit = ShardExit | 'lease-held' | 'retried';

/** How long before its deadline a shard's holder starts its successor. */
const HAND_OVER_LEAD_MS = 8000;
const LEASE_POLL_MS = 200;
const mb = (bytes: number) => Math.round(bytes / 1048576);

/**
 * What one invocation did, for whoever hosts it to report (a function handler writes it as EMF
 * lines); the core itself knows nothing of where monitoring goes.
 */
export interface InvocationReport {
  exit: ReplicatorExit;
  job: ReplicatorJob;
  durationMs: number;
  /** Present once the task was read: its name and the flow's clusters (`A->B`). */
  task?: { name: string; route: string };
  /** Present when the shard ran (its lease was taken). */
  totals?: FlowTotals;
}

export async function runReplicator(job: ReplicatorJob, deps: ReplicatorDeps, opts: ReplicatorOptions): Promise<InvocationReport> {
  const started = Date.now();
  const report = (exit: ReplicatorExit, extra: Pick<InvocationReport, 'task' | 'totals'> = {}): InvocationReport => ({
    exit,
    job,
    durationMs: Date.now() - started,
    ...extra,
  });
  const deadline = started + opts.budgetMs - (opts.stopMarginMs ?? 1500);
  const ttl = opts.leaseTtlMs ?? 15_000;
  const log = deps.log.child({
    taskId: job.taskId,
    flow: job.flow,
    shard: job.shard,
    ...(job.kind === 'retry-parked' ? { job: job.kind } : {}),
  });
  const task = await deps.store.getTask(job.tenant, job.taskId);
  if (!task) return report('task-gone');
  const spec = task.spec;
  const flow = flowsOf(spec).find((f) => f.id === job.flow);
  if (!flow) return report('task-gone');
  const about = { name: task.name, route: `${flow.from.clusterId}->${flow.to.clusterId}` };
  if (task.desiredState !== 'running' || task.status !== 'running') return report('task-stopped', { task: about });
  const metrics = new FlowMetrics(job.taskId, job.flow, job.shards === undefined || job.shards === 1, opts.perTopicMetrics === true);

  if (job.kind === 'retry-parked') {
    const source = connectEndpoint(flow.from, deps.cipher);
    const target = connectEndpoint(flow.to, deps.cipher);
    try {
      await retryParked(job.taskId, job.flow, { store: deps.store, source, target, metrics, log, deadline });
    } finally {
      source.close();
      target.close();
      const delta = metrics.drain();
      if (delta) await deps.store.addMetrics([delta]).catch((err: unknown) => log.warn({ err }, 'metrics flush failed'));
    }
    return report('retried', { task: about, totals: metrics.invocationTotals() });
  }

  // Starts with the runtime's id: several runtimes on one database count their own leases by it.
  const owner = `${runtimeId()}-${randomBytes(4).toString('hex')}`;
  const key = { taskId: job.taskId, flow: job.flow, shard: job.shard };
  const request = { ...key, owner, ttlMs: ttl, generation: job.generation ?? 0 };
  let lease = await deps.store.acquireLease(request);
  // A successor waits for its predecessor's release (bounded by one lease term: a predecessor that
  // died leaves a lease that expires by then).
  for (const until = Date.now() + ttl + 2000; !lease && job.successor && Date.now() < Math.min(until, deadline); ) {
    await sleep(LEASE_POLL_MS);
    lease = await deps.store.acquireLease(request);
  }
  if (!lease) return report('lease-held', { task: about });
  log.info({ leaseAfterMs: Date.now() - started, successor: job.successor === true, epoch: lease.epoch }, 'shard lease taken');
  const holder: LeaseHolder = { ...key, owner, epoch: lease.epoch };
  // The successor is started this long before the deadline, so it is ready when the lease comes free.
  const handOverLead = Math.min(HAND_OVER_LEAD_MS, opts.budgetMs / 6);
  let handedOver = false;
  const handOver = async () => {
    if (handedOver) return;
    handedOver = true;
    await deps.invoker.invokeReplicator({ ...job, successor: true }).catch((err: unknown) => {
      handedOver = false;
      log.warn({ err }, 'hand-over invoke failed');
    });
  };

  // A gRPC side (a RocketMQ 5 proxy) goes through the gRPC client; every other through remoting.
  const connect = (e: typeof flow.from) =>
    e.protocol === 'grpc' ? connectGrpcEndpoint(e, deps.cipher, log) : connectEndpoint(e, deps.cipher);
  const source = connect(flow.from);
  const target = connect(flow.to);
  const run = new ShardRun(
    job,
    spec,
    holder,
    source,
    target,
    metrics,
    { store: deps.store, log, requestMetadataSync: deps.requestMetadataSync, signer: taskSigner(deps.cipher, job.tenant, job.taskId) },
    {
      leaseTtlMs: ttl,
      bufferBytes: opts.bufferBytes ?? 64 * 1024 * 1024,
      sendAttempts: opts.sendAttempts ?? 5,
      signal: opts.signal,
      handOverAt: deadline - handOverLead,
      handOver,
    },
    log,
    deadline,
  );
  let exit: ShardExit = 'budget';
  try {
    exit = await run.execute();
  } finally {
    await run.flushMetrics().catch((err: unknown) => log.warn({ err }, 'metrics flush failed'));
    if (exit !== 'lease-lost') await deps.store.releaseLease(key, owner, lease.epoch).catch(() => false);
    await Promise.all([source.close(), target.close()]);
  }
  const mem = process.memoryUsage();
  log.info(
    {
      exit,
      ms: Date.now() - started,
      queues: run.queueCount,
      rssMb: mb(mem.rss),
      heapUsedMb: mb(mem.heapUsed),
      externalMb: mb(mem.external),
    },
    'replicator invocation done',
  );
  // Not handed over early (a short budget): hand over now instead of waiting for the reconciler.
  if (exit === 'budget') await handOver();
  return report(exit, { task: about, totals: metrics.invocationTotals() });
}

// Desired vs actual, for every task: tasks being started are checked (and marked start_failed
// with a reason a person can act on) or get their start offsets fixed and turn running; running
// tasks get their shard count sized (or pinned) and a replicator invocation for every shard
// without a live lease, plus a retry job where parked messages wait for one. Nothing is stopped by
// force: replicators see the desired state change (or a new shard layout) and exit on their own.
// Last, every running task's health is evaluated and stored (health-check.ts).
import { connectEndpoint } from '../clusters/connect.ts';
import { isFerryError } from '../errors.ts';
import type { Invoker } from '../invoker/invoker.ts';
import type { Logger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type {
  AuditStore,
  CheckpointEntry,
  CheckpointStore,
  LeaseStore,
  MetricsStore,
  ParkedStore,
  TaskPatch,
  TaskRow,
  TaskStatus,
  TaskStore,
  Transactional,
} from '../store/store.ts';
import { runFairly, withinDeadline } from '../tasks/fair-pool.ts';
import { taskKeysRefusal } from '../tencent-cloud/cluster-policy.ts';
import type { TaskSpec } from '../tasks/model.ts';
import { shardCountFor } from './assignment.ts';
import { flowsOf } from './flows.ts';
import { checkHealth, type HealthOptions } from './health-check.ts';
import { listSourceQueues } from './queues.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import { RuntimeShare, type RuntimeShareOptions } from './runtime-share.ts';
import { clustersProblem, filterProblem } from './start-checks.ts';
import { startCheckpoints, type StartPosition } from './start-offsets.ts';

export interface ReconcilerDeps {
  /** Tasks and their shards' leases, plans and checkpoints; a decision and its audit event share a transaction. */
  store: TaskStore &
    LeaseStore &
    CheckpointStore &
    MetricsStore &
    ParkedStore &
    Transactional<TaskStore & AuditStore & CheckpointStore & LeaseStore>;
  cipher: SecretCipher;
  log: Logger;
  invoker: Invoker;
  /** Brings target metadata (topics with their queue counts) in line before messages flow. */
  syncMetadata?: (task: TaskRow) => Promise<void>;
}

export interface ReconcilerOptions {
  /** Do not dispatch a shard again sooner than this (default: 10 s) while its lease is not yet taken. */
  redispatchAfterMs?: number;
  /** Health windows (defaults: unreachable 30 s, lag without progress 2 min, two intervals) and probe reuse. */
  health?: HealthOptions;
  /** A task's start checks that have not finished by then fail its start (default 15 s). */
  startCheckDeadlineMs?: number;
  /** Set where several runtimes dispatch to their own replicators (self-hosted): each takes its share. */
  share?: RuntimeShareOptions;
}

export interface ReconcileSummary {
  tasks: number;
  started: number;
  failed: number;
  dispatched: number;
  /** Every task by its status once this run's decisions are made (every status present, 0 included). */
  byStatus: Record<TaskStatus, number>;
}

/** After a lease ends, the shard is left to the holder's successor this long before a new invocation is dispatched. */
const HAND_OVER_GRACE_MS = 3000;
/** Running tasks whose health is evaluated at once (each probes its clusters and reads its leases). */
const HEALTH_CONCURRENCY = 8;
/** Tasks started at once, and of one tenant while another tenant's wait (fair-pool.ts). */
const START_CONCURRENCY = 8;
const START_PER_TENANT = 2;
const START_CHECK_DEADLINE_MS = 15_000;

// Shards dispatched recently, so a slow-starting invocation is not dispatched twice.
const dispatchedAt = new Map<string, number>();

export async function reconcile(deps: ReconcilerDeps, opts: ReconcilerOptions): Promise<ReconcileSummary> {
  const byStatus: Record<TaskStatus, number> = { initializing: 0, running: 0, stopping: 0, stopped: 0, start_failed: 0, deleting: 0 };
  const summary: ReconcileSummary = { tasks: 0, started: 0, failed: 0, dispatched: 0, byStatus };
  const running: TaskRow[] = [];
  // Self-hosted runtimes on one database: this one's share of the unheld shards (runtime-share.ts).
  const share = opts.share && new RuntimeShare(opts.share, await deps.store.heartbeatRuntime(opts.share.self, opts.share.heartbeatTtlMs));
  const tasks = await deps.store.listAllTasks({ onUndecodable: (err) => deps.log.error({ err }, 'stored task unreadable') });
  // Start checks wait on clusters (a silent one for their whole deadline): they run side by side,
  // fairly across tenants, while the running tasks are dispatched.
  const starting = tasks.filter((t) => t.desiredState === 'running' && t.status === 'initializing');
  const startingIds = new Set(starting.map((t) => t.id));
  const t0 = Date.now();
  const starts = runFairly(
    starting,
    (t) => t.tenant,
    { concurrency: START_CONCURRENCY, perTenant: START_PER_TENANT },
    async (task) => {
      let status = task.status;
      try {
        if (await startTask(task, deps, opts.startCheckDeadlineMs ?? START_CHECK_DEADLINE_MS)) {
          summary.started++;
          status = 'running';
        } else {
          summary.failed++;
          status = 'start_failed';
        }
      } catch (err) {
        if (!isFerryError(err, 'CONFLICT') && !isFerryError(err, 'NOT_FOUND'))
          deps.log.error({ err, taskId: task.id }, 'start failed for task');
      } finally {
        byStatus[status]++;
        deps.log.debug({ taskId: task.id, tenant: task.tenant, status, ms: Date.now() - t0 }, 'start decided');
      }
    },
  );
  for (const task of tasks) {
    summary.tasks++;
    if (startingIds.has(task.id)) continue;
    let status = task.status;
    try {
      if (task.desiredState === 'running' && task.status === 'running') {
        // The operator may have narrowed FERRY_TENCENT_CLUSTERS since the start: the task's
        // replicators stop at their next state check (within seconds) instead of using the keys on.
        const refused = taskKeysRefusal(task.tenant, task.spec);
        if (refused) {
          await update(task, deps, 'start-failed', { status: 'start_failed', statusReason: refused.reason });
          deps.log.warn({ taskId: task.id, reason: refused.reason }, 'task stopped: its cluster is no longer allowed');
          status = 'start_failed';
          continue;
        }
        summary.dispatched += await dispatch(task, deps, opts, share);
        running.push(task);
      } else if (task.status === 'stopping' && (await finishStop(task, deps))) status = 'stopped';
    } catch (err) {
      if (isFerryError(err, 'CONFLICT') || isFerryError(err, 'NOT_FOUND')) continue; // changed under us; next tick
      deps.log.error({ err, taskId: task.id }, 'reconcile failed for task');
    } finally {
      byStatus[status]++;
    }
  }
  await starts;
  // After every task's dispatch, so a slow probe of an unreachable cluster holds up no replicator.
  const queue = [...running];
  const worker = async () => {
    for (let task = queue.shift(); task; task = queue.shift()) {
      await checkHealth(task, deps, opts.health ?? {}, HAND_OVER_GRACE_MS).catch((err: unknown) => {
        if (!isFerryError(err, 'NOT_FOUND')) deps.log.error({ err, taskId: task?.id }, 'health check failed for task');
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEALTH_CONCURRENCY, queue.length) }, worker));
  return summary;
}

async function startTask(task: TaskRow, deps: ReconcilerDeps, deadlineMs: number): Promise<boolean> {
  const spec = task.spec;
  // The deadline is for the clusters' answers; the pattern analysis has its own budget.
  const problem =
    (await filterProblem(spec)) ??
    (await checkWithin(deadlineMs, (signal, step) => clustersProblem(spec, deps.cipher, { signal, step, tenant: task.tenant })));
  if (problem) {
    await update(task, deps, 'start-failed', { status: 'start_failed', statusReason: problem });
    deps.log.warn({ taskId: task.id, reason: problem }, 'task failed to start');
    return false;
  }
  await deps.syncMetadata?.(task);
  const captured: { flow: string; entries: CheckpointEntry[] }[] = [];
  if (!task.startOffsetsCaptured || spec.pendingReset) {
    const at: StartPosition = spec.pendingReset ? { type: 'timestamp', timestamp: spec.pendingReset.timestamp } : spec.startOffset;
    for (const flow of flowsOf(spec)) {
      // A gRPC source keeps its position in its consumer group on the broker: no checkpoints to fix.
      if (flow.from.protocol === 'grpc') continue;
      const source = connectEndpoint(flow.from, deps.cipher);
      try {
        const info = await source.nameServers.clusterInfo();
        const own = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
        const queues = (await listSourceQueues(source, replicatedTopics(spec, own))).flatMap((t) => t.queues);
        // The reverse flow of a new two-way task starts where the forward one does; on a reset both replay.
        captured.push({ flow: flow.id, entries: await startCheckpoints(source, queues, at) });
      } finally {
        source.close();
      }
    }
  }
  // A new run starts with no health memory of the last one (an old unreachable-since would degrade it at once).
  const { pendingReset, health: _lastRun, ...rest } = spec;
  const next: TaskSpec = pendingReset ? { ...rest, replayGeneration: (spec.replayGeneration ?? 0) + 1 } : rest;
  // The start checkpoints are written with the status, against the version read: a second
  // reconciler starting the same task (several runtimes, overlapping invocations) loses with
  // CONFLICT instead of moving them past what was produced since the first one started it.
  // Any tenure still open (a replicator of the last run) is fenced first, in the same transaction,
  // so its final checkpoint cannot land over these (the lease rows are locked before the checkpoints).
  await update(task, deps, 'running', { status: 'running', statusReason: null, startOffsetsCaptured: true, spec: next }, async (tx) => {
    if (captured.length > 0) await tx.fenceLeases(task.id);
    for (const c of captured) await tx.setCheckpoints(task.id, c.flow, c.entries);
  });
  return true;
}

/**
 * A stopping task is stopped once its replicators have released (or let expire) every lease; the
 * leases are fenced with it, so a holder that has not noticed yet can write nothing after that.
 */
async function finishStop(task: TaskRow, deps: ReconcilerDeps): Promise<boolean> {
  if ((await deps.store.liveLeaseCount(task.id)) > 0) return false;
  await update(task, deps, 'stopped', { status: 'stopped', statusReason: null }, async (tx) => {
    await tx.fenceLeases(task.id);
  });
  return true;
}

async function dispatch(task: TaskRow, deps: ReconcilerDeps, opts: ReconcilerOptions, share: RuntimeShare | undefined): Promise<number> {
  const spec = task.spec;
  const [leases, plans, queues, retryFlows] = await Promise.all([
    deps.store.listLeases(task.id),
    deps.store.getShardPlans(task.id),
    deps.store.countCheckpoints(task.id),
    deps.store.retryRequestedFlows(task.id),
  ]);
  const now = Date.now();
  const again = opts.redispatchAfterMs ?? 10_000;
  const due = (k: string) => {
    if (now - (dispatchedAt.get(k) ?? 0) < again) return false;
    dispatchedAt.set(k, now);
    return true;
  };
  let n = 0;
  for (const flow of flowsOf(spec)) {
    // A lease that ended moments ago counts as held: its holder's successor is about to take it.
    const live = leases.filter((l) => l.flow === flow.id && l.expiresAtMs > now - HAND_OVER_GRACE_MS);
    let plan = plans.find((p) => p.flow === flow.id);
    const current = live.filter((l) => l.generation === (plan?.generation ?? 0));
    const reported = current.filter((l) => l.lag !== null);
    const load = {
      queues: queues[flow.id] ?? 0,
      lag: reported.length ? reported.reduce((a, l) => a + (l.lag ?? 0), 0) : null,
      rate: reported.length ? reported.reduce((a, l) => a + (l.rate ?? 0), 0) : null,
    };
    const want = shardCountFor(spec.shards, load, plan?.shardCount, now - (plan?.changedAtMs ?? 0));
    if (!plan || want !== plan.shardCount) {
      const before = plan?.shardCount;
      plan = await deps.store.setShardCount(task.id, flow.id, want);
      if (before !== undefined) deps.log.info({ taskId: task.id, flow: flow.id, from: before, to: want, ...load }, 'shard count changed');
    }
    // Each shard knows only its own queues' lag: the flow's is their sum.
    if (plan.shardCount > 1 && reported.length === plan.shardCount) {
      await deps.store.addMetrics([{ taskId: task.id, flow: flow.id, minuteMs: Math.floor(now / 60_000) * 60_000, lag: load.lag }]);
    }
    // A new layout starts once every shard of the old one has stopped (they notice within seconds).
    if (live.some((l) => l.generation !== plan.generation)) continue;
    for (let shard = 0; shard < plan.shardCount; shard++) {
      const key = `${task.id}/${flow.id}/${plan.generation}/${shard}`;
      if (live.some((l) => l.shard === shard)) {
        share?.held(key);
        continue;
      }
      if ((share && !share.take(key)) || !due(key)) continue;
      await deps.invoker.invokeReplicator({
        tenant: task.tenant,
        taskId: task.id,
        flow: flow.id,
        shard,
        shards: plan.shardCount,
        generation: plan.generation,
      });
      n++;
    }
    if (retryFlows.includes(flow.id) && due(`${task.id}/${flow.id}/retry-parked`)) {
      await deps.invoker.invokeReplicator({ tenant: task.tenant, taskId: task.id, flow: flow.id, kind: 'retry-parked', shard: 0 });
      n++;
    }
  }
  return n;
}

/**
 * The start checks' verdict, or a problem naming what they were waiting on when `ms` ran out (a
 * name server that accepts connections and never answers would otherwise hold the start for
 * every timeout of every address in turn). The checks' connections are closed at the deadline.
 */
async function checkWithin(
  ms: number,
  check: (signal: AbortSignal, step: (what: string) => void) => Promise<string | undefined>,
): Promise<string | undefined> {
  let doing = 'checking the task';
  return withinDeadline(
    ms,
    (signal) => check(signal, (what) => (doing = what)),
    () => `the start checks did not finish within ${ms / 1000} s (still ${doing})`,
  );
}

/** Writes the reconciler's decision against the version it read, with an audit event. */
async function update(
  task: TaskRow,
  deps: ReconcilerDeps,
  action: string,
  patch: TaskPatch,
  alsoWrite?: (tx: CheckpointStore & LeaseStore) => Promise<void>,
): Promise<void> {
  await deps.store.withTransaction(async (tx) => {
    const next = await tx.updateTask(task.tenant, task.id, task.version, patch);
    await alsoWrite?.(tx);
    await tx.appendAudit({
      taskId: task.id,
      tenant: task.tenant,
      actor: 'reconciler',
      action,
      before: { status: task.status, statusReason: task.statusReason },
      after: { status: next.status, statusReason: next.statusReason },
    });
  });
}

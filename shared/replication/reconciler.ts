// Desired vs actual, for every task: tasks being started are checked (and marked start_failed
// with a reason a person can act on) or get their start offsets fixed and turn running; running
// tasks get a replicator invocation for every shard without a live lease. Nothing is stopped by
// force: replicators see the desired state change and exit on their own.
import { connectEndpoint } from '../clusters/connect.ts';
import { isFerryError } from '../errors.ts';
import { compileTopicPatterns } from '../filter/index.ts';
import type { Invoker } from '../invoker/invoker.ts';
import type { Logger } from '../log.ts';
import { isSystemTopic } from '../rocketmq/system-resources.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { Store, TaskPatch, TaskRow, TaskStatus } from '../store/store.ts';
import type { TaskSpec } from '../tasks/model.ts';
import { flowsOf } from './flows.ts';
import { listSourceQueues } from './queues.ts';
import { startProblem } from './start-checks.ts';
import { startCheckpoints, type StartPosition } from './start-offsets.ts';

export interface ReconcilerDeps {
  store: Store;
  cipher: SecretCipher;
  log: Logger;
  invoker: Invoker;
  /** Brings target metadata (topics with their queue counts) in line before messages flow. */
  syncMetadata?: (task: TaskRow) => Promise<void>;
}

export interface ReconcilerOptions {
  shardsPerFlow: number;
  /** Do not dispatch a shard again sooner than this (default: 10 s) while its lease is not yet taken. */
  redispatchAfterMs?: number;
}

export interface ReconcileSummary {
  tasks: number;
  started: number;
  failed: number;
  dispatched: number;
  /** Every task by its status once this run's decisions are made (every status present, 0 included). */
  byStatus: Record<TaskStatus, number>;
}

// Shards dispatched recently, so a slow-starting invocation is not dispatched twice.
const dispatchedAt = new Map<string, number>();

export async function reconcile(deps: ReconcilerDeps, opts: ReconcilerOptions): Promise<ReconcileSummary> {
  const byStatus: Record<TaskStatus, number> = { initializing: 0, running: 0, stopped: 0, start_failed: 0, deleting: 0 };
  const summary: ReconcileSummary = { tasks: 0, started: 0, failed: 0, dispatched: 0, byStatus };
  for (const task of await deps.store.listAllTasks()) {
    summary.tasks++;
    let status = task.status;
    try {
      if (task.desiredState === 'running' && task.status === 'initializing') {
        if (await startTask(task, deps)) {
          summary.started++;
          status = 'running';
        } else {
          summary.failed++;
          status = 'start_failed';
        }
      } else if (task.desiredState === 'running' && task.status === 'running') {
        summary.dispatched += await dispatch(task, deps, opts);
      }
    } catch (err) {
      if (isFerryError(err, 'CONFLICT') || isFerryError(err, 'NOT_FOUND')) continue; // changed under us; next tick
      deps.log.error({ err, taskId: task.id }, 'reconcile failed for task');
    } finally {
      byStatus[status]++;
    }
  }
  return summary;
}

async function startTask(task: TaskRow, deps: ReconcilerDeps): Promise<boolean> {
  const spec = task.spec as TaskSpec;
  const problem = await startProblem(spec, deps.cipher);
  if (problem) {
    await update(task, deps, 'start-failed', { status: 'start_failed', statusReason: problem });
    deps.log.warn({ taskId: task.id, reason: problem }, 'task failed to start');
    return false;
  }
  await deps.syncMetadata?.(task);
  if (!task.startOffsetsCaptured || spec.pendingReset) {
    const at: StartPosition = spec.pendingReset ? { type: 'timestamp', timestamp: spec.pendingReset.timestamp } : spec.startOffset;
    const topics = compileTopicPatterns(spec.filter.topics);
    for (const flow of flowsOf(spec)) {
      const source = connectEndpoint(flow.from, deps.cipher);
      try {
        const info = await source.nameServers.clusterInfo();
        const own = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
        const queues = (await listSourceQueues(source, topics, (t) => isSystemTopic(t, own))).flatMap((t) => t.queues);
        // The reverse flow of a new two-way task starts where the forward one does; on a reset both replay.
        await deps.store.setCheckpoints(task.id, flow.id, await startCheckpoints(source, queues, at));
      } finally {
        source.close();
      }
    }
  }
  const { pendingReset, ...rest } = spec;
  const next: TaskSpec = pendingReset ? { ...rest, replayGeneration: (spec.replayGeneration ?? 0) + 1 } : rest;
  await update(task, deps, 'running', { status: 'running', statusReason: null, startOffsetsCaptured: true, spec: next });
  return true;
}

async function dispatch(task: TaskRow, deps: ReconcilerDeps, opts: ReconcilerOptions): Promise<number> {
  const leases = await deps.store.listLeases(task.id);
  const now = Date.now();
  let n = 0;
  for (const flow of flowsOf(task.spec as TaskSpec)) {
    for (let shard = 0; shard < opts.shardsPerFlow; shard++) {
      const live = leases.some((l) => l.flow === flow.id && l.shard === shard && l.expiresAtMs > now);
      const k = `${task.id}/${flow.id}/${shard}`;
      if (live || now - (dispatchedAt.get(k) ?? 0) < (opts.redispatchAfterMs ?? 10_000)) continue;
      dispatchedAt.set(k, now);
      await deps.invoker.invokeReplicator({ tenant: task.tenant, taskId: task.id, flow: flow.id, shard });
      n++;
    }
  }
  return n;
}

/** Writes the reconciler's decision against the version it read, with an audit event. */
async function update(task: TaskRow, deps: ReconcilerDeps, action: string, patch: TaskPatch): Promise<void> {
  await deps.store.withTransaction(async (tx) => {
    const next = await tx.updateTask(task.tenant, task.id, task.version, patch);
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


// One timer tick of metadata sync: every task that should be syncing gets one cycle.
//
// Which tasks: desired state 'running' and not failed to start or being deleted. A stopped task
// does not sync (stopping a task stops its metadata sync, as deleting does); its stored snapshots
// stay, so when it is started again the first cycle picks up every create, change and delete
// made on either cluster meanwhile, as a diff against the state it last saw.
import type { TaskRow, TaskStore } from '../store/store.ts';
import { runFairly, withinDeadline } from '../tasks/fair-pool.ts';
import { taskKeysRefusal } from '../tencent-cloud/cluster-policy.ts';
import { syncTaskMetadata, type MetadataSyncDeps, type MetadataSyncResult } from './sync.ts';

export interface MetadataSyncRunOptions {
  /** Tasks synced at once. Default 2: each cycle is mostly waiting on brokers, but brokers are shared. */
  concurrency?: number;
  /** Epoch ms after which no further task is started (the function's time budget); the rest wait for the next tick. */
  stopAt?: number;
  /** How long one task's cycle may take before its worker moves on (its clusters' clients are closed). Default 60 s. */
  taskDeadlineMs?: number;
}

const TASK_DEADLINE_MS = 60_000;

export interface MetadataSyncSummary {
  tasks: number;
  eligible: number;
  results: MetadataSyncResult[];
  /** Due tasks left for the next tick because the time budget ran out. */
  deferred: number;
  /** Tasks whose cycle threw (store errors); per-item and per-cluster failures are in results. */
  errors: { taskId: string; error: string }[];
  durationMs: number;
}

/** A run also lists the tasks, which a single cycle does not. */
export type MetadataSyncRunDeps = MetadataSyncDeps & { store: TaskStore };

export function isMetadataSyncDue(task: Pick<TaskRow, 'desiredState' | 'status'>): boolean {
  return task.desiredState === 'running' && task.status !== 'start_failed' && task.status !== 'deleting';
}

export async function runMetadataSync(deps: MetadataSyncRunDeps, opts: MetadataSyncRunOptions = {}): Promise<MetadataSyncSummary> {
  const t0 = Date.now();
  const tasks = await deps.store.listAllTasks({ onUndecodable: (err) => deps.log.error({ err }, 'stored task unreadable') });
  const due = tasks.filter(isMetadataSyncDue);
  const results: MetadataSyncResult[] = [];
  const errors: MetadataSyncSummary['errors'] = [];
  // A task not started before stopAt is left for the next tick (counted as deferred below). Tasks
  // are taken in turn across tenants, one of a tenant at a time while another's wait: a tenant's
  // many slow clusters cannot use up the tick's budget before another tenant's tasks get a cycle.
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 2));
  await runFairly(
    due,
    (t) => t.tenant,
    { concurrency, perTenant: 1 },
    async (task) => {
      if (opts.stopAt !== undefined && Date.now() >= opts.stopAt) return;
      // The operator may have narrowed FERRY_TENCENT_CLUSTERS since the task started: no cycle with the deployment's keys then.
      const refused = taskKeysRefusal(task.tenant, task.spec);
      if (refused) {
        errors.push({ taskId: task.id, error: refused.reason });
        return;
      }
      const ms = opts.taskDeadlineMs ?? TASK_DEADLINE_MS;
      try {
        const late = new Error(`the metadata sync cycle did not finish within ${ms / 1000} s`);
        const r = await withinDeadline<MetadataSyncResult | Error>(
          ms,
          (signal) => syncTaskMetadata(task, deps, signal),
          () => late,
        );
        if (r instanceof Error) throw r;
        results.push(r);
      } catch (err) {
        errors.push({ taskId: task.id, error: err instanceof Error ? err.message : String(err) });
      }
    },
  );
  const deferred = due.length - results.length - errors.length;
  const summary: MetadataSyncSummary = {
    tasks: tasks.length,
    eligible: due.length,
    results,
    deferred,
    errors,
    durationMs: Date.now() - t0,
  };
  deps.log.info(
    {
      tasks: summary.tasks,
      eligible: summary.eligible,
      outcomes: countBy(results.map((r) => r.outcome)),
      created: sum(results, 'created'),
      updated: sum(results, 'updated'),
      deleted: sum(results, 'deleted'),
      failed: sum(results, 'failed'),
      conflicts: sum(results, 'conflicts'),
      deferred,
      errors,
      durationMs: summary.durationMs,
    },
    'metadata sync run',
  );
  return summary;
}

function countBy(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function sum(rs: readonly MetadataSyncResult[], k: 'created' | 'updated' | 'deleted' | 'failed' | 'conflicts'): number {
  return rs.reduce((n, r) => n + r[k], 0);
}

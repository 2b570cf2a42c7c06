// LeaseStore and CheckpointStore on SQL: one module because they fence each other — a lease is
// granted under the flow's shard plan, and a checkpoint write is accepted only while its writer's
// lease (and that lease's plan generation) is current.
import { FerryError } from '../../errors.ts';
import type { SqlExecutor } from '../executor.ts';
import type {
  CatchUpBaseline,
  Checkpoint,
  CheckpointEntry,
  CheckpointStore,
  Lease,
  LeaseHolder,
  LeaseKey,
  LeaseRequest,
  LeaseStore,
  RuntimeLoad,
  ShardPlan,
  ShardStats,
} from '../ports/leases.ts';
import type { OffsetPairEntry } from '../ports/offsets.ts';
import { insertOffsetPairs } from './offsets.ts';
import { DB_NOW_MS, lastPerKey, requireCount, requireNonNegative, taskMustExist } from './common.ts';

interface LeaseDbRow {
  task_id: string;
  flow: string;
  shard: number;
  owner: string;
  epoch: number;
  expires_at_ms: number;
  generation: number;
  lag: number | null;
  rate: number | null;
}

interface ShardPlanDbRow {
  task_id: string;
  flow: string;
  shard_count: number;
  generation: number;
  changed_at_ms: number;
}

interface CheckpointDbRow {
  task_id: string;
  flow: string;
  topic: string;
  broker: string;
  queue_id: number;
  next_offset: number;
  epoch: number;
  exact: boolean;
  updated_at: Date;
}

const toLease = (r: LeaseDbRow): Lease => ({
  taskId: r.task_id,
  flow: r.flow,
  shard: r.shard,
  owner: r.owner,
  epoch: r.epoch,
  generation: r.generation,
  expiresAtMs: r.expires_at_ms,
  lag: r.lag,
  rate: r.rate,
});

const toShardPlan = (r: ShardPlanDbRow): ShardPlan => ({
  taskId: r.task_id,
  flow: r.flow,
  shardCount: r.shard_count,
  generation: r.generation,
  changedAtMs: r.changed_at_ms,
});

const toCheckpoint = (r: CheckpointDbRow): Checkpoint => ({
  taskId: r.task_id,
  flow: r.flow,
  topic: r.topic,
  broker: r.broker,
  queueId: r.queue_id,
  nextOffset: r.next_offset,
  epoch: r.epoch,
  exact: r.exact,
  updatedAt: r.updated_at,
});

const checkpointJson = (entries: readonly CheckpointEntry[]): string => {
  const unique = lastPerKey(entries, (e) => JSON.stringify([e.topic, e.broker, e.queueId]));
  return JSON.stringify(
    unique.map((e) => ({
      topic: e.topic,
      broker: e.broker,
      queue_id: requireNonNegative(e.queueId, 'queueId'),
      next_offset: requireNonNegative(e.nextOffset, 'nextOffset'),
      exact: e.exact === true,
      baseline_end: e.baselineEnd === undefined ? null : requireNonNegative(e.baselineEnd, 'baselineEnd'),
    })),
  );
};

const UPSERT_CHECKPOINTS = `
  INSERT INTO checkpoints (task_id, flow, topic, broker, queue_id, next_offset, epoch, exact, updated_at)
  SELECT $1, $2, e.topic, e.broker, e.queue_id, e.next_offset, $3, e.exact, clock_timestamp()
  FROM jsonb_to_recordset($4::jsonb) AS e(topic text, broker text, queue_id integer, next_offset bigint, exact boolean)
  ON CONFLICT (task_id, flow, topic, broker, queue_id) DO UPDATE
  SET next_offset = excluded.next_offset, epoch = excluded.epoch, exact = excluded.exact, updated_at = excluded.updated_at`;

// Start-offset capture: a baseline_end also (re)sets the queue's catch-up baseline; without one it is cleared.
const SET_CHECKPOINTS = `
  INSERT INTO checkpoints AS c (task_id, flow, topic, broker, queue_id, next_offset, epoch, exact, updated_at,
    baseline_offset, baseline_end, baseline_at_ms)
  SELECT $1, $2, e.topic, e.broker, e.queue_id, e.next_offset, 0, e.exact, clock_timestamp(),
    CASE WHEN e.baseline_end IS NULL THEN NULL ELSE e.next_offset END, e.baseline_end,
    CASE WHEN e.baseline_end IS NULL THEN NULL ELSE ${DB_NOW_MS} END
  FROM jsonb_to_recordset($3::jsonb) AS e(topic text, broker text, queue_id integer, next_offset bigint, exact boolean, baseline_end bigint)
  ON CONFLICT (task_id, flow, topic, broker, queue_id) DO UPDATE
  SET next_offset = excluded.next_offset, epoch = excluded.epoch, exact = excluded.exact, updated_at = excluded.updated_at,
    baseline_offset = excluded.baseline_offset, baseline_end = excluded.baseline_end, baseline_at_ms = excluded.baseline_at_ms`;

const CATCH_UP = `
  SELECT flow, min(baseline_at_ms) AS since_ms, count(*)::int AS queues,
    sum(GREATEST(baseline_end - baseline_offset, 0))::bigint AS backlog,
    sum(LEAST(GREATEST(next_offset, baseline_offset), GREATEST(baseline_end, baseline_offset)) - baseline_offset)::bigint AS done
  FROM checkpoints WHERE task_id = $1 AND baseline_end IS NOT NULL GROUP BY flow ORDER BY flow`;

/** The flow's current plan generation (0 without a plan), share-locked so a change of plan waits for the caller's transaction. */
const PLAN_GENERATION = `SELECT generation, shard_count FROM shard_plans WHERE task_id = $1 AND flow = $2 FOR SHARE`;

export const sqlLeaseStore = (db: SqlExecutor): LeaseStore => ({
  async acquireLease(request: LeaseRequest): Promise<{ epoch: number } | null> {
    const ttlMs = requireCount(request.ttlMs, 'ttlMs');
    const generation = requireNonNegative(request.generation ?? 0, 'generation');
    return taskMustExist(request.taskId, () =>
      db.transaction(async (tx) => {
        // The plan row stays share-locked until commit: a change of plan waits for this tenure to
        // be visible, so whoever checks for live leases of the old generation afterwards sees it.
        const [plan] = await tx.query<{ generation: number; shard_count: number }>(PLAN_GENERATION, [request.taskId, request.flow]);
        if ((plan?.generation ?? 0) !== generation || (plan && request.shard >= plan.shard_count)) return null;
        const older = await tx.query(
          `SELECT 1 FROM leases WHERE task_id = $1 AND flow = $2 AND generation <> $3 AND expires_at_ms >= ${DB_NOW_MS} LIMIT 1`,
          [request.taskId, request.flow, generation],
        );
        if (older.length > 0) return null;
        // A racer for the same shard that loses the insert waits for the winner's row lock, then
        // re-evaluates the WHERE against the winner's row and gets nothing.
        const [row] = await tx.query<{ epoch: number }>(
          `INSERT INTO leases AS l (task_id, flow, shard, owner, epoch, expires_at_ms, generation)
           VALUES ($1, $2, $3, $4, 1, ${DB_NOW_MS} + $5::bigint, $6)
           ON CONFLICT (task_id, flow, shard) DO UPDATE
           SET owner = excluded.owner, epoch = l.epoch + 1, expires_at_ms = ${DB_NOW_MS} + $5::bigint,
               generation = excluded.generation, lag = NULL, rate = NULL
           WHERE l.expires_at_ms < ${DB_NOW_MS} OR l.owner = excluded.owner
           RETURNING l.epoch`,
          [request.taskId, request.flow, request.shard, request.owner, ttlMs, generation],
        );
        return row ? { epoch: row.epoch } : null;
      }),
    );
  },

  async renewLease(key: LeaseKey, owner: string, epoch: number, ttlMs: number, stats?: ShardStats): Promise<boolean> {
    // An expired lease nobody has taken yet can still be renewed: its epoch is still the newest,
    // so nothing this holder writes can be stale — unless the flow's plan moved on.
    const rows = await db.query(
      `UPDATE leases l SET expires_at_ms = ${DB_NOW_MS} + $6::bigint,
         lag = CASE WHEN $7::boolean THEN $8::bigint ELSE l.lag END,
         rate = CASE WHEN $7::boolean THEN $9::double precision ELSE l.rate END
       WHERE task_id = $1 AND flow = $2 AND shard = $3 AND owner = $4 AND epoch = $5
         AND generation = coalesce((SELECT p.generation FROM shard_plans p WHERE p.task_id = $1 AND p.flow = $2), 0)
       RETURNING 1`,
      [
        key.taskId,
        key.flow,
        key.shard,
        owner,
        epoch,
        requireCount(ttlMs, 'ttlMs'),
        stats !== undefined,
        stats?.lag ?? null,
        stats?.rate ?? null,
      ],
    );
    return rows.length > 0;
  },

  async releaseLease(key: LeaseKey, owner: string, epoch: number): Promise<boolean> {
    const rows = await db.query(
      `UPDATE leases SET expires_at_ms = ${DB_NOW_MS} - 1
       WHERE task_id = $1 AND flow = $2 AND shard = $3 AND owner = $4 AND epoch = $5
       RETURNING 1`,
      [key.taskId, key.flow, key.shard, owner, epoch],
    );
    return rows.length > 0;
  },

  async listLeases(taskId: string): Promise<Lease[]> {
    const rows = await db.query<LeaseDbRow>('SELECT * FROM leases WHERE task_id = $1 ORDER BY flow, shard', [taskId]);
    return rows.map(toLease);
  },

  async heartbeatRuntime(id: string, ttlMs: number): Promise<RuntimeLoad[]> {
    requireNonNegative(ttlMs, 'ttlMs');
    await db.query(
      `INSERT INTO runtimes (id, seen_at_ms) VALUES ($1, ${DB_NOW_MS})
       ON CONFLICT (id) DO UPDATE SET seen_at_ms = EXCLUDED.seen_at_ms`,
      [id],
    );
    // Runtimes gone for a long while are forgotten (an id is a host and a pid: never seen again).
    await db.query(`DELETE FROM runtimes WHERE seen_at_ms < ${DB_NOW_MS} - $1::bigint * 10`, [ttlMs]);
    return db.query<RuntimeLoad>(
      `SELECT r.id, (SELECT count(*)::int FROM leases l
                     WHERE l.expires_at_ms >= ${DB_NOW_MS} AND left(l.owner, length(r.id) + 1) = r.id || '-') AS leases
       FROM runtimes r WHERE r.seen_at_ms >= ${DB_NOW_MS} - $1::bigint ORDER BY r.id`,
      [ttlMs],
    );
  },

  async liveLeaseCount(taskId: string): Promise<number> {
    const [row] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM leases WHERE task_id = $1 AND expires_at_ms >= ${DB_NOW_MS}`,
      [taskId],
    );
    return row?.n ?? 0;
  },

  async fenceLeases(taskId: string): Promise<number> {
    const rows = await db.query(
      `UPDATE leases SET epoch = epoch + 1, expires_at_ms = LEAST(expires_at_ms, ${DB_NOW_MS} - 1) WHERE task_id = $1 RETURNING 1`,
      [taskId],
    );
    return rows.length;
  },

  async getShardPlans(taskId: string): Promise<ShardPlan[]> {
    const rows = await db.query<ShardPlanDbRow>('SELECT * FROM shard_plans WHERE task_id = $1 ORDER BY flow', [taskId]);
    return rows.map(toShardPlan);
  },

  async setShardCount(taskId: string, flow: string, shardCount: number): Promise<ShardPlan> {
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 256) {
      throw new FerryError('VALIDATION_FAILED', 'shardCount must be an integer from 1 to 256', 'shardCount');
    }
    const [row] = await taskMustExist(taskId, () =>
      db.query<ShardPlanDbRow>(
        `INSERT INTO shard_plans AS p (task_id, flow, shard_count, generation, changed_at_ms)
         VALUES ($1, $2, $3, 1, ${DB_NOW_MS})
         ON CONFLICT (task_id, flow) DO UPDATE
         SET shard_count = excluded.shard_count, generation = p.generation + 1, changed_at_ms = excluded.changed_at_ms
         WHERE p.shard_count <> excluded.shard_count
         RETURNING *`,
        [taskId, flow, shardCount],
      ),
    );
    if (row) return toShardPlan(row);
    // Unchanged count: the plan stays as it is.
    const [same] = await db.query<ShardPlanDbRow>('SELECT * FROM shard_plans WHERE task_id = $1 AND flow = $2', [taskId, flow]);
    return toShardPlan(same!);
  },
});

export const sqlCheckpointStore = (db: SqlExecutor): CheckpointStore => ({
  saveCheckpoints(holder: LeaseHolder, entries: readonly CheckpointEntry[], pairs: readonly OffsetPairEntry[] = []): Promise<void> {
    const payload = checkpointJson(entries);
    return db.transaction(async (tx) => {
      // The row lock holds off any takeover until this transaction commits, so the epoch checked
      // here is still current when the offsets land.
      const [plan] = await tx.query<{ generation: number }>(PLAN_GENERATION, [holder.taskId, holder.flow]);
      const [lease] = await tx.query<{ owner: string; epoch: number; generation: number }>(
        'SELECT owner, epoch, generation FROM leases WHERE task_id = $1 AND flow = $2 AND shard = $3 FOR UPDATE',
        [holder.taskId, holder.flow, holder.shard],
      );
      if (lease && lease.generation !== (plan?.generation ?? 0)) {
        throw new FerryError(
          'STALE_EPOCH',
          `lease ${holder.taskId}/${holder.flow}/${holder.shard} belongs to shard layout ${lease.generation}, now ${plan?.generation ?? 0}`,
        );
      }
      if (!lease || lease.owner !== holder.owner || lease.epoch !== holder.epoch) {
        throw new FerryError(
          'STALE_EPOCH',
          lease
            ? `lease ${holder.taskId}/${holder.flow}/${holder.shard} is held by ${lease.owner} at epoch ${lease.epoch}, not ` +
                `${holder.owner} at ${holder.epoch}`
            : `lease ${holder.taskId}/${holder.flow}/${holder.shard} no longer exists`,
        );
      }
      if (entries.length > 0) await tx.query(UPSERT_CHECKPOINTS, [holder.taskId, holder.flow, holder.epoch, payload]);
      await insertOffsetPairs(tx, holder.taskId, holder.flow, pairs);
    });
  },

  async getCheckpoints(taskId: string, flow: string): Promise<Checkpoint[]> {
    const rows = await db.query<CheckpointDbRow>(
      'SELECT * FROM checkpoints WHERE task_id = $1 AND flow = $2 ORDER BY topic, broker, queue_id',
      [taskId, flow],
    );
    return rows.map(toCheckpoint);
  },

  async countCheckpoints(taskId: string): Promise<Record<string, number>> {
    const rows = await db.query<{ flow: string; n: number }>(
      'SELECT flow, count(*)::int AS n FROM checkpoints WHERE task_id = $1 GROUP BY flow',
      [taskId],
    );
    return Object.fromEntries(rows.map((r) => [r.flow, r.n]));
  },

  async setCheckpoints(taskId: string, flow: string, entries: readonly CheckpointEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const payload = checkpointJson(entries);
    await taskMustExist(taskId, () => db.query(SET_CHECKPOINTS, [taskId, flow, payload]));
  },

  async catchUpBaselines(taskId: string): Promise<CatchUpBaseline[]> {
    const rows = await db.query<{
      flow: string;
      since_ms: string | number;
      queues: number;
      backlog: string | number;
      done: string | number;
    }>(CATCH_UP, [taskId]);
    return rows.map((r) => ({
      flow: r.flow,
      sinceMs: Number(r.since_ms),
      queues: r.queues,
      backlog: Number(r.backlog),
      done: Number(r.done),
    }));
  },
});

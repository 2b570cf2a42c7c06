// The one Store implementation. It speaks plain PostgreSQL through SqlExecutor, so the deployed
// (pg) and embedded (PGlite) adapters run exactly the same statements. Bulk writes pass their
// rows as one jsonb document (jsonb_to_recordset) because both drivers agree on JSON text,
// whereas JS-array parameter encoding differs between them.
import { FerryError } from '../errors.ts';
import type { SqlDatabase, SqlExecutor, SqlParam } from './executor.ts';
import type {
  ApiToken,
  AuditEvent,
  Checkpoint,
  CheckpointEntry,
  ClusterSide,
  DesiredState,
  Lease,
  LeaseHolder,
  LeaseKey,
  LeaseRequest,
  ShardPlan,
  ShardStats,
  ListParkedQuery,
  ListTasksQuery,
  MetadataAction,
  MetadataItem,
  MetadataItemOutcome,
  MetadataItemStatus,
  MetadataKind,
  MetadataSnapshot,
  MetricsDelta,
  MetricsRow,
  NewApiToken,
  NewAuditEvent,
  NewParkedMessage,
  NewTask,
  Page,
  ParkedMessage,
  Store,
  SyncDirection,
  TaskPatch,
  TaskRow,
  TaskStatus,
} from './store.ts';

/** Database clock in epoch milliseconds. clock_timestamp(), not now(): now() is frozen for the
 *  whole transaction, and lease expiry must be judged at the moment the row lock is held. */
const DB_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

const MAX_PAGE = 1000;
const MINUTE_MS = 60_000;

// ── row shapes as the database returns them ────────────────────────────────

interface TaskDbRow {
  id: string;
  tenant: string;
  name: string;
  spec: unknown;
  desired_state: string;
  status: string;
  status_reason: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  start_offsets_captured: boolean;
}

interface AuditDbRow {
  id: number;
  task_id: string;
  tenant: string;
  actor: string;
  action: string;
  at: Date;
  before: unknown;
  after: unknown;
}

interface TokenDbRow {
  token_hash: string;
  tenant: string;
  role: string;
  label: string;
  created_at: Date;
  revoked_at: Date | null;
}

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

interface MetricsDbRow {
  task_id: string;
  flow: string;
  minute_ms: number;
  consumed: number;
  replicated: number;
  filtered: number;
  loop_skipped: number;
  failed: number;
  throttled: number;
  lag: number | null;
  delay_p50_ms: number | null;
  delay_p99_ms: number | null;
  delay_max_ms: number | null;
}

interface ParkedDbRow {
  id: number;
  task_id: string;
  flow: string;
  topic: string;
  broker: string;
  queue_id: number;
  queue_offset: number;
  reason: string;
  payload: Uint8Array | null;
  payload_size: number;
  properties: Record<string, string>;
  flag: number;
  born_timestamp: number | null;
  parked_at: Date;
  retry_requested_at: Date | null;
  resolved_at: Date | null;
}

interface SnapshotDbRow {
  task_id: string;
  cluster_side: string;
  taken_at: Date;
  items: unknown;
}

interface MetadataItemDbRow {
  task_id: string;
  kind: string;
  name: string;
  direction: string;
  action: string;
  status: string;
  error: string | null;
  synced_at: Date;
}

// ── mapping ────────────────────────────────────────────────────────────────

const toTask = (r: TaskDbRow): TaskRow => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  spec: r.spec,
  desiredState: r.desired_state as DesiredState,
  status: r.status as TaskStatus,
  statusReason: r.status_reason,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  startOffsetsCaptured: r.start_offsets_captured,
});

const toAudit = (r: AuditDbRow): AuditEvent => ({
  id: r.id,
  taskId: r.task_id,
  tenant: r.tenant,
  actor: r.actor,
  action: r.action,
  at: r.at,
  before: r.before,
  after: r.after,
});

const toToken = (r: TokenDbRow): ApiToken => ({
  tokenHash: r.token_hash,
  tenant: r.tenant,
  role: r.role,
  label: r.label,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

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

const toMetrics = (r: MetricsDbRow): MetricsRow => ({
  taskId: r.task_id,
  flow: r.flow,
  minuteMs: r.minute_ms,
  consumed: r.consumed,
  replicated: r.replicated,
  filtered: r.filtered,
  loopSkipped: r.loop_skipped,
  failed: r.failed,
  throttled: r.throttled,
  lag: r.lag,
  delayP50Ms: r.delay_p50_ms,
  delayP99Ms: r.delay_p99_ms,
  delayMaxMs: r.delay_max_ms,
});

// pg hands bytea back as a Buffer, PGlite as a Uint8Array; callers get a plain Uint8Array from both.
const plainBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const toParked = (r: ParkedDbRow): ParkedMessage => ({
  id: r.id,
  taskId: r.task_id,
  flow: r.flow,
  topic: r.topic,
  broker: r.broker,
  queueId: r.queue_id,
  queueOffset: r.queue_offset,
  reason: r.reason,
  ...(r.payload === null ? {} : { payload: plainBytes(r.payload) }),
  payloadSize: r.payload_size,
  properties: r.properties,
  flag: r.flag,
  bornTimestamp: r.born_timestamp,
  parkedAt: r.parked_at,
  retryRequestedAt: r.retry_requested_at,
  resolvedAt: r.resolved_at,
});

const toMetadataItem = (r: MetadataItemDbRow): MetadataItem => ({
  taskId: r.task_id,
  kind: r.kind as MetadataKind,
  name: r.name,
  direction: r.direction as SyncDirection,
  action: r.action as MetadataAction,
  status: r.status as MetadataItemStatus,
  error: r.error,
  syncedAt: r.synced_at,
});

// ── helpers ────────────────────────────────────────────────────────────────

/** jsonb parameters go in as JSON text: pg would otherwise encode a JS array as a PG array. */
const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

const requireCount = (value: number, field: string, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new FerryError('VALIDATION_FAILED', `${field} must be an integer between 1 and ${max}`, field);
  }
  return value;
};

const requireNonNegative = (value: number, field: string): number => {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new FerryError('VALIDATION_FAILED', `${field} must be a non-negative integer`, field);
  }
  return value;
};

const PG_FOREIGN_KEY_VIOLATION = '23503';

const isForeignKeyViolation = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && 'code' in err && err.code === PG_FOREIGN_KEY_VIOLATION;

/** Rows hanging off a task reference it; writing for a vanished task is NOT_FOUND, not a crash. */
const taskMustExist = async <T>(taskId: string | readonly string[], write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (err) {
    if (isForeignKeyViolation(err)) {
      const ids = typeof taskId === 'string' ? taskId : taskId.join(', ');
      throw new FerryError('NOT_FOUND', `task ${ids} not found`, undefined, { cause: err });
    }
    throw err;
  }
};

// Keyset cursor: the last row's created_at at full microsecond precision (a JS Date would round
// to milliseconds and repeat or skip rows) plus its id to break ties.
const CREATED_AT_TEXT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const encodeCursor = (createdAt: string, id: string): string =>
  Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');

const decodeCursor = (cursor: string): [string, string] => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(parsed[0]) &&
      typeof parsed[1] === 'string'
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // fall through to the typed error
  }
  throw new FerryError('VALIDATION_FAILED', 'cursor is not one this service issued', 'cursor');
};

/** Which patch fields map to which columns, and how each value is cast. */
const TASK_PATCH_COLUMNS = {
  name: { column: 'name', cast: 'text' },
  spec: { column: 'spec', cast: 'jsonb' },
  desiredState: { column: 'desired_state', cast: 'text' },
  status: { column: 'status', cast: 'text' },
  statusReason: { column: 'status_reason', cast: 'text' },
  startOffsetsCaptured: { column: 'start_offsets_captured', cast: 'boolean' },
} as const satisfies Record<keyof TaskPatch, { column: string; cast: string }>;

const patchParam = (key: keyof TaskPatch, patch: TaskPatch): SqlParam => {
  switch (key) {
    case 'spec':
      return json(patch.spec);
    case 'statusReason':
      return patch.statusReason ?? null;
    default:
      return patch[key] ?? null;
  }
};

/**
 * Last write wins for duplicate keys inside one bulk call: a single INSERT ... ON CONFLICT DO
 * UPDATE may not touch the same row twice.
 */
const lastPerKey = <T>(rows: readonly T[], key: (row: T) => string): T[] => {
  const byKey = new Map<string, T>();
  for (const row of rows) byKey.set(key(row), row);
  return [...byKey.values()];
};

const checkpointJson = (entries: readonly CheckpointEntry[]): string => {
  const unique = lastPerKey(entries, (e) => JSON.stringify([e.topic, e.broker, e.queueId]));
  return JSON.stringify(
    unique.map((e) => ({
      topic: e.topic,
      broker: e.broker,
      queue_id: requireNonNegative(e.queueId, 'queueId'),
      next_offset: requireNonNegative(e.nextOffset, 'nextOffset'),
      exact: e.exact === true,
    })),
  );
};

const UPSERT_CHECKPOINTS = `
  INSERT INTO checkpoints (task_id, flow, topic, broker, queue_id, next_offset, epoch, exact, updated_at)
  SELECT $1, $2, e.topic, e.broker, e.queue_id, e.next_offset, $3, e.exact, clock_timestamp()
  FROM jsonb_to_recordset($4::jsonb) AS e(topic text, broker text, queue_id integer, next_offset bigint, exact boolean)
  ON CONFLICT (task_id, flow, topic, broker, queue_id) DO UPDATE
  SET next_offset = excluded.next_offset, epoch = excluded.epoch, exact = excluded.exact, updated_at = excluded.updated_at`;

/** The flow's current plan generation (0 without a plan), share-locked so a change of plan waits for the caller's transaction. */
const PLAN_GENERATION = `SELECT generation, shard_count FROM shard_plans WHERE task_id = $1 AND flow = $2 FOR SHARE`;

const PARKED_COLUMNS = `id, task_id, flow, topic, broker, queue_id, queue_offset, reason, properties, flag, born_timestamp,
  octet_length(payload) AS payload_size, parked_at, retry_requested_at, resolved_at`;

// ── the store ──────────────────────────────────────────────────────────────

export class SqlStore implements Store {
  /**
   * @param db the executor every statement runs on (a pool/instance, or a transaction)
   * @param owner the database to close; absent for a store bound to a transaction
   */
  constructor(
    private readonly db: SqlExecutor,
    private readonly owner?: SqlDatabase,
  ) {}

  // ── tasks ──

  async insertTask(task: NewTask): Promise<TaskRow> {
    const [row] = await this.db.query<TaskDbRow>(
      `INSERT INTO tasks (id, tenant, name, spec, desired_state, status, status_reason,
                          start_offsets_captured, created_at, updated_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8,
               coalesce($9::timestamptz, clock_timestamp()), coalesce($9::timestamptz, clock_timestamp()))
       RETURNING *`,
      [
        task.id,
        task.tenant,
        task.name,
        json(task.spec),
        task.desiredState,
        task.status,
        task.statusReason ?? null,
        task.startOffsetsCaptured ?? false,
        task.createdAt ?? null,
      ],
    );
    return toTask(row!);
  }

  async getTask(tenant: string, id: string): Promise<TaskRow | null> {
    const [row] = await this.db.query<TaskDbRow>('SELECT * FROM tasks WHERE tenant = $1 AND id = $2', [
      tenant,
      id,
    ]);
    return row ? toTask(row) : null;
  }

  async listTasks(tenant: string, query: ListTasksQuery): Promise<Page<TaskRow>> {
    const limit = requireCount(query.limit, 'limit', MAX_PAGE);
    const [afterCreated, afterId] = query.cursor === undefined ? [null, null] : decodeCursor(query.cursor);
    // One row beyond the page tells whether there is a next page without a count query.
    const rows = await this.db.query<TaskDbRow & { cursor_created_at: string }>(
      `SELECT *, ${CREATED_AT_TEXT} AS cursor_created_at
       FROM tasks
       WHERE tenant = $1
         AND ($2::text IS NULL OR status = $2::text)
         AND ($3::text IS NULL OR strpos(lower(name), lower($3::text)) > 0)
         AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, $5::text))
       ORDER BY created_at DESC, id DESC
       LIMIT $6`,
      [tenant, query.status ?? null, query.name ?? null, afterCreated, afterId, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toTask),
      nextCursor: rows.length > limit && last ? encodeCursor(last.cursor_created_at, last.id) : null,
    };
  }

  async listAllTasks(): Promise<TaskRow[]> {
    const rows = await this.db.query<TaskDbRow>('SELECT * FROM tasks ORDER BY created_at, id');
    return rows.map(toTask);
  }

  async updateTask(tenant: string, id: string, expectedVersion: number, patch: TaskPatch): Promise<TaskRow> {
    const sets: string[] = [];
    const params: SqlParam[] = [tenant, id, expectedVersion];
    for (const key of Object.keys(TASK_PATCH_COLUMNS) as (keyof TaskPatch)[]) {
      if (patch[key] === undefined) continue;
      const { column, cast } = TASK_PATCH_COLUMNS[key];
      params.push(patchParam(key, patch));
      sets.push(`${column} = $${params.length}::${cast}`);
    }
    const [row] = await this.db.query<TaskDbRow>(
      `UPDATE tasks
       SET ${[...sets, 'version = version + 1', 'updated_at = clock_timestamp()'].join(', ')}
       WHERE tenant = $1 AND id = $2 AND version = $3
       RETURNING *`,
      params,
    );
    if (row) return toTask(row);
    const current = await this.getTask(tenant, id);
    if (!current) throw new FerryError('NOT_FOUND', `task ${id} not found`);
    throw new FerryError(
      'CONFLICT',
      `task ${id} was changed concurrently (version ${current.version}, expected ${expectedVersion})`,
    );
  }

  deleteTask(tenant: string, id: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Locking the task row first blocks concurrent writers of child rows (their foreign-key
      // check needs a key-share lock on it), so nothing can slip in between the deletes.
      const found = await tx.query('SELECT 1 FROM tasks WHERE tenant = $1 AND id = $2 FOR UPDATE', [tenant, id]);
      if (found.length === 0) return false;
      for (const table of ['leases', 'shard_plans', 'checkpoints', 'metrics', 'parked_messages', 'metadata_snapshots', 'metadata_items']) {
        await tx.query(`DELETE FROM ${table} WHERE task_id = $1`, [id]);
      }
      await tx.query('DELETE FROM tasks WHERE id = $1', [id]);
      return true;
    });
  }

  // ── audit ──

  async appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    const [row] = await this.db.query<AuditDbRow>(
      `INSERT INTO audit_events (task_id, tenant, actor, action, before, after)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
       RETURNING *`,
      [event.taskId, event.tenant, event.actor, event.action, json(event.before ?? null), json(event.after ?? null)],
    );
    return toAudit(row!);
  }

  async listAudit(tenant: string, taskId: string, query: { limit: number }): Promise<AuditEvent[]> {
    const rows = await this.db.query<AuditDbRow>(
      'SELECT * FROM audit_events WHERE task_id = $1 AND tenant = $2 ORDER BY id DESC LIMIT $3',
      [taskId, tenant, requireCount(query.limit, 'limit', MAX_PAGE)],
    );
    return rows.map(toAudit);
  }

  // ── tokens ──

  async insertToken(token: NewApiToken): Promise<ApiToken> {
    const [row] = await this.db.query<TokenDbRow>(
      'INSERT INTO api_tokens (token_hash, tenant, role, label) VALUES ($1, $2, $3, $4) RETURNING *',
      [token.tokenHash, token.tenant, token.role, token.label],
    );
    return toToken(row!);
  }

  async findToken(tokenHash: string): Promise<ApiToken | null> {
    const [row] = await this.db.query<TokenDbRow>(
      'SELECT * FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL',
      [tokenHash],
    );
    return row ? toToken(row) : null;
  }

  async countTokens(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens');
    return row?.n ?? 0;
  }

  async revokeToken(tokenHash: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE api_tokens SET revoked_at = clock_timestamp()
       WHERE token_hash = $1 AND revoked_at IS NULL RETURNING 1`,
      [tokenHash],
    );
    return rows.length > 0;
  }

  // ── leases ──

  async acquireLease(request: LeaseRequest): Promise<{ epoch: number } | null> {
    const ttlMs = requireCount(request.ttlMs, 'ttlMs');
    const generation = requireNonNegative(request.generation ?? 0, 'generation');
    return taskMustExist(request.taskId, () =>
      this.db.transaction(async (tx) => {
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
  }

  async renewLease(key: LeaseKey, owner: string, epoch: number, ttlMs: number, stats?: ShardStats): Promise<boolean> {
    // An expired lease nobody has taken yet can still be renewed: its epoch is still the newest,
    // so nothing this holder writes can be stale — unless the flow's plan moved on.
    const rows = await this.db.query(
      `UPDATE leases l SET expires_at_ms = ${DB_NOW_MS} + $6::bigint,
         lag = CASE WHEN $7::boolean THEN $8::bigint ELSE l.lag END,
         rate = CASE WHEN $7::boolean THEN $9::double precision ELSE l.rate END
       WHERE task_id = $1 AND flow = $2 AND shard = $3 AND owner = $4 AND epoch = $5
         AND generation = coalesce((SELECT p.generation FROM shard_plans p WHERE p.task_id = $1 AND p.flow = $2), 0)
       RETURNING 1`,
      [key.taskId, key.flow, key.shard, owner, epoch, requireCount(ttlMs, 'ttlMs'), stats !== undefined, stats?.lag ?? null, stats?.rate ?? null],
    );
    return rows.length > 0;
  }

  async releaseLease(key: LeaseKey, owner: string, epoch: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE leases SET expires_at_ms = ${DB_NOW_MS} - 1
       WHERE task_id = $1 AND flow = $2 AND shard = $3 AND owner = $4 AND epoch = $5
       RETURNING 1`,
      [key.taskId, key.flow, key.shard, owner, epoch],
    );
    return rows.length > 0;
  }

  async listLeases(taskId: string): Promise<Lease[]> {
    const rows = await this.db.query<LeaseDbRow>(
      'SELECT * FROM leases WHERE task_id = $1 ORDER BY flow, shard',
      [taskId],
    );
    return rows.map(toLease);
  }

  // ── shard plans ──

  async getShardPlans(taskId: string): Promise<ShardPlan[]> {
    const rows = await this.db.query<ShardPlanDbRow>('SELECT * FROM shard_plans WHERE task_id = $1 ORDER BY flow', [taskId]);
    return rows.map(toShardPlan);
  }

  async setShardCount(taskId: string, flow: string, shardCount: number): Promise<ShardPlan> {
    if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > 256) {
      throw new FerryError('VALIDATION_FAILED', 'shardCount must be an integer from 1 to 256', 'shardCount');
    }
    const [row] = await taskMustExist(taskId, () =>
      this.db.query<ShardPlanDbRow>(
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
    const [same] = await this.db.query<ShardPlanDbRow>('SELECT * FROM shard_plans WHERE task_id = $1 AND flow = $2', [taskId, flow]);
    return toShardPlan(same!);
  }

  // ── checkpoints ──

  saveCheckpoints(holder: LeaseHolder, entries: readonly CheckpointEntry[]): Promise<void> {
    const payload = checkpointJson(entries);
    return this.db.transaction(async (tx) => {
      // The row lock holds off any takeover until this transaction commits, so the epoch checked
      // here is still current when the offsets land.
      const [plan] = await tx.query<{ generation: number }>(PLAN_GENERATION, [holder.taskId, holder.flow]);
      const [lease] = await tx.query<{ owner: string; epoch: number; generation: number }>(
        'SELECT owner, epoch, generation FROM leases WHERE task_id = $1 AND flow = $2 AND shard = $3 FOR UPDATE',
        [holder.taskId, holder.flow, holder.shard],
      );
      if (lease && lease.generation !== (plan?.generation ?? 0)) {
        throw new FerryError('STALE_EPOCH', `lease ${holder.taskId}/${holder.flow}/${holder.shard} belongs to shard layout ${lease.generation}, now ${plan?.generation ?? 0}`);
      }
      if (!lease || lease.owner !== holder.owner || lease.epoch !== holder.epoch) {
        throw new FerryError(
          'STALE_EPOCH',
          lease
            ? `lease ${holder.taskId}/${holder.flow}/${holder.shard} is held by ${lease.owner} at epoch ${lease.epoch}, not ${holder.owner} at ${holder.epoch}`
            : `lease ${holder.taskId}/${holder.flow}/${holder.shard} no longer exists`,
        );
      }
      if (entries.length === 0) return;
      await tx.query(UPSERT_CHECKPOINTS, [holder.taskId, holder.flow, holder.epoch, payload]);
    });
  }

  async getCheckpoints(taskId: string, flow: string): Promise<Checkpoint[]> {
    const rows = await this.db.query<CheckpointDbRow>(
      'SELECT * FROM checkpoints WHERE task_id = $1 AND flow = $2 ORDER BY topic, broker, queue_id',
      [taskId, flow],
    );
    return rows.map(toCheckpoint);
  }

  async countCheckpoints(taskId: string): Promise<Record<string, number>> {
    const rows = await this.db.query<{ flow: string; n: number }>('SELECT flow, count(*)::int AS n FROM checkpoints WHERE task_id = $1 GROUP BY flow', [taskId]);
    return Object.fromEntries(rows.map((r) => [r.flow, r.n]));
  }

  async setCheckpoints(taskId: string, flow: string, entries: readonly CheckpointEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const payload = checkpointJson(entries);
    await taskMustExist(taskId, () => this.db.query(UPSERT_CHECKPOINTS, [taskId, flow, 0, payload]));
  }

  // ── metrics ──

  async addMetrics(rows: readonly MetricsDelta[]): Promise<void> {
    if (rows.length === 0) return;
    // Deltas for the same bucket in one call are summed here first: one upsert statement may
    // not update the same row twice.
    const merged = new Map<string, MetricsDbRow>();
    for (const d of rows) {
      if (!Number.isSafeInteger(d.minuteMs) || d.minuteMs % MINUTE_MS !== 0) {
        throw new FerryError('VALIDATION_FAILED', 'minuteMs must be the start of a minute', 'minuteMs');
      }
      const key = JSON.stringify([d.taskId, d.flow, d.minuteMs]);
      const acc: MetricsDbRow = merged.get(key) ?? {
        task_id: d.taskId,
        flow: d.flow,
        minute_ms: d.minuteMs,
        consumed: 0,
        replicated: 0,
        filtered: 0,
        loop_skipped: 0,
        failed: 0,
        throttled: 0,
        lag: null,
        delay_p50_ms: null,
        delay_p99_ms: null,
        delay_max_ms: null,
      };
      acc.consumed += requireNonNegative(d.consumed ?? 0, 'consumed');
      acc.replicated += requireNonNegative(d.replicated ?? 0, 'replicated');
      acc.filtered += requireNonNegative(d.filtered ?? 0, 'filtered');
      acc.loop_skipped += requireNonNegative(d.loopSkipped ?? 0, 'loopSkipped');
      acc.failed += requireNonNegative(d.failed ?? 0, 'failed');
      acc.throttled += requireNonNegative(d.throttled ?? 0, 'throttled');
      acc.lag = d.lag ?? acc.lag;
      acc.delay_p50_ms = d.delayP50Ms ?? acc.delay_p50_ms;
      acc.delay_p99_ms = d.delayP99Ms ?? acc.delay_p99_ms;
      // The minute's maximum is the largest any writer saw; the other gauges are the latest word.
      acc.delay_max_ms = d.delayMaxMs == null ? acc.delay_max_ms : Math.max(d.delayMaxMs, acc.delay_max_ms ?? d.delayMaxMs);
      merged.set(key, acc);
    }
    const taskIds = [...new Set(rows.map((r) => r.taskId))];
    await taskMustExist(taskIds, () =>
      this.db.query(
        `INSERT INTO metrics AS m (task_id, flow, minute_ms, consumed, replicated, filtered, loop_skipped,
                                   failed, throttled, lag, delay_p50_ms, delay_p99_ms, delay_max_ms)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(
           task_id text, flow text, minute_ms bigint, consumed bigint, replicated bigint, filtered bigint,
           loop_skipped bigint, failed bigint, throttled bigint, lag bigint,
           delay_p50_ms double precision, delay_p99_ms double precision, delay_max_ms double precision)
         ON CONFLICT (task_id, flow, minute_ms) DO UPDATE SET
           consumed     = m.consumed + excluded.consumed,
           replicated   = m.replicated + excluded.replicated,
           filtered     = m.filtered + excluded.filtered,
           loop_skipped = m.loop_skipped + excluded.loop_skipped,
           failed       = m.failed + excluded.failed,
           throttled    = m.throttled + excluded.throttled,
           lag          = coalesce(excluded.lag, m.lag),
           delay_p50_ms = coalesce(excluded.delay_p50_ms, m.delay_p50_ms),
           delay_p99_ms = coalesce(excluded.delay_p99_ms, m.delay_p99_ms),
           delay_max_ms = greatest(excluded.delay_max_ms, m.delay_max_ms)`,
        [JSON.stringify([...merged.values()])],
      ),
    );
  }

  async queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]> {
    const rows = await this.db.query<MetricsDbRow>(
      `SELECT * FROM metrics WHERE task_id = $1 AND minute_ms >= $2 AND minute_ms < $3
       ORDER BY minute_ms, flow`,
      [taskId, fromMs, toMs],
    );
    return rows.map(toMetrics);
  }

  // ── parked messages ──

  async parkMessage(message: NewParkedMessage): Promise<number> {
    const rows = await taskMustExist(message.taskId, () =>
      this.db.query<{ id: number }>(
        `INSERT INTO parked_messages (task_id, flow, topic, broker, queue_id, queue_offset, reason, payload, properties, flag, born_timestamp)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9::jsonb, $10, $11)
         RETURNING id`,
        [
          message.taskId,
          message.flow,
          message.topic,
          message.broker,
          message.queueId,
          message.queueOffset,
          message.reason,
          message.payload,
          json(message.properties),
          message.flag ?? 0,
          message.bornTimestamp ?? null,
        ],
      ),
    );
    return rows[0]!.id;
  }

  async listParked(taskId: string, query: ListParkedQuery): Promise<ParkedMessage[]> {
    const rows = await this.db.query<ParkedDbRow>(
      `SELECT ${PARKED_COLUMNS}, CASE WHEN $2::boolean THEN payload END AS payload
       FROM parked_messages
       WHERE task_id = $1 AND ($3::boolean OR resolved_at IS NULL)
       ORDER BY id
       LIMIT $4`,
      [taskId, query.includePayload ?? false, query.includeResolved ?? false, requireCount(query.limit, 'limit', MAX_PAGE)],
    );
    return rows.map(toParked);
  }

  async requestRetry(taskId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `WITH marked AS (
         UPDATE parked_messages SET retry_requested_at = clock_timestamp()
         WHERE task_id = $1 AND resolved_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM marked`,
      [taskId],
    );
    return row?.n ?? 0;
  }

  async takeRetryBatch(taskId: string, flow: string, limit: number): Promise<ParkedMessage[]> {
    // SKIP LOCKED: a concurrent taker passes over rows being claimed instead of waiting for them
    // and then finding them already taken.
    const rows = await this.db.query<ParkedDbRow>(
      `UPDATE parked_messages SET retry_requested_at = NULL
       WHERE id IN (
         SELECT id FROM parked_messages
         WHERE task_id = $1 AND flow = $2 AND retry_requested_at IS NOT NULL AND resolved_at IS NULL
         ORDER BY id
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING ${PARKED_COLUMNS}, payload`,
      [taskId, flow, requireCount(limit, 'limit', MAX_PAGE)],
    );
    return rows.map(toParked).sort((a, b) => a.id - b.id);
  }

  async retryRequestedFlows(taskId: string): Promise<string[]> {
    const rows = await this.db.query<{ flow: string }>(
      'SELECT DISTINCT flow FROM parked_messages WHERE task_id = $1 AND retry_requested_at IS NOT NULL AND resolved_at IS NULL ORDER BY flow',
      [taskId],
    );
    return rows.map((r) => r.flow);
  }

  async countParked(taskId: string): Promise<Record<string, number>> {
    const rows = await this.db.query<{ flow: string; n: number }>(
      `SELECT flow, count(*)::int AS n FROM parked_messages WHERE task_id = $1 AND resolved_at IS NULL GROUP BY flow`,
      [taskId],
    );
    return Object.fromEntries(rows.map((r) => [r.flow, r.n]));
  }

  async resolveParked(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [row] = await this.db.query<{ n: number }>(
      `WITH resolved AS (
         UPDATE parked_messages SET resolved_at = clock_timestamp()
         WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) AND resolved_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM resolved`,
      [JSON.stringify(ids)],
    );
    return row?.n ?? 0;
  }

  // ── metadata sync ──

  async saveSnapshot(taskId: string, side: ClusterSide, items: unknown): Promise<void> {
    await taskMustExist(taskId, () =>
      this.db.query(
        `INSERT INTO metadata_snapshots (task_id, cluster_side, taken_at, items)
         VALUES ($1, $2, clock_timestamp(), $3::jsonb)
         ON CONFLICT (task_id, cluster_side) DO UPDATE SET taken_at = excluded.taken_at, items = excluded.items`,
        [taskId, side, json(items ?? null)],
      ),
    );
  }

  async getSnapshot(taskId: string, side: ClusterSide): Promise<MetadataSnapshot | null> {
    const [row] = await this.db.query<SnapshotDbRow>(
      'SELECT * FROM metadata_snapshots WHERE task_id = $1 AND cluster_side = $2',
      [taskId, side],
    );
    return row ? { taskId: row.task_id, side: row.cluster_side as ClusterSide, takenAt: row.taken_at, items: row.items } : null;
  }

  async upsertMetadataItems(taskId: string, items: readonly MetadataItemOutcome[]): Promise<void> {
    if (items.length === 0) return;
    const unique = lastPerKey(items, (i) => JSON.stringify([i.kind, i.name, i.direction]));
    await taskMustExist(taskId, () =>
      this.db.query(
        `INSERT INTO metadata_items AS mi (task_id, kind, name, direction, action, status, error, synced_at)
         SELECT $1, i.kind, i.name, i.direction, i.action, i.status, i.error, coalesce(i.synced_at, clock_timestamp())
         FROM jsonb_to_recordset($2::jsonb) AS i(
           kind text, name text, direction text, action text, status text, error text, synced_at timestamptz)
         ON CONFLICT (task_id, kind, name, direction) DO UPDATE SET
           action = excluded.action, status = excluded.status, error = excluded.error, synced_at = excluded.synced_at`,
        [
          taskId,
          JSON.stringify(
            unique.map((i) => ({
              kind: i.kind,
              name: i.name,
              direction: i.direction,
              action: i.action,
              status: i.status,
              error: i.error ?? null,
              synced_at: i.syncedAt?.toISOString() ?? null,
            })),
          ),
        ],
      ),
    );
  }

  async listMetadataItems(taskId: string): Promise<MetadataItem[]> {
    const rows = await this.db.query<MetadataItemDbRow>(
      'SELECT * FROM metadata_items WHERE task_id = $1 ORDER BY kind, name, direction',
      [taskId],
    );
    return rows.map(toMetadataItem);
  }

  // ── lifecycle ──

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  withTransaction<R>(fn: (store: Store) => Promise<R>): Promise<R> {
    return this.db.transaction((tx) => fn(new SqlStore(tx)));
  }

  async close(): Promise<void> {
    if (!this.owner) {
      throw new FerryError('INTERNAL', 'a transaction-bound store cannot be closed; close the store that opened it');
    }
    await this.owner.close();
  }
}

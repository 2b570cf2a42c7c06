// TaskStore on SQL. Rows are decoded as they leave the store: the spec with the tasks module's
// schema (stored form, secrets sealed) and the two state columns, which the schema leaves
// unconstrained. A row that does not decode is a FerryError('INTERNAL') naming the task and the
// field, never a TypeError somewhere downstream.
import { z } from 'zod';
import { FerryError } from '../../errors.ts';
import type { HealthRecord } from '../../tasks/health.ts';
import { describeIssue } from '../../tasks/issue.ts';
import { DesiredStateSchema, TaskSpecSchema, TaskStatusSchema, type TaskSpec } from '../../tasks/stored-task.ts';
import type { SqlExecutor, SqlParam } from '../executor.ts';
import type { ListAllTasksOptions, ListTasksQuery, NewTask, Page, TaskPatch, TaskRow, TaskStore } from '../ports/tasks.ts';
import { MAX_PAGE, json, requireCount } from './common.ts';

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

// ── decoding ───────────────────────────────────────────────────────────────

/** The columns whose shape the database does not guarantee, named as the row type names them. */
const DecodedColumns = z.object({ spec: TaskSpecSchema, desiredState: DesiredStateSchema, status: TaskStatusSchema });

const undecodable = (taskId: string, what: string, error: z.ZodError): FerryError => {
  const { field, message } = describeIssue(error.issues[0]!);
  return new FerryError('INTERNAL', `task ${taskId}: ${what} does not decode: ${message}`, field);
};

const toTask = (r: TaskDbRow): TaskRow => {
  const decoded = DecodedColumns.safeParse({ spec: r.spec, desiredState: r.desired_state, status: r.status });
  if (!decoded.success) throw undecodable(r.id, 'stored row', decoded.error);
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    spec: decoded.data.spec,
    desiredState: decoded.data.desiredState,
    status: decoded.data.status,
    statusReason: r.status_reason,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startOffsetsCaptured: r.start_offsets_captured,
  };
};

/** A spec is checked before it is written, so no row is stored that could not be read back. */
const encodeSpec = (taskId: string, spec: TaskSpec): string | null => {
  const checked = z.object({ spec: TaskSpecSchema }).safeParse({ spec });
  if (!checked.success) throw undecodable(taskId, 'the spec to store', checked.error);
  return json(spec);
};

// ── unique names ─────────────────────────────────────────────────────────────

/** The unique index on (tenant, name) (infra/migrations/003_unique_task_names.sql). */
const NAME_INDEX = 'tasks_tenant_name_key';

/** A write that would give a tenant two tasks of one name is CONFLICT naming the field, not a crash. */
const uniqueName = async <T>(name: string | undefined, write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (err) {
    const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
    if (e?.code === '23505' && (e.constraint === NAME_INDEX || String(e.message).includes(NAME_INDEX))) {
      throw new FerryError('CONFLICT', `a task named "${name}" already exists; task names are unique per tenant`, 'name', {
        cause: err,
      });
    }
    throw err;
  }
};

// ── keyset cursor ──────────────────────────────────────────────────────────

// The last row's created_at at full microsecond precision (a JS Date would round to milliseconds
// and repeat or skip rows) plus its id to break ties.
const CREATED_AT_TEXT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const encodeCursor = (createdAt: string, id: string): string => Buffer.from(JSON.stringify([createdAt, id]), 'utf8').toString('base64url');

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

// ── updates ────────────────────────────────────────────────────────────────

/** Which patch fields map to which columns, and how each value is cast. */
const TASK_PATCH_COLUMNS = {
  name: { column: 'name', cast: 'text' },
  spec: { column: 'spec', cast: 'jsonb' },
  desiredState: { column: 'desired_state', cast: 'text' },
  status: { column: 'status', cast: 'text' },
  statusReason: { column: 'status_reason', cast: 'text' },
  startOffsetsCaptured: { column: 'start_offsets_captured', cast: 'boolean' },
} as const satisfies Record<keyof TaskPatch, { column: string; cast: string }>;

const patchParam = (id: string, key: keyof TaskPatch, patch: TaskPatch): SqlParam => {
  switch (key) {
    case 'spec':
      return encodeSpec(id, patch.spec!);
    case 'statusReason':
      return patch.statusReason ?? null;
    default:
      return patch[key] ?? null;
  }
};

/** Tables whose rows hang off a task and go with it. */
const TASK_CHILD_TABLES = [
  'leases',
  'shard_plans',
  'checkpoints',
  'offset_pairs',
  'offset_syncs',
  'metrics',
  'topic_metrics',
  'parked_messages',
  'metadata_snapshots',
  'metadata_items',
];

// ── the port ───────────────────────────────────────────────────────────────

export const sqlTaskStore = (db: SqlExecutor): TaskStore => {
  const getTask = async (tenant: string, id: string): Promise<TaskRow | null> => {
    const [row] = await db.query<TaskDbRow>('SELECT * FROM tasks WHERE tenant = $1 AND id = $2', [tenant, id]);
    return row ? toTask(row) : null;
  };

  return {
    getTask,

    async insertTask(task: NewTask): Promise<TaskRow> {
      const spec = encodeSpec(task.id, task.spec);
      const [row] = await uniqueName(task.name, () =>
        db.query<TaskDbRow>(
          `INSERT INTO tasks (id, tenant, name, spec, desired_state, status, status_reason,
                            start_offsets_captured, created_at, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8,
                 coalesce($9::timestamptz, clock_timestamp()), coalesce($9::timestamptz, clock_timestamp()))
         RETURNING *`,
          [
            task.id,
            task.tenant,
            task.name,
            spec,
            task.desiredState,
            task.status,
            task.statusReason ?? null,
            task.startOffsetsCaptured ?? false,
            task.createdAt ?? null,
          ],
        ),
      );
      return toTask(row!);
    },

    async listTasks(tenant: string, query: ListTasksQuery): Promise<Page<TaskRow>> {
      const limit = requireCount(query.limit, 'limit', MAX_PAGE);
      const [afterCreated, afterId] = query.cursor === undefined ? [null, null] : decodeCursor(query.cursor);
      // One row beyond the page tells whether there is a next page without a count query.
      const rows = await db.query<TaskDbRow & { cursor_created_at: string }>(
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
    },

    async countTasks(tenant: string, upTo: number): Promise<number> {
      const rows = await db.query<{ n: string | number }>(
        'SELECT count(*) AS n FROM (SELECT 1 FROM tasks WHERE tenant = $1 LIMIT $2) AS held',
        [tenant, upTo],
      );
      return Number(rows[0]?.n ?? 0);
    },

    async listAllTasks(opts: ListAllTasksOptions = {}): Promise<TaskRow[]> {
      const rows = await db.query<TaskDbRow>('SELECT * FROM tasks ORDER BY created_at, id');
      if (!opts.onUndecodable) return rows.map(toTask);
      const tasks: TaskRow[] = [];
      for (const r of rows) {
        try {
          tasks.push(toTask(r));
        } catch (err) {
          if (!(err instanceof FerryError)) throw err;
          opts.onUndecodable(err);
        }
      }
      return tasks;
    },

    async updateTask(tenant: string, id: string, expectedVersion: number, patch: TaskPatch): Promise<TaskRow> {
      const sets: string[] = [];
      const params: SqlParam[] = [tenant, id, expectedVersion];
      for (const key of Object.keys(TASK_PATCH_COLUMNS) as (keyof TaskPatch)[]) {
        if (patch[key] === undefined) continue;
        const { column, cast } = TASK_PATCH_COLUMNS[key];
        params.push(patchParam(id, key, patch));
        sets.push(`${column} = $${params.length}::${cast}`);
      }
      const [row] = await uniqueName(patch.name, () =>
        db.query<TaskDbRow>(
          `UPDATE tasks
           SET ${[...sets, 'version = version + 1', 'updated_at = clock_timestamp()'].join(', ')}
           WHERE tenant = $1 AND id = $2 AND version = $3
           RETURNING *`,
          params,
        ),
      );
      if (row) return toTask(row);
      const current = await getTask(tenant, id);
      if (!current) throw new FerryError('NOT_FOUND', `task ${id} not found`);
      throw new FerryError('CONFLICT', `task ${id} was changed concurrently (version ${current.version}, expected ${expectedVersion})`);
    },

    async setTaskHealth(id: string, health: HealthRecord): Promise<boolean> {
      const rows = await db.query(
        `UPDATE tasks SET spec = jsonb_set(spec, '{health}', $2::jsonb) WHERE id = $1 AND status = 'running' RETURNING id`,
        [id, json(health)],
      );
      return rows.length > 0;
    },

    deleteTask(tenant: string, id: string): Promise<boolean> {
      return db.transaction(async (tx) => {
        // Locking the task row first blocks concurrent writers of child rows (their foreign-key
        // check needs a key-share lock on it), so nothing can slip in between the deletes.
        const found = await tx.query('SELECT 1 FROM tasks WHERE tenant = $1 AND id = $2 FOR UPDATE', [tenant, id]);
        if (found.length === 0) return false;
        for (const table of TASK_CHILD_TABLES) {
          await tx.query(`DELETE FROM ${table} WHERE task_id = $1`, [id]);
        }
        await tx.query('DELETE FROM tasks WHERE id = $1', [id]);
        return true;
      });
    },
  };
};

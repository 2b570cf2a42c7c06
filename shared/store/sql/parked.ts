// ParkedStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type { ListParkedQuery, NewParkedMessage, ParkedMessage, ParkedStore } from '../ports/parked.ts';
import { MAX_PAGE, json, requireCount, taskMustExist } from './common.ts';

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

const PARKED_COLUMNS = `id, task_id, flow, topic, broker, queue_id, queue_offset, reason, properties, flag, born_timestamp,
  octet_length(payload) AS payload_size, parked_at, retry_requested_at, resolved_at`;

export const sqlParkedStore = (db: SqlExecutor): ParkedStore => ({
  async parkMessage(message: NewParkedMessage): Promise<number> {
    const rows = await taskMustExist(message.taskId, () =>
      db.query<{ id: number }>(
        `INSERT INTO parked_messages (task_id, flow, topic, broker, queue_id, queue_offset, reason, payload, properties, flag, ` +
          `born_timestamp)
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
  },

  async listParked(taskId: string, query: ListParkedQuery): Promise<ParkedMessage[]> {
    const rows = await db.query<ParkedDbRow>(
      `SELECT ${PARKED_COLUMNS}, CASE WHEN $2::boolean THEN payload END AS payload
       FROM parked_messages
       WHERE task_id = $1 AND ($3::boolean OR resolved_at IS NULL)
       ORDER BY id
       LIMIT $4`,
      [taskId, query.includePayload ?? false, query.includeResolved ?? false, requireCount(query.limit, 'limit', MAX_PAGE)],
    );
    return rows.map(toParked);
  },

  async requestRetry(taskId: string): Promise<number> {
    const [row] = await db.query<{ n: number }>(
      `WITH marked AS (
         UPDATE parked_messages SET retry_requested_at = clock_timestamp()
         WHERE task_id = $1 AND resolved_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM marked`,
      [taskId],
    );
    return row?.n ?? 0;
  },

  async takeRetryBatch(taskId: string, flow: string, limit: number): Promise<ParkedMessage[]> {
    // SKIP LOCKED: a concurrent taker passes over rows being claimed instead of waiting for them
    // and then finding them already taken.
    const rows = await db.query<ParkedDbRow>(
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
  },

  async retryRequestedFlows(taskId: string): Promise<string[]> {
    const rows = await db.query<{ flow: string }>(
      'SELECT DISTINCT flow FROM parked_messages WHERE task_id = $1 AND retry_requested_at IS NOT NULL AND resolved_at IS NULL ' +
        'ORDER BY flow',
      [taskId],
    );
    return rows.map((r) => r.flow);
  },

  async countParked(taskId: string): Promise<Record<string, number>> {
    const rows = await db.query<{ flow: string; n: number }>(
      `SELECT flow, count(*)::int AS n FROM parked_messages WHERE task_id = $1 AND resolved_at IS NULL GROUP BY flow`,
      [taskId],
    );
    return Object.fromEntries(rows.map((r) => [r.flow, r.n]));
  },

  async resolveParked(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const [row] = await db.query<{ n: number }>(
      `WITH resolved AS (
         UPDATE parked_messages SET resolved_at = clock_timestamp()
         WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) AND resolved_at IS NULL
         RETURNING 1)
       SELECT count(*)::int AS n FROM resolved`,
      [JSON.stringify(ids)],
    );
    return row?.n ?? 0;
  },
});

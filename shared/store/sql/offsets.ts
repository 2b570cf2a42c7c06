// OffsetPairStore and OffsetSyncStore on SQL. Pairs are inserted by saveCheckpoints (leases.ts), inside
// its fenced transaction, through insertOffsetPairs below.
import { FerryError } from '../../errors.ts';
import type { SqlExecutor } from '../executor.ts';
import type {
  OffsetPair,
  OffsetPairEntry,
  OffsetPairQuery,
  OffsetPairStore,
  OffsetPairTargetQuery,
  OffsetSyncItem,
  OffsetSyncOutcome,
  OffsetSyncStatus,
  OffsetSyncStore,
} from '../ports/offsets.ts';
import { lastPerKey, requireNonNegative, taskMustExist } from './common.ts';

interface OffsetPairDbRow {
  task_id: string;
  flow: string;
  topic: string;
  broker: string;
  queue_id: number;
  source_offset: number;
  target_broker: string;
  target_queue_id: number;
  target_offset: number;
  recorded_at: Date;
}

interface OffsetSyncDbRow {
  task_id: string;
  flow: string;
  consumer_group: string;
  topic: string;
  broker: string;
  queue_id: number;
  source_offset: number;
  target_broker: string | null;
  target_queue_id: number | null;
  target_offset: number | null;
  status: string;
  error: string | null;
  synced_at: Date;
}

const toPair = (r: OffsetPairDbRow): OffsetPair => ({
  taskId: r.task_id,
  flow: r.flow,
  topic: r.topic,
  broker: r.broker,
  queueId: r.queue_id,
  sourceOffset: r.source_offset,
  targetBroker: r.target_broker,
  targetQueueId: r.target_queue_id,
  targetOffset: r.target_offset,
  recordedAt: r.recorded_at,
});

const toSync = (r: OffsetSyncDbRow): OffsetSyncItem => ({
  taskId: r.task_id,
  flow: r.flow,
  group: r.consumer_group,
  topic: r.topic,
  broker: r.broker,
  queueId: r.queue_id,
  sourceOffset: r.source_offset,
  targetBroker: r.target_broker,
  targetQueueId: r.target_queue_id,
  targetOffset: r.target_offset,
  status: r.status as OffsetSyncStatus,
  error: r.error,
  syncedAt: r.synced_at,
});

/** Inserts pairs (a later pair of the same source offset replaces the earlier one); a no-op without pairs. */
export async function insertOffsetPairs(db: SqlExecutor, taskId: string, flow: string, pairs: readonly OffsetPairEntry[]): Promise<void> {
  if (pairs.length === 0) return;
  const unique = lastPerKey(pairs, (p) => JSON.stringify([p.topic, p.broker, p.queueId, p.sourceOffset]));
  const payload = JSON.stringify(
    unique.map((p) => ({
      topic: p.topic,
      broker: p.broker,
      queue_id: requireNonNegative(p.queueId, 'queueId'),
      source_offset: requireNonNegative(p.sourceOffset, 'sourceOffset'),
      target_broker: p.targetBroker,
      target_queue_id: requireNonNegative(p.targetQueueId, 'targetQueueId'),
      target_offset: requireNonNegative(p.targetOffset, 'targetOffset'),
    })),
  );
  await db.query(
    `INSERT INTO offset_pairs (task_id, flow, topic, broker, queue_id, source_offset, target_broker, target_queue_id, target_offset)
     SELECT $1, $2, e.topic, e.broker, e.queue_id, e.source_offset, e.target_broker, e.target_queue_id, e.target_offset
     FROM jsonb_to_recordset($3::jsonb) AS e(
       topic text, broker text, queue_id integer, source_offset bigint, target_broker text, target_queue_id integer, target_offset bigint)
     ON CONFLICT (task_id, flow, topic, broker, queue_id, source_offset) DO UPDATE SET
       target_broker = excluded.target_broker, target_queue_id = excluded.target_queue_id,
       target_offset = excluded.target_offset, recorded_at = clock_timestamp()`,
    [taskId, flow, payload],
  );
}

const PAIR_COLUMNS = `p.task_id, p.flow, p.topic, p.broker, p.queue_id, p.source_offset, p.target_broker, p.target_queue_id,
  p.target_offset, p.recorded_at`;

/** Below this many offsets from a queue's newest pair every pair stays (translation there is as fine as recorded). */
const DEFAULT_DENSE_SPAN = 16_384;

export const sqlOffsetPairStore = (db: SqlExecutor): OffsetPairStore => ({
  seedOffsetPairs: (taskId, flow, pairs) => insertOffsetPairs(db, taskId, flow, pairs),

  async findOffsetPairs(taskId: string, flow: string, queries: readonly OffsetPairQuery[]): Promise<(OffsetPair | null)[]> {
    if (queries.length === 0) return [];
    const payload = JSON.stringify(
      queries.map((q, i) => ({ i, topic: q.topic, broker: q.broker, queue_id: q.queueId, source_offset: q.sourceOffset })),
    );
    const rows = await db.query<OffsetPairDbRow & { i: number }>(
      `SELECT q.i, ${PAIR_COLUMNS}
       FROM jsonb_to_recordset($3::jsonb) AS q(i integer, topic text, broker text, queue_id integer, source_offset bigint)
       JOIN LATERAL (
         SELECT * FROM offset_pairs x
         WHERE x.task_id = $1 AND x.flow = $2 AND x.topic = q.topic AND x.broker = q.broker AND x.queue_id = q.queue_id
           AND x.source_offset <= q.source_offset
         ORDER BY x.source_offset DESC LIMIT 1
       ) p ON true`,
      [taskId, flow, payload],
    );
    const out: (OffsetPair | null)[] = queries.map(() => null);
    for (const r of rows) out[r.i] = toPair(r);
    return out;
  },

  async findOffsetPairsByTarget(taskId: string, flow: string, queries: readonly OffsetPairTargetQuery[]): Promise<(OffsetPair | null)[]> {
    if (queries.length === 0) return [];
    const payload = JSON.stringify(
      queries.map((q, i) => ({
        i,
        topic: q.topic,
        broker: q.broker,
        queue_id: q.queueId,
        target_broker: q.targetBroker,
        target_queue_id: q.targetQueueId,
        target_offset: q.targetOffset,
      })),
    );
    // Within one source queue target offsets grow with source offsets (copied in order), so the newest by
    // source offset among those at or below the bound is the one wanted.
    const rows = await db.query<OffsetPairDbRow & { i: number }>(
      `SELECT q.i, ${PAIR_COLUMNS}
       FROM jsonb_to_recordset($3::jsonb) AS q(
         i integer, topic text, broker text, queue_id integer, target_broker text, target_queue_id integer, target_offset bigint)
       JOIN LATERAL (
         SELECT * FROM offset_pairs x
         WHERE x.task_id = $1 AND x.flow = $2 AND x.topic = q.topic AND x.broker = q.broker AND x.queue_id = q.queue_id
           AND x.target_broker = q.target_broker AND x.target_queue_id = q.target_queue_id AND x.target_offset <= q.target_offset
         ORDER BY x.source_offset DESC LIMIT 1
       ) p ON true`,
      [taskId, flow, payload],
    );
    const out: (OffsetPair | null)[] = queries.map(() => null);
    for (const r of rows) out[r.i] = toPair(r);
    return out;
  },

  async newestOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]> {
    const rows = await db.query<OffsetPairDbRow>(
      `SELECT DISTINCT ON (topic, broker, queue_id) * FROM offset_pairs WHERE task_id = $1 AND flow = $2
       ORDER BY topic, broker, queue_id, source_offset DESC`,
      [taskId, flow],
    );
    return rows.map(toPair);
  },

  async oldestOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]> {
    const rows = await db.query<OffsetPairDbRow>(
      `SELECT DISTINCT ON (topic, broker, queue_id) * FROM offset_pairs WHERE task_id = $1 AND flow = $2
       ORDER BY topic, broker, queue_id, source_offset`,
      [taskId, flow],
    );
    return rows.map(toPair);
  },

  async listOffsetPairs(taskId: string, flow: string): Promise<OffsetPair[]> {
    const rows = await db.query<OffsetPairDbRow>(
      'SELECT * FROM offset_pairs WHERE task_id = $1 AND flow = $2 ORDER BY topic, broker, queue_id, source_offset',
      [taskId, flow],
    );
    return rows.map(toPair);
  },

  async pruneOffsetPairs(taskId: string, flow: string, denseSpan = DEFAULT_DENSE_SPAN): Promise<number> {
    if (!Number.isSafeInteger(denseSpan) || denseSpan < 64) {
      throw new FerryError('VALIDATION_FAILED', 'denseSpan must be an integer of at least 64', 'denseSpan');
    }
    // Beyond the dense span a bucket is 2^⌈log2(distance / 64)⌉ offsets wide: about 32 rows per doubling of
    // the distance, so a queue keeps a bounded number of rows and a translation there is off by a few percent of it.
    // Rows go by ctid (a TID scan): a join back on the key columns makes PGlite's planner loop over both sides.
    const rows = await db.query(
      `DELETE FROM offset_pairs WHERE ctid = ANY(ARRAY(
         SELECT id FROM (
           SELECT id, w, topic, broker, queue_id, source_offset,
                  row_number() OVER (PARTITION BY topic, broker, queue_id, w, source_offset / w ORDER BY source_offset) AS rn
           FROM (
             SELECT id, topic, broker, queue_id, source_offset,
                    power(2::numeric, ceil(log(2::numeric, ((newest - source_offset) / 64.0)::numeric)))::bigint AS w
             FROM (
               SELECT ctid AS id, topic, broker, queue_id, source_offset,
                      max(source_offset) OVER (PARTITION BY topic, broker, queue_id) AS newest
               FROM offset_pairs WHERE task_id = $1 AND flow = $2
             ) ranked
             WHERE newest - source_offset >= $3::bigint
           ) bucketed
         ) numbered
         WHERE rn > 1
       ))
       RETURNING 1`,
      [taskId, flow, denseSpan],
    );
    return rows.length;
  },
});

export const sqlOffsetSyncStore = (db: SqlExecutor): OffsetSyncStore => ({
  async upsertOffsetSyncs(taskId: string, flow: string, items: readonly OffsetSyncOutcome[]): Promise<void> {
    if (items.length === 0) return;
    const unique = lastPerKey(items, (i) => JSON.stringify([i.group, i.topic, i.broker, i.queueId]));
    const payload = JSON.stringify(
      unique.map((i) => ({
        consumer_group: i.group,
        topic: i.topic,
        broker: i.broker,
        queue_id: requireNonNegative(i.queueId, 'queueId'),
        source_offset: requireNonNegative(i.sourceOffset, 'sourceOffset'),
        target_broker: i.targetBroker,
        target_queue_id: i.targetQueueId,
        target_offset: i.targetOffset,
        status: i.status,
        error: i.error ?? null,
      })),
    );
    await taskMustExist(taskId, () =>
      db.query(
        `INSERT INTO offset_syncs AS s (task_id, flow, consumer_group, topic, broker, queue_id, source_offset, target_broker,
           target_queue_id, target_offset, status, error, synced_at)
         SELECT $1, $2, i.consumer_group, i.topic, i.broker, i.queue_id, i.source_offset, i.target_broker, i.target_queue_id,
           i.target_offset, i.status, i.error, clock_timestamp()
         FROM jsonb_to_recordset($3::jsonb) AS i(consumer_group text, topic text, broker text, queue_id integer, source_offset bigint,
           target_broker text, target_queue_id integer, target_offset bigint, status text, error text)
         ON CONFLICT (task_id, flow, consumer_group, topic, broker, queue_id) DO UPDATE SET
           source_offset = excluded.source_offset, target_broker = excluded.target_broker,
           target_queue_id = excluded.target_queue_id, target_offset = excluded.target_offset,
           status = excluded.status, error = excluded.error, synced_at = excluded.synced_at`,
        [taskId, flow, payload],
      ),
    );
  },

  async listOffsetSyncs(taskId: string): Promise<OffsetSyncItem[]> {
    const rows = await db.query<OffsetSyncDbRow>(
      'SELECT * FROM offset_syncs WHERE task_id = $1 ORDER BY flow, consumer_group, topic, broker, queue_id',
      [taskId],
    );
    return rows.map(toSync);
  },
});

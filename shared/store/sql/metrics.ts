// MetricsStore on SQL.
import { FerryError } from '../../errors.ts';
import type { SqlExecutor } from '../executor.ts';
import type { MetricsDelta, MetricsRow, MetricsStore, TopicTotalsRow } from '../ports/metrics.ts';
import { requireNonNegative, taskMustExist } from './common.ts';

const MINUTE_MS = 60_000;

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
  delay_counts: number[] | null;
  delay_sum_ms: number;
}

interface TopicDbRow {
  task_id: string;
  flow: string;
  topic: string;
  minute_ms: number;
  consumed: number;
  replicated: number;
  failed: number;
}

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
  // Selected as jsonb: an int8[] would come back as strings from pg.
  delayCounts: r.delay_counts?.map(Number) ?? null,
  delaySumMs: r.delay_sum_ms,
});

const addCounts = (into: number[] | null, from: readonly number[] | null | undefined): number[] | null => {
  if (!from) return into;
  const out = into ?? [];
  for (const [i, n] of from.entries()) out[i] = (out[i] ?? 0) + requireNonNegative(n, 'delayCounts');
  for (let i = 0; i < out.length; i++) out[i] ??= 0;
  return out;
};

export const sqlMetricsStore = (db: SqlExecutor): MetricsStore => ({
  async addMetrics(rows: readonly MetricsDelta[]): Promise<void> {
    if (rows.length === 0) return;
    // Deltas for the same bucket in one call are summed here first: one upsert statement may
    // not update the same row twice.
    const merged = new Map<string, MetricsDbRow>();
    const topics = new Map<string, TopicDbRow>();
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
        delay_counts: null,
        delay_sum_ms: 0,
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
      acc.delay_counts = addCounts(acc.delay_counts, d.delayCounts);
      const sum = d.delaySumMs ?? 0;
      if (!(Number.isFinite(sum) && sum >= 0))
        throw new FerryError('VALIDATION_FAILED', 'delaySumMs must be a non-negative number', 'delaySumMs');
      acc.delay_sum_ms += sum;
      merged.set(key, acc);
      for (const t of d.topics ?? []) {
        const tk = JSON.stringify([d.taskId, d.flow, t.topic, d.minuteMs]);
        const ta = topics.get(tk) ?? {
          task_id: d.taskId,
          flow: d.flow,
          topic: t.topic,
          minute_ms: d.minuteMs,
          consumed: 0,
          replicated: 0,
          failed: 0,
        };
        ta.consumed += requireNonNegative(t.consumed, 'consumed');
        ta.replicated += requireNonNegative(t.replicated, 'replicated');
        ta.failed += requireNonNegative(t.failed, 'failed');
        topics.set(tk, ta);
      }
    }
    const taskIds = [...new Set(rows.map((r) => r.taskId))];
    await taskMustExist(taskIds, () =>
      db.query(
        `INSERT INTO metrics AS m (task_id, flow, minute_ms, consumed, replicated, filtered, loop_skipped,
                                   failed, throttled, lag, delay_p50_ms, delay_p99_ms, delay_max_ms,
                                   delay_counts, delay_sum_ms)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(
           task_id text, flow text, minute_ms bigint, consumed bigint, replicated bigint, filtered bigint,
           loop_skipped bigint, failed bigint, throttled bigint, lag bigint,
           delay_p50_ms double precision, delay_p99_ms double precision, delay_max_ms double precision,
           delay_counts bigint[], delay_sum_ms double precision)
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
           delay_max_ms = greatest(excluded.delay_max_ms, m.delay_max_ms),
           -- Element by element; an array shorter than the other counts as zeros past its end.
           delay_counts = CASE
             WHEN m.delay_counts IS NULL THEN excluded.delay_counts
             WHEN excluded.delay_counts IS NULL THEN m.delay_counts
             ELSE ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0)
                        FROM unnest(m.delay_counts, excluded.delay_counts) WITH ORDINALITY AS u(a, b, i) ORDER BY i)
           END,
           delay_sum_ms = m.delay_sum_ms + excluded.delay_sum_ms`,
        [JSON.stringify([...merged.values()])],
      ),
    );
    if (topics.size === 0) return;
    await taskMustExist(taskIds, () =>
      db.query(
        `INSERT INTO topic_metrics AS m (task_id, flow, topic, minute_ms, consumed, replicated, failed)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(
           task_id text, flow text, topic text, minute_ms bigint, consumed bigint, replicated bigint, failed bigint)
         ON CONFLICT (task_id, flow, topic, minute_ms) DO UPDATE SET
           consumed   = m.consumed + excluded.consumed,
           replicated = m.replicated + excluded.replicated,
           failed     = m.failed + excluded.failed`,
        [JSON.stringify([...topics.values()])],
      ),
    );
  },

  async queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]> {
    const rows = await db.query<MetricsDbRow>(
      `SELECT task_id, flow, minute_ms, consumed, replicated, filtered, loop_skipped, failed, throttled, lag,
              delay_p50_ms, delay_p99_ms, delay_max_ms, to_jsonb(delay_counts) AS delay_counts, delay_sum_ms
       FROM metrics WHERE task_id = $1 AND minute_ms >= $2 AND minute_ms < $3
       ORDER BY minute_ms, flow`,
      [taskId, fromMs, toMs],
    );
    return rows.map(toMetrics);
  },

  async topicTotals(taskId: string): Promise<TopicTotalsRow[]> {
    // sum(bigint) is numeric: cast back so the rows come back as numbers.
    return db.query<TopicTotalsRow>(
      `SELECT flow, topic, sum(consumed)::bigint AS consumed, sum(replicated)::bigint AS replicated, sum(failed)::bigint AS failed
       FROM topic_metrics WHERE task_id = $1 GROUP BY flow, topic ORDER BY flow, topic`,
      [taskId],
    );
  },
});

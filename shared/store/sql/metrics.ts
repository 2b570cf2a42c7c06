// MetricsStore on SQL.
import { FerryError } from '../../errors.ts';
import type { SqlExecutor } from '../executor.ts';
import type { MetricsDelta, MetricsRow, MetricsStore } from '../ports/metrics.ts';
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
});

export const sqlMetricsStore = (db: SqlExecutor): MetricsStore => ({
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
      db.query(
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
  },

  async queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]> {
    const rows = await db.query<MetricsDbRow>(
      `SELECT * FROM metrics WHERE task_id = $1 AND minute_ms >= $2 AND minute_ms < $3
       ORDER BY minute_ms, flow`,
      [taskId, fromMs, toMs],
    );
    return rows.map(toMetrics);
  },
});

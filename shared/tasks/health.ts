// A task's health: ok; degraded (a cluster unreachable for longer than a window, or a flow's lag
// growing with nothing replicated for longer than another); stalled (a shard that no replicator
// held through two reconciler intervals). The reconciler observes the signals each tick and stores
// the record computed here from them and the record before, so the store is the only memory (a
// serverless reconciler keeps nothing between runs). Everything here is pure.
import { z } from 'zod';

export type HealthState = 'ok' | 'degraded' | 'stalled';
export const HEALTH_STATES: readonly HealthState[] = ['ok', 'degraded', 'stalled'];

export interface HealthWindows {
  /** A cluster that fails every probe for this long degrades the task (default 30 s). */
  unreachableAfterMs: number;
  /** A flow whose lag grows while nothing is replicated for this long degrades the task (default 2 min). */
  lagWithoutProgressMs: number;
  /** A shard seen without a holder at this many reconciler runs after the first stalls the task (default 2). */
  stallAfterIntervals: number;
}

export const DEFAULT_HEALTH_WINDOWS: HealthWindows = { unreachableAfterMs: 30_000, lagWithoutProgressMs: 120_000, stallAfterIntervals: 2 };

/** One flow as the reconciler sees it at one run. */
export interface FlowSignals {
  /** How people name it: `sourceClusterId->targetClusterId`. */
  flow: string;
  /** Shards of the flow's current layout that no replicator holds (empty while the layout changes). */
  unheld: number[];
  /** The lag its holders reported (sum), null when none reported one. */
  lag: number | null;
  /** Messages per second its holders replicated lately (sum), null when none reported. */
  rate: number | null;
}

/** What one reconciler run observed for a running task. */
export interface HealthSignals {
  now: number;
  /** Each cluster of the task: null when it answered the probe, otherwise what went wrong (naming the cluster). */
  clusters: { clusterId: string; problem: string | null }[];
  flows: FlowSignals[];
}

const HealthRecordSchema = z.object({
  state: z.enum(['ok', 'degraded', 'stalled']),
  reason: z.string().nullable(),
  /** When the task entered this state (ms). */
  since: z.number(),
  /** Clusters failing their probe: since when, and the latest problem. */
  unreachable: z.record(z.string(), z.object({ since: z.number(), problem: z.string() })).optional(),
  /** Shards (`flow#shard`) seen without a holder: since when, and at how many runs in a row. */
  unheld: z.record(z.string(), z.object({ since: z.number(), seen: z.number() })).optional(),
  /** Flows with nothing replicated: the lag when that began, and since when it has grown past it. */
  lag: z.record(z.string(), z.object({ baseline: z.number(), growingSince: z.number().nullable() })).optional(),
});

/** What the reconciler stores in the task's spec (`health`) between runs. */
export type HealthRecord = z.infer<typeof HealthRecordSchema>;

/** The stored record, or undefined when there is none (or it is of a shape this version does not read). */
export function decodeHealthRecord(stored: unknown): HealthRecord | undefined {
  const r = HealthRecordSchema.safeParse(stored);
  return r.success ? r.data : undefined;
}

const duration = (ms: number) => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000} min` : `${Math.round(ms / 100) / 10} s`);

/** The next record from the previous one and this run's signals. Unchanged signals give an equal record (nothing to write). */
export function evaluateHealth(prev: HealthRecord | undefined, s: HealthSignals, w: HealthWindows): HealthRecord {
  const { now } = s;
  const stalled: string[] = [];
  const degraded: string[] = [];

  const unreachable: NonNullable<HealthRecord['unreachable']> = {};
  for (const c of s.clusters) {
    if (c.problem === null) continue;
    const since = prev?.unreachable?.[c.clusterId]?.since ?? now;
    unreachable[c.clusterId] = { since, problem: c.problem };
    if (now - since >= w.unreachableAfterMs) degraded.push(`${c.problem} (for more than ${duration(w.unreachableAfterMs)})`);
  }

  const unheld: NonNullable<HealthRecord['unheld']> = {};
  const lag: NonNullable<HealthRecord['lag']> = {};
  for (const f of s.flows) {
    const stuck: number[] = [];
    for (const shard of f.unheld) {
      const key = `${f.flow}#${shard}`;
      const before = prev?.unheld?.[key];
      const entry = { since: before?.since ?? now, seen: (before?.seen ?? 0) + 1 };
      unheld[key] = entry;
      // Seen at the first run and at `stallAfterIntervals` runs after it: that many intervals without a holder.
      if (entry.seen > w.stallAfterIntervals) stuck.push(shard);
    }
    if (stuck.length) {
      const which = stuck.length === 1 ? `shard ${stuck[0]}` : `shards ${stuck.join(', ')}`;
      stalled.push(`no replicator has held ${which} of ${f.flow} for ${w.stallAfterIntervals} reconciler intervals`);
    }
    const trend = lagTrend(prev?.lag?.[f.flow], f, now);
    if (!trend) continue;
    lag[f.flow] = trend;
    if (trend.growingSince !== null && now - trend.growingSince >= w.lagWithoutProgressMs) {
      const over = duration(w.lagWithoutProgressMs);
      degraded.push(`the lag of ${f.flow} has grown past ${trend.baseline} messages with nothing replicated for more than ${over}`);
    }
  }

  const state: HealthState = stalled.length ? 'stalled' : degraded.length ? 'degraded' : 'ok';
  const reasons = [...stalled, ...degraded];
  const next: HealthRecord = {
    state,
    reason: reasons.length ? reasons.join('; ') : null,
    since: prev && prev.state === state ? prev.since : now,
  };
  if (Object.keys(unreachable).length) next.unreachable = unreachable;
  if (Object.keys(unheld).length) next.unheld = unheld;
  if (Object.keys(lag).length) next.lag = lag;
  return next;
}

/**
 * Progress (anything replicated lately) clears the trend. Without progress the lag when it stopped
 * is the baseline; growing past it starts the clock; a lag that shrinks (filtered messages, a queue
 * trimmed by retention) becomes the new baseline. An unknown lag leaves the trend as it was.
 */
function lagTrend(before: NonNullable<HealthRecord['lag']>[string] | undefined, f: FlowSignals, now: number) {
  if (f.rate !== null && f.rate > 0) return undefined;
  if (f.lag === null) return before;
  if (!before || f.lag < before.baseline) return { baseline: f.lag, growingSince: null };
  if (f.lag > before.baseline) return { baseline: before.baseline, growingSince: before.growingSince ?? now };
  return before;
}

/** How a task's health is shown: what the API, the CLI, the console and Prometheus report. */
export interface TaskHealth {
  state: HealthState;
  reason: string | null;
  /** ISO time the task entered this state; null when it has not been evaluated (not running, or not yet). */
  since: string | null;
}

/**
 * Health is evaluated for running tasks only. A task that should run but did not start
 * (start_failed) is stalled, its status reason the reason; a stopped, starting or deleting task is
 * ok with no reason: nothing is meant to replicate, so nothing is wrong with replication.
 */
export function taskHealth(task: { status: string; statusReason: string | null; updatedAt: Date; spec: { health?: unknown } }): TaskHealth {
  if (task.status === 'start_failed') {
    return {
      state: 'stalled',
      reason: `the task did not start: ${task.statusReason ?? 'no reason recorded'}`,
      since: task.updatedAt.toISOString(),
    };
  }
  const record = task.status === 'running' ? decodeHealthRecord(task.spec.health) : undefined;
  if (!record) return { state: 'ok', reason: null, since: null };
  return { state: record.state, reason: record.reason, since: new Date(record.since).toISOString() };
}

// The chart ranges of a task's page and what each one asks of the API. The metrics API serves
// per-minute rows only (from/to, no step parameter), so a long range is fetched once in full and
// then only its newest minutes on each refresh (mergeTail), and the charts sum (counters) or take
// the largest value (gauges) of the minutes in each display step, to keep a few hundred points.
import type { MetricsPoint } from '../../shared/api/contract.ts';

export const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface TimeRange {
  key: string;
  label: string;
  ms: number;
  /** One chart point per stepMs. */
  stepMs: number;
}

export const RANGES: readonly TimeRange[] = [
  { key: '15m', label: '15 min', ms: 15 * MINUTE, stepMs: MINUTE },
  { key: '1h', label: '1 h', ms: HOUR, stepMs: MINUTE },
  { key: '6h', label: '6 h', ms: 6 * HOUR, stepMs: 5 * MINUTE },
  { key: '24h', label: '24 h', ms: 24 * HOUR, stepMs: 15 * MINUTE },
  { key: '7d', label: '7 d', ms: 7 * 24 * HOUR, stepMs: HOUR },
];
export const DEFAULT_RANGE: TimeRange = RANGES[1]!;

export const rangeOf = (key: string): TimeRange => RANGES.find((r) => r.key === key) ?? DEFAULT_RANGE;

const floorTo = (ms: number, step: number) => Math.floor(ms / step) * step;

/**
 * What to ask the API for at `now`: the whole range when nothing is cached for it, else only from
 * the minute before the newest cached one (that minute and the current one are still filling).
 */
export function requestFor(
  range: TimeRange,
  now: number,
  cached: { key: string; fetchedTo: number } | null,
): { from: number; to: number; tail: boolean } {
  if (cached?.key === range.key && cached.fetchedTo > now - range.ms)
    return { from: floorTo(cached.fetchedTo, MINUTE) - MINUTE, to: now, tail: true };
  return { from: now - range.ms, to: now, tail: false };
}

/** Cached rows older than the tail request plus the tail's rows, dropping those that left the range. */
export function mergeTail(cached: MetricsPoint[], tail: MetricsPoint[], tailFrom: number, rangeFrom: number): MetricsPoint[] {
  const cut = floorTo(tailFrom, MINUTE);
  const keepFrom = floorTo(rangeFrom, MINUTE);
  return [...cached.filter((p) => p.minuteMs < cut && p.minuteMs >= keepFrom), ...tail.filter((p) => p.minuteMs >= keepFrom)];
}

/** x values in seconds (uPlot's unit), one per display step of [from, to]. */
export function stepsOf(from: number, to: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = floorTo(from, stepMs); t <= to; t += stepMs) out.push(t / 1000);
  return out;
}

/** Rows folded into display steps: counters summed, gauges (null when unmeasured) the largest of the step. */
export function bucketed(points: MetricsPoint[], stepMs: number): MetricsPoint[] {
  if (stepMs === MINUTE) return points;
  const out = new Map<string, MetricsPoint>();
  const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const p of points) {
    const minuteMs = floorTo(p.minuteMs, stepMs);
    const k = `${p.flow}@${minuteMs}`;
    const acc = out.get(k);
    if (!acc) {
      out.set(k, { ...p, minuteMs });
      continue;
    }
    acc.consumed += p.consumed;
    acc.replicated += p.replicated;
    acc.filtered += p.filtered;
    acc.loopSkipped += p.loopSkipped;
    acc.failed += p.failed;
    acc.throttled += p.throttled;
    acc.lag = max(acc.lag, p.lag);
    acc.delayP50Ms = max(acc.delayP50Ms, p.delayP50Ms);
    acc.delayP99Ms = max(acc.delayP99Ms, p.delayP99Ms);
    acc.delayMaxMs = max(acc.delayMaxMs, p.delayMaxMs);
  }
  return [...out.values()];
}

// Catch-up progress of one flow after its start offsets were fixed (an earliest or timestamp start,
// a reset). The API gives the backlog found then (start offsets to the queue ends at that moment)
// and how much of it the checkpoints have passed, so messages that arrive later, or that were read
// twice after a hand-over, move neither figure. The drain rate comes from the per-minute metrics:
// messages replicated or filtered per second over the last `windowMs` (since the start if later),
// and the estimate is what is left at that rate.
import type { FlowCatchUp, MetricsPoint } from '../../shared/api/contract.ts';

const MINUTE = 60_000;
const floorMin = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

export type CatchUpState = 'caught-up' | 'catching-up' | 'stalled';

export interface CatchUp {
  flow: string;
  state: CatchUpState;
  sinceMs: number;
  backlog: number;
  left: number;
  /** 0–100. */
  percentDone: number;
  /** Messages replicated or filtered per second over the window; null before a second has passed. */
  drainPerSec: number | null;
  /** Seconds until nothing of the backlog is left at the drain rate; null when caught up or not draining. */
  etaSec: number | null;
}

export function catchUpOf(c: FlowCatchUp, points: MetricsPoint[], o: { now: number; windowMs?: number }): CatchUp {
  const windowFrom = Math.max(o.now - (o.windowMs ?? 5 * MINUTE), c.sinceMs);
  const elapsedSec = (o.now - windowFrom) / 1000;
  const drained = points
    .filter((p) => p.flow === c.flow && p.minuteMs >= floorMin(windowFrom))
    .reduce((n, p) => n + p.replicated + p.filtered, 0);
  const drainPerSec = elapsedSec >= 1 ? drained / elapsedSec : null;
  const percentDone = c.backlog > 0 ? Math.min(100, (c.done / c.backlog) * 100) : 100;
  const base = { flow: c.flow, sinceMs: c.sinceMs, backlog: c.backlog, left: c.left, percentDone, drainPerSec };
  if (c.left <= 0) return { ...base, state: 'caught-up', etaSec: null };
  if (!drainPerSec) return { ...base, state: drainPerSec === 0 ? 'stalled' : 'catching-up', etaSec: null };
  return { ...base, state: 'catching-up', etaSec: c.left / drainPerSec };
}

/** "45 s", "12 min", "3 h 20 min", "2 d 4 h". */
export function formatDuration(sec: number): string {
  const s = Math.round(sec);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

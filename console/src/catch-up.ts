// Catch-up progress of one flow from its per-minute metric rows: how far it is through a backlog
// (after an earliest start, a reset, or any build-up), how fast it drains and when it should be done.
//
// What the rows support: lag is a gauge, the last value measured in its minute (about the end of
// the minute; the current minute's is the latest), counters are sums over the minute. So:
// - lag when catch-up began: the largest lag measured since the baseline (the task's last start
//   when it falls in the range, else the range start); when the baseline is a start, the first
//   measured lag plus the messages consumed up to it, i.e. the backlog found at the start;
// - drain rate: messages replicated per second over the last `windowMs` (since the baseline if later);
// - net drain rate: how fast the lag falls, from the oldest (or, when it has fallen since, the largest)
//   and the newest lag measured in that window when at least 30 s apart, else the drain rate
//   (assuming nothing new arrived meanwhile);
// - estimate: left / net drain rate; a lag that does not fall is "not catching up".
// Lag counts from the read position: a batch read but still being sent (held back by a TPS limit)
// is not in it. So when the lag at start is the backlog found at the start, what is left is the
// larger of the lag and that backlog less what was replicated, filtered or failed since; else the lag.
import type { MetricsPoint } from '../../shared/api/contract.ts';

const MINUTE = 60_000;
const floorMin = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

export type CatchUpState = 'caught-up' | 'catching-up' | 'not-catching-up' | 'no-data';

export interface CatchUp {
  flow: string;
  state: CatchUpState;
  /** Latest measured lag, messages. */
  lag: number | null;
  /** Left to replicate: the lag, or more when a read batch is still being sent (see above). */
  left: number | null;
  /** Lag when catch-up began, and the minute it refers to. */
  startLag: number | null;
  startMs: number | null;
  /** 0–100. */
  percentDone: number | null;
  /** Replicated messages per second over the window. */
  drainPerSec: number | null;
  /** Lag decrease per second (negative: growing) and where it came from. */
  netPerSec: number | null;
  netBasis: 'lag' | 'replicated' | null;
  /** Seconds until nothing is left at the net rate; null when not catching up or unknown. */
  etaSec: number | null;
}

export interface CatchUpOptions {
  now: number;
  /** Start of the selected range. */
  from: number;
  /** The task's last start (epoch ms), if known. */
  startedAt?: number | null | undefined;
  /** Rate window; default 5 minutes. */
  windowMs?: number;
  /** A lag drained within this many seconds at the drain rate counts as caught up; default 5. */
  caughtUpSec?: number;
}

export function catchUpOf(points: MetricsPoint[], flow: string, o: CatchUpOptions): CatchUp {
  const fromStart = o.startedAt != null && o.startedAt >= o.from;
  const since = fromStart ? o.startedAt! : o.from;
  const rows = points.filter((p) => p.flow === flow && p.minuteMs >= floorMin(since)).sort((a, b) => a.minuteMs - b.minuteMs);
  const lagged = rows.filter((p): p is MetricsPoint & { lag: number } => p.lag !== null);
  const none: CatchUp = {
    flow,
    state: 'no-data',
    lag: null,
    left: null,
    startLag: null,
    startMs: null,
    percentDone: null,
    drainPerSec: null,
    netPerSec: null,
    netBasis: null,
    etaSec: null,
  };
  if (lagged.length === 0) return none;
  const lag = lagged[lagged.length - 1]!.lag;

  let startLag = lagged[0]!.lag;
  let startMs = lagged[0]!.minuteMs;
  if (fromStart) startLag += rows.filter((p) => p.minuteMs <= lagged[0]!.minuteMs).reduce((n, p) => n + p.consumed, 0);
  for (const p of lagged.slice(1))
    if (p.lag > startLag) {
      startLag = p.lag;
      startMs = p.minuteMs;
    }
  if (fromStart && startMs === lagged[0]!.minuteMs) startMs = since;
  const done = rows.reduce((n, p) => n + p.replicated + p.filtered + p.loopSkipped + p.failed, 0);
  const left = fromStart && startMs === since ? Math.max(lag, startLag - done) : lag;
  const percentDone = startLag > 0 ? Math.min(100, Math.max(0, ((startLag - left) / startLag) * 100)) : 100;

  const windowFrom = Math.max(floorMin(o.now - (o.windowMs ?? 5 * MINUTE)), since);
  const inWindow = rows.filter((p) => p.minuteMs >= floorMin(windowFrom));
  const elapsedSec = (o.now - windowFrom) / 1000;
  const drainPerSec = elapsedSec >= 1 ? inWindow.reduce((a, p) => a + p.replicated, 0) / elapsedSec : null;

  // When a minute's lag was measured: about its end, or now for the current minute.
  const measured = (p: MetricsPoint) => Math.min(p.minuteMs + MINUTE, o.now);
  const lagWindow = lagged.filter((p) => p.minuteMs >= floorMin(windowFrom));
  const newest = lagWindow[lagWindow.length - 1];
  // From the window's peak when the lag has fallen since (a backlog that arrived inside the window).
  const peak = lagWindow.reduce<(typeof lagWindow)[number] | undefined>((m, p) => (m && m.lag >= p.lag ? m : p), undefined);
  const oldest = peak && peak !== newest ? peak : lagWindow[0];
  let netPerSec: number | null = null;
  let netBasis: CatchUp['netBasis'] = null;
  if (oldest && newest && measured(newest) - measured(oldest) >= 30_000) {
    netPerSec = (oldest.lag - newest.lag) / ((measured(newest) - measured(oldest)) / 1000);
    netBasis = 'lag';
  } else if (drainPerSec !== null) {
    netPerSec = drainPerSec;
    netBasis = 'replicated';
  }

  const caughtUp = left === 0 || (drainPerSec !== null && drainPerSec > 0 && left / drainPerSec < (o.caughtUpSec ?? 5));
  const base = { flow, lag, left, startLag, startMs, percentDone, drainPerSec, netPerSec, netBasis };
  if (caughtUp) return { ...base, state: 'caught-up', etaSec: 0 };
  if (netPerSec === null) return { ...base, state: 'catching-up', etaSec: null };
  if (netPerSec <= 0) return { ...base, state: 'not-catching-up', etaSec: null };
  return { ...base, state: 'catching-up', etaSec: left / netPerSec };
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

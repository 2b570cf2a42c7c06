// The console's catch-up estimate (console/src/catch-up.ts) and chart ranges (console/src/time-range.ts),
// from hand-built per-minute metric rows and catch-up baselines shaped like the API's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catchUpOf, formatDuration } from '../../console/src/catch-up.ts';
import { bucketed, mergeTail, RANGES, rangeOf, requestFor, stepsOf } from '../../console/src/time-range.ts';
import type { FlowCatchUp, MetricsPoint } from '../../shared/api/contract.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function row(minute: number, over: Partial<MetricsPoint> = {}): MetricsPoint {
  return {
    flow: 'forward',
    minuteMs: T0 + minute * MIN,
    consumed: 0,
    replicated: 0,
    filtered: 0,
    loopSkipped: 0,
    failed: 0,
    throttled: 0,
    lag: null,
    delayP50Ms: null,
    delayP99Ms: null,
    delayMaxMs: null,
    ...over,
  };
}
/** A minute that replicated `n` messages. */
const drained = (minute: number, n: number, filtered = 0) => row(minute, { consumed: n + filtered, replicated: n, filtered });
/** A minute that replicated `n` messages and ended `lag` behind. */
const lagged = (minute: number, n: number, lag: number) => row(minute, { consumed: n, replicated: n, lag });
const baseline = (over: Partial<FlowCatchUp> = {}): FlowCatchUp => {
  const b = { flow: 'forward', sinceMs: T0 + 30_000, queues: 8, backlog: 10_000, done: 4_800, ...over };
  return { ...b, left: b.backlog - b.done };
};

describe('catch-up progress', () => {
  it('percent from the checkpoints, drain rate from the metrics, estimate = left / rate', () => {
    // Started at 12:00:30 over 10 000 messages, draining 20/s; 4 800 done at 12:04:30.
    const points = [drained(0, 600), drained(1, 1200), drained(2, 1200), drained(3, 1000, 200), drained(4, 600)];
    const c = catchUpOf(baseline(), points, { now: T0 + 4 * MIN + 30_000 });
    assert.equal(c.state, 'catching-up');
    assert.equal(c.percentDone, 48);
    assert.equal(c.left, 5_200);
    // The window starts at the start (4 min ago): 4 800 replicated or filtered in 240 s.
    assert.equal(c.drainPerSec, 20);
    assert.equal(c.etaSec, 260);
  });

  it('takes the rate over the last five minutes of a long catch-up, counting whole minutes from its start', () => {
    const points = Array.from({ length: 30 }, (_, m) => drained(m, m < 25 ? 600 : 1200));
    const now = T0 + 29 * MIN + 30_000;
    const c = catchUpOf(baseline({ backlog: 100_000, done: 21_000 }), points, { now });
    // Minutes 24..29 (the window's first minute counted whole): 600 + 5 × 1 200 in 300 s.
    assert.equal(c.drainPerSec, 22);
    assert.equal(c.etaSec, 79_000 / 22);
  });

  it('ignores other flows and messages of other flows', () => {
    const points = [drained(1, 1200), { ...drained(1, 9999), flow: 'reverse' }];
    const c = catchUpOf(baseline(), points, { now: T0 + 2 * MIN + 30_000 });
    assert.equal(c.drainPerSec, 10);
  });

  it('is caught up when the checkpoints passed the backlog, whatever the rate', () => {
    const c = catchUpOf(baseline({ done: 10_000 }), [drained(1, 100)], { now: T0 + 2 * MIN });
    assert.equal(c.state, 'caught-up');
    assert.equal(c.percentDone, 100);
    assert.equal(c.etaSec, null);
  });

  it('says not draining when nothing was replicated in the window, and has no rate in the first second', () => {
    assert.equal(catchUpOf(baseline(), [], { now: T0 + 10 * MIN }).state, 'stalled');
    const fresh = catchUpOf(baseline(), [], { now: T0 + 30_500 });
    assert.equal(fresh.state, 'catching-up');
    assert.equal(fresh.drainPerSec, null);
    assert.equal(fresh.etaSec, null);
  });

  it('formats durations', () => {
    assert.deepEqual([45, 90, 12 * 60, 3 * 3600 + 20 * 60, 2 * 3600, 50 * 3600, 72 * 3600].map(formatDuration), [
      '45 s',
      '2 min',
      '12 min',
      '3 h 20 min',
      '2 h',
      '2 d 2 h',
      '3 d',
    ]);
  });
});

describe('chart ranges', () => {
  it('offers 15 min to 7 days, each with at most a few hundred chart points', () => {
    assert.deepEqual(
      RANGES.map((r) => r.key),
      ['15m', '1h', '6h', '24h', '7d'],
    );
    for (const r of RANGES) assert.ok(r.ms / r.stepMs <= 360, r.key);
    assert.equal(rangeOf('nope').key, '1h');
    assert.equal(stepsOf(T0, T0 + 6 * 3_600_000, 5 * MIN).length, 73);
  });

  it('fetches a range once in full, then only its newest minutes', () => {
    const r = rangeOf('24h');
    const now = T0 + 30_000;
    assert.deepEqual(requestFor(r, now, null), { from: now - r.ms, to: now, tail: false });
    assert.deepEqual(requestFor(r, now, { key: '1h', fetchedTo: now - 3000 }), { from: now - r.ms, to: now, tail: false });
    assert.deepEqual(requestFor(r, now + 3000, { key: '24h', fetchedTo: now }), { from: T0 - MIN, to: now + 3000, tail: true });
    const merged = mergeTail(
      [lagged(-3, 1, 1), lagged(-1, 5, 5), lagged(0, 7, 7)],
      [lagged(-1, 6, 4), lagged(0, 9, 2)],
      T0 - MIN,
      T0 - 2 * MIN,
    );
    assert.deepEqual(
      merged.map((p) => [p.minuteMs, p.consumed]),
      [
        [T0 - MIN, 6],
        [T0, 9],
      ],
    );
  });

  it('folds minutes into display steps: counters summed, gauges the largest', () => {
    const points = [
      lagged(0, 10, 100),
      lagged(3, 20, 300),
      row(4, { failed: 1 }),
      lagged(5, 5, 50),
      row(1, { flow: 'reverse', replicated: 7 }),
    ];
    const b = bucketed(points, 5 * MIN);
    const fwd = b.filter((p) => p.flow === 'forward');
    assert.deepEqual(
      fwd.map((p) => [p.minuteMs, p.consumed, p.failed, p.lag]),
      [
        [T0, 30, 1, 300],
        [T0 + 5 * MIN, 5, 0, 50],
      ],
    );
    assert.equal(b.find((p) => p.flow === 'reverse')!.replicated, 7);
    assert.equal(bucketed(points, MIN), points);
  });
});

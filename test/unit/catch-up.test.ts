// The console's catch-up estimate (console/src/catch-up.ts) and chart ranges (console/src/time-range.ts),
// from hand-built per-minute metric rows shaped like the metrics API's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catchUpOf, formatDuration } from '../../console/src/catch-up.ts';
import { bucketed, mergeTail, RANGES, rangeOf, requestFor, stepsOf } from '../../console/src/time-range.ts';
import type { MetricsPoint } from '../../shared/api/contract.ts';

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
/** A minute that drained `n` messages, ending with `lag` behind. */
const drained = (minute: number, n: number, lag: number) => row(minute, { consumed: n, replicated: n, lag });

describe('catch-up progress', () => {
  it('after a start over a backlog: start lag, percent, drain rate and an estimate from the falling lag', () => {
    // Started at 12:00:30 over 10 000 messages, draining 1 200 a minute (20/s), nothing new arriving.
    const points = [drained(0, 600, 9400), drained(1, 1200, 8200), drained(2, 1200, 7000), drained(3, 1200, 5800), drained(4, 600, 5200)];
    const now = T0 + 4 * MIN + 30_000;
    const c = catchUpOf(points, 'forward', { now, from: now - 3_600_000, startedAt: T0 + 30_000 });
    assert.equal(c.state, 'catching-up');
    assert.equal(c.lag, 5200);
    assert.equal(c.startLag, 10_000, "the start minute's lag plus what it consumed");
    assert.equal(c.startMs, T0 + 30_000);
    assert.equal(c.percentDone, 48);
    // Window: the last 5 minutes but not before the start — 4 min of 1 200 plus 600, over 240 s.
    assert.equal(c.drainPerSec, 4800 / 240);
    // Lag measured at 12:01 (9 400) and now (5 200): 4 200 in 210 s.
    assert.equal(c.netBasis, 'lag');
    assert.equal(c.netPerSec, 20);
    assert.equal(c.etaSec, 260);
  });

  it('uses the peak lag within the range when the task started before it', () => {
    const points = [drained(0, 100, 50), row(1, { lag: 3000 }), drained(2, 600, 2500), drained(3, 600, 1900)];
    const now = T0 + 3 * MIN + 59_000;
    const c = catchUpOf(points, 'forward', { now, from: T0, startedAt: T0 - 86_400_000 });
    assert.equal(c.startLag, 3000);
    assert.equal(c.startMs, T0 + MIN);
    assert.equal(Math.round(c.percentDone!), 37);
    assert.equal(c.netBasis, 'lag');
    assert.ok(c.etaSec! > 0);
  });

  it('says "not catching up" when the lag grows although messages are replicated', () => {
    const points = [drained(0, 600, 1000), drained(1, 600, 1500), drained(2, 600, 2100)];
    const now = T0 + 2 * MIN + 40_000;
    const c = catchUpOf(points, 'forward', { now, from: T0 - 3_600_000 });
    assert.equal(c.state, 'not-catching-up');
    assert.equal(c.etaSec, null);
    assert.ok(c.netPerSec! < 0);
    assert.ok(c.drainPerSec! > 0);
    assert.equal(c.percentDone, 0);
  });

  it('estimates from the drain rate while the lag was measured in one minute only', () => {
    // Started 20 s ago: 400 consumed, 2 000 left; one lag measurement so far.
    const now = T0 + 40_000;
    const c = catchUpOf([drained(0, 400, 2000)], 'forward', { now, from: now - 900_000, startedAt: T0 + 20_000 });
    assert.equal(c.netBasis, 'replicated');
    assert.equal(c.drainPerSec, 20);
    assert.equal(c.startLag, 2400);
    assert.equal(Math.round(c.percentDone! * 10) / 10, 16.7);
    assert.equal(c.etaSec, 100);
    assert.equal(c.state, 'catching-up');
  });

  it('counts what was consumed before the first lag measurement into the backlog found at the start', () => {
    // Started at 12:00:50; the first minute consumed 100 before any lag was stored, the next 300 more.
    const points = [row(0, { consumed: 100, replicated: 100 }), drained(1, 300, 800)];
    const c = catchUpOf(points, 'forward', { now: T0 + 90_000, from: T0 - 900_000, startedAt: T0 + 50_000 });
    assert.equal(c.startLag, 1200);
    assert.equal(Math.round(c.percentDone!), 33);
  });

  it('counts a read batch still being sent as left, so a read-ahead is not "caught up"', () => {
    // Started at 12:00:00 over 600; all read, 400 replicated, 100 filtered: 100 still being sent.
    const c = catchUpOf([row(0, { consumed: 600, replicated: 400, filtered: 100, lag: 0 })], 'forward', {
      now: T0 + 20_000,
      from: T0 - 900_000,
      startedAt: T0,
    });
    assert.deepEqual([c.lag, c.left, c.startLag], [0, 100, 600]);
    assert.equal(c.state, 'catching-up', '100 left at 20/s');
    assert.equal(c.etaSec, 5);
    assert.equal(Math.round(c.percentDone! * 10) / 10, 83.3);
  });

  it('is caught up at no lag or a lag drained within seconds; no data without a lag', () => {
    const now = T0 + 2 * MIN;
    assert.equal(catchUpOf([drained(0, 600, 0), drained(1, 600, 0)], 'forward', { now, from: T0 }).state, 'caught-up');
    const small = catchUpOf([drained(0, 6000, 30), drained(1, 6000, 40)], 'forward', { now, from: T0 });
    assert.equal(small.state, 'caught-up', '40 behind at 100/s');
    assert.equal(small.etaSec, 0);
    assert.equal(catchUpOf([row(0, { consumed: 5 })], 'forward', { now, from: T0 }).state, 'no-data');
    assert.equal(catchUpOf([drained(0, 600, 900)], 'reverse', { now, from: T0 }).state, 'no-data', 'per flow');
  });

  it('stalls with no replication: not catching up', () => {
    const now = T0 + 20_000;
    const c = catchUpOf([row(0, { lag: 500 })], 'forward', { now, from: T0 - MIN, startedAt: T0 });
    assert.equal(c.drainPerSec, 0);
    assert.equal(c.state, 'not-catching-up');
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
      [drained(-3, 1, 1), drained(-1, 5, 5), drained(0, 7, 7)],
      [drained(-1, 6, 4), drained(0, 9, 2)],
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
      drained(0, 10, 100),
      drained(3, 20, 300),
      row(4, { failed: 1 }),
      drained(5, 5, 50),
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

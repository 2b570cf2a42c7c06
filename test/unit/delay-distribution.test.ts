// The replicator's delay distribution (every delay of an invocation, bucketed) and the EMF line it
// becomes: Values/Counts CloudWatch can compute percentiles from, within the bucket precision.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emfLine, replicatorRecords } from '../../shared/monitoring/emf-records.ts';
import { DelayHistogram, MAX_DISTINCT_VALUES, type DelayDistribution } from '../../shared/replication/delay-distribution.ts';
import { FlowMetrics } from '../../shared/replication/flow-metrics.ts';

/** The percentile CloudWatch would read from value/count pairs: the value where the running count reaches p. */
function percentile(d: DelayDistribution, p: number): number {
  const target = Math.ceil(d.count * p);
  let seen = 0;
  for (const [i, v] of d.values.entries()) {
    seen += d.counts[i]!;
    if (seen >= target) return v;
  }
  return d.values.at(-1)!;
}

describe('delay distribution', () => {
  it('is null before any delay, and exact for min, max, sum and count', () => {
    const h = new DelayHistogram();
    assert.equal(h.distribution(), null);
    for (const v of [0, 0.4, 3, 250, 250, 1200]) h.record(v);
    const d = h.distribution()!;
    assert.equal(d.count, 6);
    assert.equal(d.min, 0);
    assert.equal(d.max, 1200);
    assert.equal(d.sum, 0 + 0.4 + 3 + 250 + 250 + 1200);
    assert.equal(
      d.counts.reduce((a, b) => a + b, 0),
      6,
    );
    // Sub-millisecond delays share the 0 value; equal delays share one value.
    assert.equal(d.values[0], 0);
    assert.equal(d.counts[0], 2);
    assert.deepEqual(
      d.values.map((v, i) => [v, d.counts[i]]).filter(([, n]) => n === 2),
      [
        [0, 2],
        [d.values.find((v) => Math.abs(v - 250) <= 25)!, 2],
      ],
    );
    assert.deepEqual(
      [...d.values].sort((a, b) => a - b),
      d.values,
      'smallest first',
    );
  });

  it('places every delay within 10% and gives percentiles within that precision over a wide range', () => {
    const h = new DelayHistogram();
    const delays: number[] = [];
    // A skewed spread from 2 ms to a minute: most fast, a long tail.
    for (let i = 0; i < 20_000; i++) {
      const v = 2 + 60_000 * (i / 20_000) ** 6;
      delays.push(v);
      h.record(v);
    }
    const d = h.distribution()!;
    assert.ok(d.values.length <= MAX_DISTINCT_VALUES, `${d.values.length} values`);
    delays.sort((a, b) => a - b);
    for (const p of [0.5, 0.9, 0.99, 0.999]) {
      const exact = delays[Math.ceil(delays.length * p) - 1]!;
      const got = percentile(d, p);
      assert.ok(Math.abs(got - exact) / exact <= 0.1, `p${p * 100}: ${got} vs exact ${exact}`);
    }
    // The top value stands for its bucket; the exact maximum comes along as Max.
    assert.ok(Math.abs(percentile(d, 1) - d.max) / d.max <= 0.1);
    assert.equal(d.max, delays.at(-1));
  });

  it('merges neighbouring buckets when more than the limit are occupied, keeping the counts', () => {
    const h = new DelayHistogram();
    // One delay in each of ~160 buckets (1 ms … 4 000 000 ms).
    for (let v = 1; v < 4_000_000; v *= 1.1) h.record(v);
    const full = h.distribution(1000)!;
    assert.ok(full.values.length > MAX_DISTINCT_VALUES, `${full.values.length} buckets`);
    const d = h.distribution()!;
    assert.ok(d.values.length <= MAX_DISTINCT_VALUES && d.values.length > MAX_DISTINCT_VALUES / 2, `${d.values.length} values`);
    assert.equal(
      d.counts.reduce((a, b) => a + b, 0),
      full.count,
    );
    for (const v of d.values) assert.ok(v >= d.min && v <= d.max, `${v} within min..max`);
    const few = h.distribution(10)!;
    assert.ok(few.values.length <= 10);
  });

  it("is what the replicator's flow metrics report for the invocation, across drains", () => {
    const m = new FlowMetrics('task-1', 'forward');
    for (const v of [5, 7, 900]) m.recordDelay(v);
    m.replicated = 3;
    m.drain(0);
    m.recordDelay(-3); // a clock skewed behind the source broker counts as 0
    m.replicated = 1;
    m.drain(60_000);
    const t = m.invocationTotals();
    assert.equal(t.replicated, 4);
    assert.equal(t.delay?.count, 4);
    assert.equal(t.delay?.min, 0);
    assert.equal(t.delay?.max, 900);
  });
});

describe('EMF line with a distribution', () => {
  it('writes SyncDelay as Values/Counts with Min/Max/Sum/Count beside the counters', () => {
    const h = new DelayHistogram();
    for (const v of [10, 10, 20, 3000]) h.record(v);
    const delay = h.distribution()!;
    const totals = { consumed: 4, replicated: 4, filtered: 0, loopSkipped: 0, failed: 0, throttled: 0, delay, lag: 0 };
    const job = { tenant: 'default', taskId: 'task-1', flow: 'forward' as const, shard: 0 };
    const [r] = replicatorRecords({ exit: 'budget', job, durationMs: 900, task: { name: 'orders', route: 'A->B' }, totals });
    const line = JSON.parse(emfLine(r!, 'Ferry', 1_765_000_000_000));
    assert.deepEqual(line._aws.CloudWatchMetrics[0].Dimensions, [['TaskId', 'Flow']]);
    assert.equal(line._aws.CloudWatchMetrics[0].Namespace, 'Ferry');
    assert.equal(line._aws.Timestamp, 1_765_000_000_000);
    assert.deepEqual(
      line._aws.CloudWatchMetrics[0].Metrics.find((m: { Name: string }) => m.Name === 'SyncDelay'),
      { Name: 'SyncDelay', Unit: 'Milliseconds' },
    );
    assert.equal(line.TaskId, 'task-1');
    assert.equal(line.Flow, 'A->B');
    assert.equal(line.TaskName, 'orders');
    assert.equal(line.MessagesReplicated, 4);
    assert.equal(line.Lag, 0);
    assert.deepEqual(line.SyncDelay, {
      Values: delay.values,
      Counts: delay.counts,
      Min: 10,
      Max: 3000,
      Sum: 3040,
      Count: 4,
    });
    assert.deepEqual(line.SyncDelay.Counts, [2, 1, 1]);
    // Every declared metric has its value in the document.
    for (const m of line._aws.CloudWatchMetrics[0].Metrics) assert.ok(m.Name in line, m.Name);
  });

  it('has no SyncDelay when nothing was replicated', () => {
    const totals = { consumed: 0, replicated: 0, filtered: 0, loopSkipped: 0, failed: 0, throttled: 0, delay: null, lag: null };
    const job = { tenant: 'default', taskId: 'task-1', flow: 'forward' as const, shard: 0 };
    const [r] = replicatorRecords({ exit: 'budget', job, durationMs: 900, task: { name: 'orders', route: 'A->B' }, totals });
    assert.equal(r!.distributions, undefined);
  });
});

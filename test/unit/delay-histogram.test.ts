// The Prometheus delay histogram: fixed buckets the replicator counts every delay into, the
// exposition text the exporter writes from summed counts (cumulative `le` buckets, _sum, _count),
// and the bound on per-topic series.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { histogramText } from '../../shared/monitoring/histogram-text.ts';
import { boundTopicSeries, type TopicSeries } from '../../shared/monitoring/topic-series.ts';
import {
  DELAY_BUCKET_COUNT,
  DELAY_BUCKETS_S,
  addDelayCounts,
  cumulativeDelayCounts,
  delayBucket,
  emptyDelayCounts,
} from '../../shared/replication/delay-buckets.ts';
import { FlowMetrics } from '../../shared/replication/flow-metrics.ts';
import { one, parseExposition } from '../support/prometheus-text.ts';

const INF = DELAY_BUCKETS_S.length;

describe('delay buckets', () => {
  it('puts a delay in the first bucket whose bound it does not exceed (le), past 60 s in +Inf', () => {
    assert.equal(DELAY_BUCKET_COUNT, 14);
    assert.equal(delayBucket(0), 0);
    assert.equal(delayBucket(-20), 0, 'a clock behind the source counts as 0');
    assert.equal(delayBucket(5), 0, '5 ms is le 0.005');
    assert.equal(delayBucket(5.001), 1);
    assert.equal(delayBucket(100), DELAY_BUCKETS_S.indexOf(0.1));
    assert.equal(delayBucket(101), DELAY_BUCKETS_S.indexOf(0.25));
    assert.equal(delayBucket(1000), DELAY_BUCKETS_S.indexOf(1));
    assert.equal(delayBucket(60_000), DELAY_BUCKETS_S.indexOf(60));
    assert.equal(delayBucket(60_001), INF);
    assert.equal(delayBucket(3_600_000), INF);
  });

  it('adds counts element-wise and makes them cumulative, the last equal to the total', () => {
    const c = addDelayCounts(emptyDelayCounts(), [1, 2]);
    addDelayCounts(c, [0, 1, 0, 4]);
    addDelayCounts(c, null);
    assert.deepEqual(c.slice(0, 5), [1, 3, 0, 4, 0]);
    const cum = cumulativeDelayCounts(c);
    assert.equal(cum.length, DELAY_BUCKET_COUNT);
    assert.deepEqual(cum.slice(0, 5), [1, 4, 4, 8, 8]);
    assert.equal(cum.at(-1), 8);
    for (let i = 1; i < cum.length; i++) assert.ok(cum[i]! >= cum[i - 1]!, 'non-decreasing');
  });

  it("is what a flow's drained delta carries: exact counts per bucket and the sum, reset after each drain", () => {
    const m = new FlowMetrics('task-1', 'forward');
    for (const v of [1, 4, 30, 700, 700, 90_000]) m.recordDelay(v);
    m.replicated = 6;
    const d = m.drain(0)!;
    const expected = emptyDelayCounts();
    expected[0] = 2;
    expected[DELAY_BUCKETS_S.indexOf(0.05)] = 1;
    expected[DELAY_BUCKETS_S.indexOf(1)] = 2;
    expected[INF] = 1;
    assert.deepEqual(d.delayCounts, expected);
    assert.equal(d.delaySumMs, 1 + 4 + 30 + 700 + 700 + 90_000);
    assert.equal(d.topics, undefined, 'per-topic counters are off by default');
    m.consumed = 1;
    const next = m.drain(60_000)!;
    assert.equal(next.delayCounts, null, 'no delay since the last drain: no counts');
    assert.equal(next.delaySumMs, 0);
  });

  it('counts by source topic only when per-topic metrics are on', () => {
    const off = new FlowMetrics('task-1', 'forward');
    off.countTopic('orders', 'consumed', 3);
    off.consumed = 3;
    assert.equal(off.drain(0)!.topics, undefined);
    const on = new FlowMetrics('task-1', 'forward', true, true);
    on.consumed = 5;
    on.countTopic('orders', 'consumed', 3);
    on.countTopic('payments', 'consumed', 2);
    on.countTopic('orders', 'replicated', 2);
    on.countTopic('orders', 'failed');
    assert.deepEqual(on.drain(0)!.topics, [
      { topic: 'orders', consumed: 3, replicated: 2, failed: 1 },
      { topic: 'payments', consumed: 2, replicated: 0, failed: 0 },
    ]);
    on.consumed = 1;
    assert.equal(on.drain(0)!.topics, undefined, 'reset by the drain');
  });
});

describe('histogram exposition text', () => {
  it('writes cumulative le buckets, _sum and _count per label set, with escaped labels', () => {
    const counts = emptyDelayCounts();
    counts[0] = 2;
    counts[3] = 1;
    counts[INF] = 4;
    const labels = { task_id: 't-1', task_name: 'orders "dr"\\eu', tenant: 'default', flow: 'A->B' };
    const text = histogramText('ferry_replication_delay_seconds', 'Sync delay.', [
      { labels, counts, sum: 321.5 },
      { labels: { ...labels, flow: 'B->A' }, counts: emptyDelayCounts(), sum: 0 },
    ]);
    const { types, samples } = parseExposition(text);
    assert.equal(types.get('ferry_replication_delay_seconds'), 'histogram');
    const bucket = (le: string, flow = 'A->B') => one(samples, 'ferry_replication_delay_seconds_bucket', { flow, le });
    assert.equal(bucket('0.005'), 2);
    assert.equal(bucket('0.025'), 2);
    assert.equal(bucket('0.05'), 3);
    assert.equal(bucket('60'), 3);
    assert.equal(bucket('+Inf'), 7);
    assert.equal(one(samples, 'ferry_replication_delay_seconds_count', { flow: 'A->B' }), 7);
    assert.equal(one(samples, 'ferry_replication_delay_seconds_sum', { flow: 'A->B', task_name: 'orders "dr"\\eu' }), 321.5);
    assert.equal(bucket('+Inf', 'B->A'), 0);
    assert.equal(
      samples.filter((s) => s.name === 'ferry_replication_delay_seconds_bucket' && s.labels.flow === 'A->B').length,
      DELAY_BUCKET_COUNT,
    );
  });

  it('writes HELP and TYPE even with no series', () => {
    assert.equal(histogramText('x_seconds', 'help', []), '# HELP x_seconds help\n# TYPE x_seconds histogram\n');
  });
});

describe('per-topic series bound', () => {
  const s = (key: string, topic: string, n: number): TopicSeries<string> => ({
    labels: key,
    key,
    topic,
    consumed: n,
    replicated: n,
    failed: 0,
  });

  it('keeps the first topics by task/flow and name, and sums the rest per flow under _other', () => {
    const all = [s('t1/f', 'c', 3), s('t1/f', 'a', 1), s('t2/f', 'a', 10), s('t1/f', 'b', 2), s('t2/f', 'z', 5)];
    assert.deepEqual(boundTopicSeries(all, 10), [
      s('t1/f', 'a', 1),
      s('t1/f', 'b', 2),
      s('t1/f', 'c', 3),
      s('t2/f', 'a', 10),
      s('t2/f', 'z', 5),
    ]);
    assert.deepEqual(boundTopicSeries(all, 2), [s('t1/f', 'a', 1), s('t1/f', 'b', 2), s('t1/f', '_other', 3), s('t2/f', '_other', 15)]);
    const bounded = boundTopicSeries(all, 2);
    const total = (xs: TopicSeries<string>[]) => xs.reduce((n, x) => n + x.consumed, 0);
    assert.equal(total(bounded), total(all), 'nothing is lost, only folded');
  });

  it('folds a topic literally named _other into the _other series', () => {
    assert.deepEqual(boundTopicSeries([s('k', '_other', 2), s('k', 'a', 1)], 5), [s('k', 'a', 1), s('k', '_other', 2)]);
  });
});

describe('per-topic metrics settings', () => {
  it('are off with a bound of 1000 by default, and read from FERRY_METRICS_PER_TOPIC / FERRY_METRICS_TOPIC_SERIES_MAX', () => {
    const d = loadConfig({});
    assert.deepEqual([d.metricsPerTopic, d.metricsTopicSeriesMax], [false, 1000]);
    const c = loadConfig({ FERRY_METRICS_PER_TOPIC: 'true', FERRY_METRICS_TOPIC_SERIES_MAX: '50' });
    assert.deepEqual([c.metricsPerTopic, c.metricsTopicSeriesMax], [true, 50]);
    assert.throws(
      () => loadConfig({ FERRY_METRICS_PER_TOPIC: 'yes', FERRY_METRICS_TOPIC_SERIES_MAX: '0' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.variables.includes('FERRY_METRICS_PER_TOPIC') &&
        e.variables.includes('FERRY_METRICS_TOPIC_SERIES_MAX'),
    );
  });
});

// The Prometheus exporter over the embedded store with a controlled clock: counters are the sum of
// every minute bucket (settled minutes cached, recent ones re-read), lag and delay come from the
// last minute only, parked and metadata gauges follow the store, a tenant sees its own tasks; the
// delay histogram sums the replicators' bucket counts, per-topic counters show only when switched on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
import { DELAY_BUCKETS_S } from '../../shared/replication/delay-buckets.ts';
import { FlowMetrics } from '../../shared/replication/flow-metrics.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store, TaskRow } from '../../shared/store/store.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { find, one, parseExposition } from '../support/prometheus-text.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';

const MINUTE = 60_000;
const T = Date.UTC(2030, 0, 1, 12, 0); // a minute boundary

describe('Prometheus exporter', () => {
  let dir: Throwaway<string>;
  let store: Store;
  let task: TaskRow;
  let clock = T - 10 * MINUTE;
  let exporter: PrometheusExporter;
  const scrape = async (tenant = 'default') => parseExposition(await exporter.render(tenant)).samples;

  before(async () => {
    dir = await throwawayDataDir();
    store = await openStore({ dataDir: dir.value });
    const spec = taskSpec(
      {
        direction: 'two-way',
        source: selfBuilt({ clusterId: 'A', nameServer: '127.0.0.1:1' }),
        target: selfBuilt({ clusterId: 'B', nameServer: '127.0.0.1:2' }),
      },
      aesGcmCipher(randomBytes(32)),
    );
    task = await insertTestTask(store, spec, { name: 'orders "dr"\\eu' });
    exporter = new PrometheusExporter(store, () => clock);
  });
  after(async () => {
    await store?.close();
    await dir?.drop();
  });

  it('sums every bucket per flow, takes lag and delay from the last minute, and keeps counting past the settle point', async () => {
    const labels = (flow: string) => ({ task_id: task.id, task_name: 'orders "dr"\\eu', tenant: 'default', flow });
    // Before anything was recorded (ten minutes ago): both flows at zero, no lag or delay reading.
    let s = await scrape();
    assert.equal(one(s, 'ferry_messages_replicated_total', labels('A->B')), 0);
    assert.equal(one(s, 'ferry_messages_replicated_total', labels('B->A')), 0);
    assert.equal(find(s, 'ferry_replication_lag_messages', { task_id: task.id }).length, 0);

    // Buckets are written in the minute they are dated (replicators flush what the current minute counted).
    await store.addMetrics([
      { taskId: task.id, flow: 'forward', minuteMs: T - 10 * MINUTE, consumed: 7, replicated: 5, filtered: 2, lag: 40, delayP99Ms: 900 },
      { taskId: task.id, flow: 'forward', minuteMs: T - MINUTE, consumed: 3, replicated: 3, lag: 4, delayP99Ms: 250, delayMaxMs: 400 },
      {
        taskId: task.id,
        flow: 'forward',
        minuteMs: T,
        consumed: 2,
        replicated: 2,
        failed: 1,
        throttled: 6,
        lag: 1,
        delayP99Ms: 100,
        delayMaxMs: 300,
      },
      { taskId: task.id, flow: 'reverse', minuteMs: T, consumed: 9, loopSkipped: 9, lag: 0 },
    ]);
    clock = T + 30_000;
    s = await scrape();
    assert.equal(one(s, 'ferry_messages_consumed_total', labels('A->B')), 12);
    assert.equal(one(s, 'ferry_messages_replicated_total', labels('A->B')), 10);
    assert.equal(one(s, 'ferry_messages_filtered_total', labels('A->B')), 2);
    assert.equal(one(s, 'ferry_messages_failed_total', labels('A->B')), 1);
    assert.equal(one(s, 'ferry_messages_throttled_total', labels('A->B')), 6);
    assert.equal(one(s, 'ferry_messages_loop_skipped_total', labels('B->A')), 9);
    assert.equal(one(s, 'ferry_replication_lag_messages', labels('A->B')), 1);
    assert.equal(one(s, 'ferry_replication_lag_messages', labels('B->A')), 0);
    assert.equal(one(s, 'ferry_replication_delay_p99_seconds', labels('A->B')), 0.1);
    assert.equal(one(s, 'ferry_replication_delay_max_seconds', labels('A->B')), 0.3);
    assert.equal(find(s, 'ferry_replication_delay_p99_seconds', labels('B->A')).length, 0, 'nothing replicated: no delay reading');

    // Ten minutes on: the earlier minutes are settled into the cache; new buckets still add up.
    clock = T + 10 * MINUTE + 5_000;
    await store.addMetrics([{ taskId: task.id, flow: 'forward', minuteMs: T + 10 * MINUTE, consumed: 4, replicated: 4, lag: 0 }]);
    s = await scrape();
    assert.equal(one(s, 'ferry_messages_replicated_total', labels('A->B')), 14);
    assert.equal(one(s, 'ferry_messages_consumed_total', labels('B->A')), 9);
    assert.equal(one(s, 'ferry_replication_lag_messages', labels('A->B')), 0);
    assert.equal(find(s, 'ferry_replication_lag_messages', labels('B->A')).length, 0, 'a reading older than a minute is no reading');
    assert.equal(find(s, 'ferry_replication_delay_p99_seconds', { task_id: task.id }).length, 0);
    await store.addMetrics([{ taskId: task.id, flow: 'forward', minuteMs: T + 10 * MINUTE, replicated: 1 }]);
    assert.equal(one(await scrape(), 'ferry_messages_replicated_total', labels('A->B')), 15, 'the current minute is re-read every scrape');
  });

  it('shows the task status, parked messages and metadata items; another tenant sees none of it', async () => {
    const base = {
      taskId: task.id,
      topic: 'orders',
      broker: 'broker-a',
      queueId: 0,
      reason: 'read-only topic',
      payload: new Uint8Array([1]),
      properties: {},
    };
    await store.parkMessage({ ...base, flow: 'forward', queueOffset: 1 });
    await store.parkMessage({ ...base, flow: 'forward', queueOffset: 2 });
    await store.upsertMetadataItems(task.id, [
      { kind: 'topic', name: 'orders', direction: 'source_to_target', action: 'create', status: 'synced' },
      { kind: 'topic', name: 'payments', direction: 'source_to_target', action: 'update', status: 'synced' },
      { kind: 'group', name: 'GID_orders', direction: 'source_to_target', action: 'create', status: 'failed', error: 'denied' },
    ]);
    const s = await scrape();
    assert.equal(one(s, 'ferry_parked_messages', { task_id: task.id, flow: 'A->B' }), 2);
    assert.equal(one(s, 'ferry_parked_messages', { task_id: task.id, flow: 'B->A' }), 0);
    assert.equal(one(s, 'ferry_metadata_items', { task_id: task.id, kind: 'topic', status: 'synced' }), 2);
    assert.equal(one(s, 'ferry_metadata_items', { task_id: task.id, kind: 'group', status: 'failed' }), 1);
    assert.equal(one(s, 'ferry_task_status', { task_id: task.id, status: 'running' }), 1);
    assert.equal(one(s, 'ferry_task_status', { task_id: task.id, status: 'stopped' }), 0);
    assert.equal(one(s, 'ferry_tasks', { tenant: 'default', status: 'running' }), 1);
    assert.equal(one(s, 'ferry_task_health', { task_id: task.id, state: 'ok' }), 1, 'not evaluated yet: ok');
    assert.ok(await store.setTaskHealth(task.id, { state: 'degraded', reason: 'cluster B is unreachable', since: clock }));
    const degraded = await scrape();
    assert.equal(one(degraded, 'ferry_task_health', { task_id: task.id, task_name: task.name, state: 'degraded' }), 1);
    assert.equal(one(degraded, 'ferry_task_health', { task_id: task.id, state: 'ok' }), 0);
    assert.equal(one(degraded, 'ferry_task_health', { task_id: task.id, state: 'stalled' }), 0);

    const other = await scrape('other');
    assert.equal(find(other, 'ferry_task_status', { task_id: task.id }).length, 0);
    assert.equal(find(other, 'ferry_messages_replicated_total', {}).length, 0);
    assert.equal(one(other, 'ferry_tasks', { tenant: 'other', status: 'running' }), 0);

    // A deleted task's series go with it.
    await store.deleteTask('default', task.id);
    const gone = await scrape();
    assert.equal(find(gone, 'ferry_task_status', { task_id: task.id }).length, 0);
    assert.equal(find(gone, 'ferry_messages_replicated_total', { task_id: task.id }).length, 0);
  });

  it("exposes the delay histogram from the replicators' bucket counts, and per-topic counters only when switched on", async () => {
    const spec = taskSpec(
      {
        direction: 'one-way',
        source: selfBuilt({ clusterId: 'A', nameServer: '127.0.0.1:1' }),
        target: selfBuilt({ clusterId: 'B', nameServer: '127.0.0.1:2' }),
      },
      aesGcmCipher(randomBytes(32)),
    );
    const t = await insertTestTask(store, spec, { name: `hist-${randomBytes(3).toString('hex')}` });
    // Two shards' flow metrics over two minutes, as replicators flush them (per-topic counting on).
    const delays = [[2, 3, 40, 40, 700], [1500, 1500, 70_000], [8]];
    let replicated = 0;
    let sumMs = 0;
    for (const [i, batch] of delays.entries()) {
      const m = new FlowMetrics(t.id, 'forward', i === 0, true);
      for (const d of batch) m.recordDelay(d);
      m.consumed = m.replicated = batch.length;
      m.countTopic(i === 2 ? 'payments' : 'orders', 'consumed', batch.length);
      m.countTopic(i === 2 ? 'payments' : 'orders', 'replicated', batch.length);
      if (i === 1) m.countTopic('audit', 'failed', 2);
      replicated += batch.length;
      sumMs += batch.reduce((a, b) => a + b, 0);
      await store.addMetrics([m.drain(T - 10 * MINUTE + Math.min(i, 1) * 9 * MINUTE + 1000)!]);
    }
    clock = T + 30_000;
    const on = new PrometheusExporter(store, () => clock, { perTopic: true, topicSeriesMax: 1000 });
    const off = new PrometheusExporter(store, () => clock);
    const l = { task_id: t.id, flow: 'A->B' };
    for (const exporter of [on, off]) {
      const { types, samples } = parseExposition(await exporter.render('default'));
      assert.equal(types.get('ferry_replication_delay_seconds'), 'histogram');
      const buckets = find(samples, 'ferry_replication_delay_seconds_bucket', l);
      assert.equal(buckets.length, DELAY_BUCKETS_S.length + 1);
      const le = (b: string) => one(samples, 'ferry_replication_delay_seconds_bucket', { ...l, le: b });
      assert.equal(le('+Inf'), replicated, 'the bucket counts add up to the replicated messages');
      assert.equal(one(samples, 'ferry_replication_delay_seconds_count', l), replicated);
      assert.equal(one(samples, 'ferry_messages_replicated_total', l), replicated);
      assert.equal(one(samples, 'ferry_replication_delay_seconds_sum', l), sumMs / 1000);
      assert.equal(le('0.005'), 2);
      assert.equal(le('0.01'), 3);
      assert.equal(le('0.05'), 5);
      assert.equal(le('1'), 6);
      assert.equal(le('2.5'), 8);
      assert.equal(le('60'), 8);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
    }
    const withTopics = parseExposition(await on.render('default')).samples;
    const topic = (name: string, topicName: string) => one(withTopics, name, { ...l, topic: topicName });
    assert.equal(topic('ferry_topic_messages_replicated_total', 'orders'), 8);
    assert.equal(topic('ferry_topic_messages_consumed_total', 'payments'), 1);
    assert.equal(topic('ferry_topic_messages_failed_total', 'audit'), 2);
    assert.equal(topic('ferry_topic_messages_failed_total', 'orders'), 0);
    const withoutTopics = parseExposition(await off.render('default'));
    assert.equal(withoutTopics.types.has('ferry_topic_messages_replicated_total'), false, 'per-topic series are off by default');
    assert.equal(find(withoutTopics.samples, 'ferry_topic_messages_consumed_total', {}).length, 0);

    // Past the series bound, the remaining topics of the flow are summed under topic="_other".
    const bounded = new PrometheusExporter(store, () => clock, { perTopic: true, topicSeriesMax: 1 });
    const b = parseExposition(await bounded.render('default')).samples;
    assert.deepEqual(
      find(b, 'ferry_topic_messages_consumed_total', l).map((x) => [x.labels.topic, x.value]),
      [
        ['audit', 0],
        ['_other', 9],
      ],
    );
    assert.equal(one(b, 'ferry_topic_messages_failed_total', { ...l, topic: 'audit' }), 2);
  });
});

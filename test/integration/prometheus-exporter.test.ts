// The Prometheus exporter over the embedded store with a controlled clock: counters are the sum of
// every minute bucket (settled minutes cached, recent ones re-read), lag and delay come from the
// last minute only, parked and metadata gauges follow the store, a tenant sees its own tasks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PrometheusExporter } from '../../shared/monitoring/prometheus.ts';
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
});

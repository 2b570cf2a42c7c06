// Prometheus exposition of what Ferry recorded: computed at scrape time from the store (the
// replicators' per-minute buckets, task rows, parked messages, metadata outcomes), so the figures
// are right whichever process did the replicating; plus the process metrics of this runtime.
// A scrape sees one tenant: the tenant of the bearer token it presents.
//
// Counters and the delay histogram are sums over every stored minute of the task's flow, computed
// at each scrape, so they do not reset when an API process restarts or another instance answers
// (each rebuilds the same sums from the store). They only fall when minutes leave the store: a
// deleted task takes its series with it, and a process started after old minutes were pruned would
// show smaller sums; Prometheus' rate()/increase() read such a fall as a counter reset.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { addDelayCounts, emptyDelayCounts } from '../replication/delay-buckets.ts';
import { flowsOf } from '../replication/flows.ts';
import { HEALTH_STATES, taskHealth } from '../tasks/health.ts';
import { histogramText } from './histogram-text.ts';
import { boundTopicSeries, type TopicSeries } from './topic-series.ts';
import type {
  MetadataStateStore,
  MetricsCounters,
  MetricsRow,
  MetricsStore,
  ParkedStore,
  TaskRow,
  TaskStatus,
  TaskStore,
} from '../store/store.ts';

const MINUTE = 60_000;
/** A replicator writes into the bucket of the minute it flushes in: older buckets are final, so their sums are kept, not re-read. */
const SETTLED_AFTER_MS = 5 * MINUTE;
/** Lag and delay come from the current or previous minute only; an older reading is no reading. */
const FRESH_MS = MINUTE;
const STATUSES: readonly TaskStatus[] = ['initializing', 'running', 'stopping', 'stopped', 'start_failed', 'deleting'];

const COUNTERS: readonly [keyof MetricsCounters, string, string][] = [
  ['consumed', 'ferry_messages_consumed_total', 'Messages pulled from the source cluster.'],
  ['replicated', 'ferry_messages_replicated_total', 'Messages sent to the target cluster (parked messages re-sent included).'],
  ['filtered', 'ferry_messages_filtered_total', 'Messages skipped by the task filter (tag or SQL92).'],
  ['loopSkipped', 'ferry_messages_loop_skipped_total', 'Messages not sent because the target is already on their path (two-way tasks).'],
  ['failed', 'ferry_messages_failed_total', 'Messages parked: refused by the target, or failing past the send retry budget.'],
  ['throttled', 'ferry_messages_throttled_total', 'Messages delayed by the task TPS limit or the target broker flow control.'],
];

const TOPIC_COUNTERS: readonly ['consumed' | 'replicated' | 'failed', string, string][] = [
  ['consumed', 'ferry_topic_messages_consumed_total', 'Messages pulled from the source cluster, by source topic.'],
  ['replicated', 'ferry_topic_messages_replicated_total', 'Messages sent to the target cluster, by source topic.'],
  ['failed', 'ferry_topic_messages_failed_total', 'Messages parked, by source topic.'],
];

type FlowLabels = 'task_id' | 'task_name' | 'tenant' | 'flow';
const FLOW_LABELS: readonly FlowLabels[] = ['task_id', 'task_name', 'tenant', 'flow'];

/** Counters plus the delay histogram (per-bucket counts, sum in ms), summed over minutes. */
interface Totals extends MetricsCounters {
  delayCounts: number[];
  delaySumMs: number;
}

export interface ExporterOptions {
  /** Show the per-topic counters (FERRY_METRICS_PER_TOPIC; replicators record them only then). */
  perTopic?: boolean;
  /** Per-topic series one scrape shows at most; the rest are summed under topic="_other". */
  topicSeriesMax?: number;
}

interface FlowReading {
  labels: Record<FlowLabels, string>;
  totals: Totals;
  lag: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
  parked: number;
}

interface Reading {
  tasks: TaskRow[];
  flows: FlowReading[];
  topics: TopicSeries<Record<FlowLabels, string>>[];
  metadata: { task: TaskRow; kind: string; status: string; items: number }[];
}

interface Settled {
  /** Buckets with minuteMs < upTo are summed into `sums` (by flow id). */
  upTo: number;
  sums: Map<string, Totals>;
}

const COUNTER_KEYS = COUNTERS.map(([k]) => k);
const zero = (): Totals => ({
  consumed: 0,
  replicated: 0,
  filtered: 0,
  loopSkipped: 0,
  failed: 0,
  throttled: 0,
  delayCounts: emptyDelayCounts(),
  delaySumMs: 0,
});
const add = (into: Totals, row: MetricsRow) => {
  for (const k of COUNTER_KEYS) into[k] += row[k];
  addDelayCounts(into.delayCounts, row.delayCounts);
  into.delaySumMs += row.delaySumMs;
};
const copy = (t: Totals): Totals => ({ ...t, delayCounts: [...t.delayCounts] });

export class PrometheusExporter {
  private readonly processMetrics = new Registry();
  private readonly settled = new Map<string, Settled>();

  constructor(
    private readonly store: TaskStore & MetricsStore & ParkedStore & MetadataStateStore,
    private readonly now: () => number = Date.now,
    private readonly options: ExporterOptions = {},
  ) {
    collectDefaultMetrics({ register: this.processMetrics });
  }

  /** `text/plain; version=0.0.4; charset=utf-8`: the text exposition format. */
  get contentType(): string {
    return this.processMetrics.contentType;
  }

  /** The exposition text for one tenant's tasks, read from the store now. */
  async render(tenant: string): Promise<string> {
    let reading: Promise<Reading> | undefined;
    // Every metric's collect() shares one read of the store per scrape.
    const read = () => (reading ??= this.read(tenant));
    const reg = new Registry();
    for (const [key, name, help] of COUNTERS) {
      new Counter<FlowLabels>({
        name,
        help,
        labelNames: FLOW_LABELS,
        registers: [reg],
        async collect() {
          const r = await read();
          this.reset();
          for (const f of r.flows) this.inc(f.labels, f.totals[key]);
        },
      });
    }
    const flowGauge = (name: string, help: string, value: (f: FlowReading) => number | null) =>
      new Gauge<FlowLabels>({
        name,
        help,
        labelNames: FLOW_LABELS,
        registers: [reg],
        async collect() {
          const r = await read();
          this.reset();
          for (const f of r.flows) {
            const v = value(f);
            if (v !== null) this.set(f.labels, v);
          }
        },
      });
    // Off by default: replicators record no per-topic rows then, and the families would stay empty.
    for (const [key, name, help] of this.options.perTopic ? TOPIC_COUNTERS : []) {
      new Counter<FlowLabels | 'topic'>({
        name,
        help,
        labelNames: [...FLOW_LABELS, 'topic'],
        registers: [reg],
        async collect() {
          const r = await read();
          this.reset();
          for (const t of r.topics) this.inc({ ...t.labels, topic: t.topic }, t[key]);
        },
      });
    }
    flowGauge(
      'ferry_replication_lag_messages',
      'Messages in the source queues not yet pulled (sum over queues), as of the last minute.',
      (f) => f.lag,
    );
    flowGauge(
      'ferry_replication_delay_p99_seconds',
      'Sync delay p99 (target send time minus source store time) over the last minute.',
      (f) => (f.delayP99Ms === null ? null : f.delayP99Ms / 1000),
    );
    flowGauge('ferry_replication_delay_max_seconds', 'Largest sync delay over the last minute.', (f) =>
      f.delayMaxMs === null ? null : f.delayMaxMs / 1000,
    );
    flowGauge('ferry_parked_messages', 'Messages parked after failing to send, not yet resolved by a retry.', (f) => f.parked);
    new Gauge<'task_id' | 'task_name' | 'tenant' | 'status'>({
      name: 'ferry_task_status',
      help: 'The task status: 1 for the current one, 0 for the others.',
      labelNames: ['task_id', 'task_name', 'tenant', 'status'],
      registers: [reg],
      async collect() {
        const r = await read();
        this.reset();
        for (const t of r.tasks)
          for (const s of STATUSES) this.set({ task_id: t.id, task_name: t.name, tenant: t.tenant, status: s }, t.status === s ? 1 : 0);
      },
    });
    new Gauge<'task_id' | 'task_name' | 'tenant' | 'state'>({
      name: 'ferry_task_health',
      help: 'The task health (ok, degraded, stalled; the API says why): 1 for the current one, 0 for the others.',
      labelNames: ['task_id', 'task_name', 'tenant', 'state'],
      registers: [reg],
      async collect() {
        const r = await read();
        this.reset();
        for (const t of r.tasks) {
          const { state } = taskHealth(t);
          for (const s of HEALTH_STATES) this.set({ task_id: t.id, task_name: t.name, tenant: t.tenant, state: s }, state === s ? 1 : 0);
        }
      },
    });
    new Gauge<'tenant' | 'status'>({
      name: 'ferry_tasks',
      help: 'Tasks by status.',
      labelNames: ['tenant', 'status'],
      registers: [reg],
      async collect() {
        const r = await read();
        this.reset();
        for (const s of STATUSES) this.set({ tenant, status: s }, r.tasks.filter((t) => t.status === s).length);
      },
    });
    new Gauge<'task_id' | 'task_name' | 'tenant' | 'kind' | 'status'>({
      name: 'ferry_metadata_items',
      help: 'Metadata items (topics, groups, ACL entries) by the outcome of their last sync.',
      labelNames: ['task_id', 'task_name', 'tenant', 'kind', 'status'],
      registers: [reg],
      async collect() {
        const r = await read();
        this.reset();
        for (const m of r.metadata)
          this.set({ task_id: m.task.id, task_name: m.task.name, tenant: m.task.tenant, kind: m.kind, status: m.status }, m.items);
      },
    });
    const text = await Registry.merge([this.processMetrics, reg]).metrics();
    const delay = histogramText(
      'ferry_replication_delay_seconds',
      'Sync delay (target send time minus source store time) of every replicated message, over the life of the task.',
      (await read()).flows.map((f) => ({ labels: f.labels, counts: f.totals.delayCounts, sum: f.totals.delaySumMs / 1000 })),
    );
    return `${text}\n${delay}`;
  }

  private async read(tenant: string): Promise<Reading> {
    const all = await this.store.listAllTasks();
    // Deleted tasks take their buckets with them; so does this cache.
    const live = new Set(all.map((t) => t.id));
    for (const id of this.settled.keys()) if (!live.has(id)) this.settled.delete(id);
    const tasks = all.filter((t) => t.tenant === tenant);
    const flows: FlowReading[] = [];
    const topics: Reading['topics'] = [];
    const metadata: Reading['metadata'] = [];
    for (const task of tasks) {
      const [{ totals, recent }, parked, items, byTopic] = await Promise.all([
        this.totals(task.id),
        this.store.countParked(task.id),
        this.store.listMetadataItems(task.id),
        this.options.perTopic ? this.store.topicTotals(task.id) : [],
      ]);
      for (const flow of flowsOf(task.spec)) {
        const labels = {
          task_id: task.id,
          task_name: task.name,
          tenant: task.tenant,
          flow: `${flow.from.clusterId}->${flow.to.clusterId}`,
        };
        for (const t of byTopic) if (t.flow === flow.id) topics.push({ ...t, labels, key: `${task.id}\n${flow.id}` });
        const latest = (pick: (r: MetricsRow) => number | null) =>
          recent
            .filter((r) => r.flow === flow.id && pick(r) !== null)
            .map(pick)
            .at(-1) ?? null;
        flows.push({
          labels,
          totals: totals.get(flow.id) ?? zero(),
          lag: latest((r) => r.lag),
          delayP99Ms: latest((r) => r.delayP99Ms),
          delayMaxMs: latest((r) => r.delayMaxMs),
          parked: parked[flow.id] ?? 0,
        });
      }
      const byOutcome = new Map<string, { kind: string; status: string; items: number }>();
      for (const i of items) {
        const k = `${i.kind}\n${i.status}`;
        const e = byOutcome.get(k) ?? { kind: i.kind, status: i.status, items: 0 };
        e.items++;
        byOutcome.set(k, e);
      }
      for (const e of byOutcome.values()) metadata.push({ task, ...e });
    }
    return { tasks, flows, metadata, topics: boundTopicSeries(topics, this.options.topicSeriesMax ?? 1000) };
  }

  /**
   * Counter totals by flow since the task began: settled minutes come from the cache, the rest is
   * read each scrape, so a scrape reads a few buckets per flow however old the task is.
   */
  private async totals(taskId: string): Promise<{ totals: Map<string, Totals>; recent: MetricsRow[] }> {
    const now = this.now();
    const before = this.settled.get(taskId) ?? { upTo: 0, sums: new Map<string, Totals>() };
    // Buckets dated ahead of this clock (another host's) are counted too.
    const rows = await this.store.queryMetrics(taskId, before.upTo, Number.MAX_SAFE_INTEGER);
    const settleBefore = Math.max(before.upTo, Math.floor((now - SETTLED_AFTER_MS) / MINUTE) * MINUTE);
    const next: Settled = { upTo: settleBefore, sums: new Map([...before.sums].map(([f, c]) => [f, copy(c)])) };
    for (const r of rows) {
      if (r.minuteMs >= settleBefore) continue;
      const c = next.sums.get(r.flow) ?? zero();
      add(c, r);
      next.sums.set(r.flow, c);
    }
    // A concurrent scrape may have moved the cache on meanwhile: then keep its result, ours is still consistent.
    if (this.settled.get(taskId) === before || !this.settled.has(taskId)) this.settled.set(taskId, next);
    const totals = new Map([...next.sums].map(([f, c]) => [f, copy(c)]));
    for (const r of rows) {
      if (r.minuteMs < settleBefore) continue;
      const c = totals.get(r.flow) ?? zero();
      add(c, r);
      totals.set(r.flow, c);
    }
    const freshFrom = Math.floor(now / MINUTE) * MINUTE - FRESH_MS;
    return { totals, recent: rows.filter((r) => r.minuteMs >= freshFrom) };
  }
}

// Prometheus exposition of what Ferry recorded: computed at scrape time from the store (the
// replicators' per-minute buckets, task rows, parked messages, metadata outcomes), so the figures
// are right whichever process did the replicating; plus the process metrics of this runtime.
// A scrape sees one tenant: the tenant of the bearer token it presents.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { flowsOf } from '../replication/flows.ts';
import { HEALTH_STATES, taskHealth } from '../tasks/health.ts';
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
const STATUSES: readonly TaskStatus[] = ['initializing', 'running', 'stopped', 'start_failed', 'deleting'];

const COUNTERS: readonly [keyof MetricsCounters, string, string][] = [
  ['consumed', 'ferry_messages_consumed_total', 'Messages pulled from the source cluster.'],
  ['replicated', 'ferry_messages_replicated_total', 'Messages sent to the target cluster (parked messages re-sent included).'],
  ['filtered', 'ferry_messages_filtered_total', 'Messages skipped by the task filter (tag or SQL92).'],
  ['loopSkipped', 'ferry_messages_loop_skipped_total', 'Messages not sent because the target is already on their path (two-way tasks).'],
  ['failed', 'ferry_messages_failed_total', 'Messages parked: refused by the target, or failing past the send retry budget.'],
  ['throttled', 'ferry_messages_throttled_total', 'Messages delayed by the task TPS limit or the target broker flow control.'],
];

type FlowLabels = 'task_id' | 'task_name' | 'tenant' | 'flow';
const FLOW_LABELS: readonly FlowLabels[] = ['task_id', 'task_name', 'tenant', 'flow'];

interface FlowReading {
  labels: Record<FlowLabels, string>;
  totals: MetricsCounters;
  lag: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
  parked: number;
}

interface Reading {
  tasks: TaskRow[];
  flows: FlowReading[];
  metadata: { task: TaskRow; kind: string; status: string; items: number }[];
}

interface Settled {
  /** Buckets with minuteMs < upTo are summed into `sums` (by flow id). */
  upTo: number;
  sums: Map<string, MetricsCounters>;
}

const zero = (): MetricsCounters => ({ consumed: 0, replicated: 0, filtered: 0, loopSkipped: 0, failed: 0, throttled: 0 });
const add = (into: MetricsCounters, row: MetricsCounters) => {
  for (const k of Object.keys(into) as (keyof MetricsCounters)[]) into[k] += row[k];
};

export class PrometheusExporter {
  private readonly processMetrics = new Registry();
  private readonly settled = new Map<string, Settled>();

  constructor(
    private readonly store: TaskStore & MetricsStore & ParkedStore & MetadataStateStore,
    private readonly now: () => number = Date.now,
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
    return Registry.merge([this.processMetrics, reg]).metrics();
  }

  private async read(tenant: string): Promise<Reading> {
    const all = await this.store.listAllTasks();
    // Deleted tasks take their buckets with them; so does this cache.
    const live = new Set(all.map((t) => t.id));
    for (const id of this.settled.keys()) if (!live.has(id)) this.settled.delete(id);
    const tasks = all.filter((t) => t.tenant === tenant);
    const flows: FlowReading[] = [];
    const metadata: Reading['metadata'] = [];
    for (const task of tasks) {
      const [{ totals, recent }, parked, items] = await Promise.all([
        this.totals(task.id),
        this.store.countParked(task.id),
        this.store.listMetadataItems(task.id),
      ]);
      for (const flow of flowsOf(task.spec)) {
        const latest = (pick: (r: MetricsRow) => number | null) =>
          recent
            .filter((r) => r.flow === flow.id && pick(r) !== null)
            .map(pick)
            .at(-1) ?? null;
        flows.push({
          labels: { task_id: task.id, task_name: task.name, tenant: task.tenant, flow: `${flow.from.clusterId}->${flow.to.clusterId}` },
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
    return { tasks, flows, metadata };
  }

  /**
   * Counter totals by flow since the task began: settled minutes come from the cache, the rest is
   * read each scrape, so a scrape reads a few buckets per flow however old the task is.
   */
  private async totals(taskId: string): Promise<{ totals: Map<string, MetricsCounters>; recent: MetricsRow[] }> {
    const now = this.now();
    const before = this.settled.get(taskId) ?? { upTo: 0, sums: new Map<string, MetricsCounters>() };
    // Buckets dated ahead of this clock (another host's) are counted too.
    const rows = await this.store.queryMetrics(taskId, before.upTo, Number.MAX_SAFE_INTEGER);
    const settleBefore = Math.max(before.upTo, Math.floor((now - SETTLED_AFTER_MS) / MINUTE) * MINUTE);
    const next: Settled = { upTo: settleBefore, sums: new Map([...before.sums].map(([f, c]) => [f, { ...c }])) };
    for (const r of rows) {
      if (r.minuteMs >= settleBefore) continue;
      const c = next.sums.get(r.flow) ?? zero();
      add(c, r);
      next.sums.set(r.flow, c);
    }
    // A concurrent scrape may have moved the cache on meanwhile: then keep its result, ours is still consistent.
    if (this.settled.get(taskId) === before || !this.settled.has(taskId)) this.settled.set(taskId, next);
    const totals = new Map([...next.sums].map(([f, c]) => [f, { ...c }]));
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

// Per-flow counters and delay samples, flushed into the store's minute buckets.
import type { MetricsCounters, MetricsDelta, TopicCounters } from '../store/store.ts';
import { delayBucket, emptyDelayCounts } from './delay-buckets.ts';
import { type DelayDistribution, DelayHistogram } from './delay-distribution.ts';

type TopicCounter = 'consumed' | 'replicated' | 'failed';

const MINUTE = 60_000;

/** What one invocation did for its flow, over every drain: the replicator's report to monitoring. */
export interface FlowTotals extends MetricsCounters {
  /** Every delay of the invocation, bucketed; null when nothing was replicated. */
  delay: DelayDistribution | null;
  /** Sum over this shard's queues at the last pull; null when no queue was pulled. */
  lag: number | null;
}

export class FlowMetrics {
  consumed = 0;
  replicated = 0;
  filtered = 0;
  loopSkipped = 0;
  failed = 0;
  throttled = 0;
  private delays: number[] = [];
  private readonly lags = new Map<string, number>();
  private readonly totals: MetricsCounters = { consumed: 0, replicated: 0, filtered: 0, loopSkipped: 0, failed: 0, throttled: 0 };
  private readonly invocationDelays = new DelayHistogram();
  /** Since the last drain: delays in the fixed Prometheus buckets, and their sum. */
  private delayCounts = emptyDelayCounts();
  private delaySumMs = 0;
  /** Since the last drain, by source topic; stays empty unless per-topic metrics are on. */
  private topics = new Map<string, TopicCounters>();

  /**
   * @param reportsLag whether this writer's lag is the flow's: with several shards each knows only
   * its own queues, and the reconciler writes the flow's sum instead.
   */
  constructor(
    private readonly taskId: string,
    private readonly flow: string,
    private readonly reportsLag = true,
    private readonly perTopic = false,
  ) {}

  recordDelay(ms: number): void {
    if (Number.isNaN(ms)) return;
    const v = Math.max(0, ms);
    if (this.delays.length < 100_000) this.delays.push(v);
    this.invocationDelays.record(v);
    this.delayCounts[delayBucket(v)]!++;
    this.delaySumMs += v;
  }

  /** Adds to one source topic's counters (the caller counts the flow's itself); a no-op unless per-topic metrics are on. */
  countTopic(topic: string, counter: TopicCounter, n = 1): void {
    if (!this.perTopic || n === 0) return;
    let t = this.topics.get(topic);
    if (!t) this.topics.set(topic, (t = { topic, consumed: 0, replicated: 0, failed: 0 }));
    t[counter] += n;
  }

  setLag(queue: string, lag: number): void {
    this.lags.set(queue, Math.max(0, lag));
  }

  /** Sum over the queues pulled so far; null before the first pull. */
  currentLag(): number | null {
    if (this.lags.size === 0) return null;
    let sum = 0;
    for (const v of this.lags.values()) sum += v;
    return sum;
  }

  /** Replicated messages of the invocation, drained or not. */
  replicatedSoFar(): number {
    return this.totals.replicated + this.replicated;
  }

  /** Takes what accumulated since the last drain as one delta for the current minute. */
  drain(now = Date.now()): MetricsDelta | undefined {
    const d = this.delays.sort((a, b) => a - b);
    const pick = (p: number) => (d.length ? d[Math.min(d.length - 1, Math.floor(d.length * p))]! : null);
    const lag = this.reportsLag ? this.currentLag() : null;
    const delta: MetricsDelta = {
      taskId: this.taskId,
      flow: this.flow,
      minuteMs: Math.floor(now / MINUTE) * MINUTE,
      consumed: this.consumed,
      replicated: this.replicated,
      filtered: this.filtered,
      loopSkipped: this.loopSkipped,
      failed: this.failed,
      throttled: this.throttled,
      lag,
      delayP50Ms: pick(0.5),
      delayP99Ms: pick(0.99),
      delayMaxMs: d.length ? d[d.length - 1]! : null,
      delayCounts: d.length ? this.delayCounts : null,
      delaySumMs: this.delaySumMs,
      ...(this.topics.size ? { topics: [...this.topics.values()] } : {}),
    };
    for (const k of Object.keys(this.totals) as (keyof MetricsCounters)[]) this.totals[k] += this[k];
    const empty =
      !this.consumed && !this.replicated && !this.filtered && !this.loopSkipped && !this.failed && !this.throttled && lag === null;
    this.consumed = this.replicated = this.filtered = this.loopSkipped = this.failed = this.throttled = 0;
    this.delays = [];
    this.delayCounts = emptyDelayCounts();
    this.delaySumMs = 0;
    this.topics = new Map();
    return empty ? undefined : delta;
  }

  /** The invocation so far: counters of every drain (drain first to include the latest), delay distribution, current lag. */
  invocationTotals(): FlowTotals {
    return { ...this.totals, delay: this.invocationDelays.distribution(), lag: this.currentLag() };
  }
}

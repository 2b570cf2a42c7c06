// The metrics port: per-minute buckets per flow, added to by every shard.

export interface MetricsCounters {
  consumed: number;
  replicated: number;
  filtered: number;
  loopSkipped: number;
  failed: number;
  throttled: number;
}

export interface MetricsGauges {
  lag: number | null;
  delayP50Ms: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
}

/** Delays counted into the fixed Prometheus buckets (shared/replication/delay-buckets.ts). */
export interface MetricsDelayHistogram {
  /** Per bucket (not cumulative), the last one +Inf; null when no delay was counted. */
  delayCounts: number[] | null;
  delaySumMs: number;
}

/** Counters of one source topic of a flow (kept only when per-topic metrics are on). */
export interface TopicCounters {
  topic: string;
  consumed: number;
  replicated: number;
  failed: number;
}

/** One shard's contribution to a minute bucket: counters and delay counts are added, gauges overwrite if given. */
export interface MetricsDelta extends Partial<MetricsCounters>, Partial<MetricsGauges>, Partial<MetricsDelayHistogram> {
  taskId: string;
  flow: string;
  /** Start of the minute, a multiple of 60 000. */
  minuteMs: number;
  /** Added into the flow's per-topic buckets of the same minute. */
  topics?: readonly TopicCounters[];
}

export interface MetricsRow extends MetricsCounters, MetricsGauges, MetricsDelayHistogram {
  taskId: string;
  flow: string;
  minuteMs: number;
}

/** A topic's counters summed over every stored minute. */
export interface TopicTotalsRow extends TopicCounters {
  flow: string;
}

export interface MetricsStore {
  /** Adds counters into each minute bucket; a gauge given (not null) replaces the stored one. */
  addMetrics(rows: readonly MetricsDelta[]): Promise<void>;
  /** Buckets with fromMs <= minuteMs < toMs, by minute then flow. */
  queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]>;
  /** Per-topic counters of the task summed over all stored minutes, by flow then topic. */
  topicTotals(taskId: string): Promise<TopicTotalsRow[]>;
}

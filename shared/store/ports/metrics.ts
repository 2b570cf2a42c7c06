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

/** One shard's contribution to a minute bucket: counters are added, gauges overwrite if given. */
export interface MetricsDelta extends Partial<MetricsCounters>, Partial<MetricsGauges> {
  taskId: string;
  flow: string;
  /** Start of the minute, a multiple of 60 000. */
  minuteMs: number;
}

export interface MetricsRow extends MetricsCounters, MetricsGauges {
  taskId: string;
  flow: string;
  minuteMs: number;
}

export interface MetricsStore {
  /** Adds counters into each minute bucket; a gauge given (not null) replaces the stored one. */
  addMetrics(rows: readonly MetricsDelta[]): Promise<void>;
  /** Buckets with fromMs <= minuteMs < toMs, by minute then flow. */
  queryMetrics(taskId: string, fromMs: number, toMs: number): Promise<MetricsRow[]>;
}

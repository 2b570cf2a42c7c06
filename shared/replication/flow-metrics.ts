// Per-flow counters and delay samples, flushed into the store's minute buckets.
import type { MetricsDelta } from '../store/store.ts';

const MINUTE = 60_000;

export class FlowMetrics {
  consumed = 0;
  replicated = 0;
  filtered = 0;
  loopSkipped = 0;
  failed = 0;
  throttled = 0;
  private delays: number[] = [];
  private readonly lags = new Map<string, number>();

  constructor(private readonly taskId: string, private readonly flow: string) {}

  recordDelay(ms: number): void {
    if (this.delays.length < 100_000) this.delays.push(Math.max(0, ms));
  }

  setLag(queue: string, lag: number): void {
    this.lags.set(queue, Math.max(0, lag));
  }

  /** Takes what accumulated since the last drain as one delta for the current minute. */
  drain(now = Date.now()): MetricsDelta | undefined {
    const d = this.delays.sort((a, b) => a - b);
    const pick = (p: number) => (d.length ? d[Math.min(d.length - 1, Math.floor(d.length * p))]! : null);
    const lag = this.lags.size ? [...this.lags.values()].reduce((a, b) => a + b, 0) : null;
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
    };
    const empty = !this.consumed && !this.replicated && !this.filtered && !this.loopSkipped && !this.failed && !this.throttled && lag === null;
    this.consumed = this.replicated = this.filtered = this.loopSkipped = this.failed = this.throttled = 0;
    this.delays = [];
    return empty ? undefined : delta;
  }
}

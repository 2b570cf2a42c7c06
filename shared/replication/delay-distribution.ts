// Every sync delay of an invocation, counted into log-scale buckets (each 10% wide), so a
// monitoring backend can compute any percentile over many invocations: CloudWatch takes it as
// Values/Counts (at most 100 pairs per metric and line), where a precomputed p99 per invocation
// could only be averaged. Memory is bounded by the range of delays, not by their number.

/** Each bucket covers (RATIO^(i-1), RATIO^i] milliseconds: a value is placed within 10%. */
const RATIO = 1.1;
const LOG_RATIO = Math.log(RATIO);
/** CloudWatch takes at most 100 values per metric in one EMF line. */
export const MAX_DISTINCT_VALUES = 100;

/** A distribution as CloudWatch takes it: each value with how often it occurred, plus exact min/max/sum/count. */
export interface DelayDistribution {
  values: number[];
  counts: number[];
  min: number;
  max: number;
  sum: number;
  count: number;
}

export class DelayHistogram {
  /** Bucket index → count; delays under 1 ms share the bucket ZERO. */
  private readonly buckets = new Map<number, number>();
  private min = Number.POSITIVE_INFINITY;
  private max = 0;
  private sum = 0;
  private count = 0;

  record(ms: number): void {
    if (Number.isNaN(ms)) return;
    const v = Math.max(0, ms);
    const i = v < 1 ? ZERO : Math.max(1, Math.ceil(Math.log(v) / LOG_RATIO - 1e-9));
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + 1);
    this.min = Math.min(this.min, v);
    this.max = Math.max(this.max, v);
    this.sum += v;
    this.count++;
  }

  /**
   * The delays as at most `maxValues` value/count pairs, smallest first: each bucket stands for its
   * geometric middle (kept within the exact min and max); when there are more buckets than that,
   * neighbours are merged (twice as wide each round) until they fit. null when nothing was recorded.
   */
  distribution(maxValues = MAX_DISTINCT_VALUES): DelayDistribution | null {
    if (this.count === 0) return null;
    let width = 1;
    let merged = this.mergedBy(width);
    while (merged.size > maxValues) merged = this.mergedBy((width *= 2));
    const keys = [...merged.keys()].sort((a, b) => a - b);
    const clamp = (v: number) => Math.min(this.max, Math.max(this.min, v));
    const middle = (j: number) => (j === ZERO ? 0 : clamp(round(RATIO ** (width * (j - 0.5)))));
    return {
      values: keys.map(middle),
      counts: keys.map((k) => merged.get(k)!),
      min: this.min,
      max: this.max,
      sum: this.sum,
      count: this.count,
    };
  }

  /** Buckets `width` times as wide: base bucket i goes to ceil(i / width), which is its bucket at ratio RATIO^width. */
  private mergedBy(width: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [i, n] of this.buckets) {
      const j = i === ZERO ? ZERO : Math.ceil(i / width);
      out.set(j, (out.get(j) ?? 0) + n);
    }
    return out;
  }
}

const ZERO = 0;
const round = (v: number) => Math.round(v * 1000) / 1000;

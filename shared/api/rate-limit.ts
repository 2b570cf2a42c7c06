// FERRY_RATE_LIMIT_RPS: a token bucket per API token, kept in this process's memory. Each API
// process (a local runtime, one function instance) counts on its own, so a deployment with several
// warm instances lets a token through that many times over: a guard against one client flooding the
// store, not an exact quota.

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;

  constructor(
    private readonly rps: number,
    private readonly now: () => number = Date.now,
  ) {
    // Twice the rate: a CLI applying a few tasks at once is not refused.
    this.burst = 2 * rps;
  }

  /** Takes one request for `key`: undefined when allowed, else the whole seconds to wait (Retry-After). */
  take(key: string): number | undefined {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rps);
    b.at = now;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.forgetFull(now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.rps));
  }

  /** Buckets that have refilled hold nothing worth keeping: a token seen once does not stay forever. */
  private forgetFull(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rps >= this.burst) this.buckets.delete(key);
    }
  }
}

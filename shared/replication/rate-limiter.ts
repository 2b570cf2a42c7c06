// A token bucket: at most `perSecond` permits per second on average, bursts up to one second's
// worth. It starts empty, so a replicator handing over to the next does not add a burst each time.
export class RateLimiter {
  private tokens = 0;
  private last = performance.now();

  constructor(private readonly perSecond: number) {}

  /** Waits until n permits are available; returns the milliseconds spent waiting (throttled time). */
  async take(n: number): Promise<number> {
    let waited = 0;
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= n || (n > this.perSecond && this.tokens >= this.perSecond)) {
        this.tokens -= n;
        return waited;
      }
      const ms = Math.ceil(((n - this.tokens) / this.perSecond) * 1000);
      await new Promise((r) => setTimeout(r, Math.min(ms, 1000)));
      waited += Math.min(ms, 1000);
    }
  }
}

// The local invoker: runs replicator invocations in this process, like an asynchronous "Event"
// invoke would on a platform, and keeps track of them so a shutdown can wait for them to finish.
import type { Invoker, ReplicatorJob } from './invoker.ts';

export class LocalInvoker implements Invoker {
  private readonly running = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly run: (job: ReplicatorJob) => Promise<unknown>) {}

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    if (this.closed) return;
    const p = Promise.resolve()
      .then(() => this.run(job))
      .catch(() => undefined)
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Stops accepting invocations and waits for the running ones (they exit within their budget). */
  async drain(): Promise<void> {
    this.closed = true;
    while (this.running.size) await Promise.all([...this.running]);
  }

  get active(): number {
    return this.running.size;
  }
}

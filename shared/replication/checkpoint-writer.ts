// A shard's checkpoints, written beside the stream: queue copiers report how far the target holds
// their queue, and one write at a time carries every queue that moved since the last one — so a
// shard of thousands of queues costs one store transaction per interval, not one per queue.
import type { CheckpointEntry, LeaseHolder, Store } from '../store/store.ts';
import { queueKey, type SourceQueue } from './queues.ts';

export class CheckpointWriter {
  private dirty = new Map<string, CheckpointEntry>();
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: { err: unknown } | undefined;

  constructor(
    private readonly store: Store,
    private readonly holder: LeaseHolder,
    private readonly intervalMs: number,
    /** Told once when a write fails (a fenced write: the lease or the shard layout moved on). */
    private readonly onFailure: (err: unknown) => void,
  ) {}

  /** Everything before nextOffset of queue q is on the target. */
  report(q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>, nextOffset: number): void {
    this.dirty.set(queueKey(q), { topic: q.topic, broker: q.brokerName, queueId: q.queueId, nextOffset });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      // A failed write has told onFailure already; the copiers see the run stop.
      this.flush().catch(() => undefined);
    }, this.intervalMs);
  }

  /** Reports and writes at once (with whatever else is pending), resolving once it is stored. */
  async reportNow(q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>, nextOffset: number): Promise<void> {
    this.dirty.set(queueKey(q), { topic: q.topic, broker: q.brokerName, queueId: q.queueId, nextOffset });
    await this.flush();
  }

  /** Writes what was reported (waiting for a write in progress first); rethrows a failed write. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    this.rethrow();
    if (this.dirty.size === 0) return;
    const entries = [...this.dirty.values()];
    this.dirty = new Map();
    this.writing = this.store.saveCheckpoints(this.holder, entries).then(
      () => {
        this.writing = undefined;
      },
      (err: unknown) => {
        this.writing = undefined;
        this.failure ??= { err };
        this.onFailure(err);
      },
    );
    await this.writing;
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.err;
  }

  /**
   * The shard's last write: what is still pending, plus the final offsets of queues whose copier
   * stopped cleanly, marked exact (nothing past them was sent, so resuming needs no tail read).
   */
  async close(exact: readonly CheckpointEntry[]): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const e of exact) this.dirty.set(queueKey({ topic: e.topic, brokerName: e.broker, queueId: e.queueId }), { ...e, exact: true });
    await this.flush();
  }
}

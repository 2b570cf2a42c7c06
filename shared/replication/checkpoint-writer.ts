// A shard's checkpoints, written beside the stream: queue copiers report how far the target holds
// their queue, and one write at a time carries every queue that moved since the last one — so a
// shard of thousands of queues costs one store transaction per interval, not one per queue.
import type { CheckpointEntry, CheckpointStore, LeaseHolder, OffsetPairEntry } from '../store/store.ts';
import { queueKey, type SourceQueue } from './queues.ts';

export class CheckpointWriter {
  private dirty = new Map<string, CheckpointEntry>();
  /** The write in progress. */
  private writing: Promise<void> | undefined;
  /** The next write: not started yet, it carries everything reported before it starts. */
  private next: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: { err: unknown } | undefined;

  constructor(
    private readonly store: CheckpointStore,
    private readonly holder: LeaseHolder,
    private readonly intervalMs: number,
    /** Told once when a write fails (a fenced write: the lease or the shard layout moved on). */
    private readonly onFailure: (err: unknown) => void,
    /** Offset pairs recorded since the last write: they go out with the checkpoints (ports/offsets.ts). */
    private readonly pairs?: { drain(): OffsetPairEntry[] },
  ) {}

  /** Everything before nextOffset of queue q is on the target; written within the interval. */
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

  /**
   * Writes what was reported so far; rethrows a failed write. A caller waits for at most the write
   * in progress and the one after it, which carries its entries — never for later ones.
   */
  async flush(): Promise<void> {
    this.rethrow();
    if (this.dirty.size > 0) {
      if (!this.next) {
        const next = this.nextWrite();
        this.next = next;
      }
      await this.next;
    } else if (this.writing) await this.writing;
    this.rethrow();
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

  /** The write after the one in progress; from the moment it starts, reports go to the one after it. */
  private async nextWrite(): Promise<void> {
    await null; // the caller makes this `this.next` before it goes on
    while (this.writing) await this.writing;
    this.next = undefined;
    await this.write();
  }

  private async write(): Promise<void> {
    if (this.failure) return;
    const pairs = this.pairs?.drain() ?? [];
    if (this.dirty.size === 0 && pairs.length === 0) return;
    const entries = [...this.dirty.values()];
    this.dirty = new Map();
    this.writing = this.store.saveCheckpoints(this.holder, entries, pairs).then(
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
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.err;
  }
}

// Offset pairs as the replicator sees them: every send result says where each replica of a source
// queue landed (message i of a batch at the result's queueOffset + i). Not every message needs a row:
// a pair is kept when the source offset has moved PAIR_SPACING past the last kept one, plus the newest
// of each queue at each checkpoint write — so a translation is off by fewer than PAIR_SPACING messages
// (toward redelivery) at the cost of one row per PAIR_SPACING messages, written with the checkpoints.
import type { OffsetPairEntry } from '../store/store.ts';
import { queueKey, type SourceQueue, type TargetQueue } from './queues.ts';

/** Source offsets between kept pairs: below the 32-message pull batch, so redelivery after a switch stays under one batch per queue. */
export const PAIR_SPACING = 16;

export class OffsetPairRecorder {
  /** Per source queue: the source offset of the last pair kept (written or waiting). */
  private readonly lastKept = new Map<string, number>();
  /** Kept pairs not written yet. */
  private pending: OffsetPairEntry[] = [];
  /** Per source queue: the newest pair seen, when it was not kept (written at the next drain). */
  private newest = new Map<string, OffsetPairEntry>();

  constructor(private readonly spacing = PAIR_SPACING) {}

  /**
   * A batch was stored: sourceOffsets[i] (ascending) at target queue t, offset firstTargetOffset + i.
   * Ignored when the broker did not report an offset.
   */
  record(
    q: Pick<SourceQueue, 'topic' | 'brokerName' | 'queueId'>,
    sourceOffsets: readonly number[],
    t: TargetQueue,
    firstTargetOffset: number,
  ): void {
    if (!(firstTargetOffset >= 0) || sourceOffsets.length === 0) return;
    const k = queueKey(q);
    const pair = (i: number): OffsetPairEntry => ({
      topic: q.topic,
      broker: q.brokerName,
      queueId: q.queueId,
      sourceOffset: sourceOffsets[i]!,
      targetBroker: t.brokerName,
      targetQueueId: t.queueId,
      targetOffset: firstTargetOffset + i,
    });
    let last = this.lastKept.get(k);
    for (let i = 0; i < sourceOffsets.length; i++) {
      const s = sourceOffsets[i]!;
      if (last === undefined || s - last >= this.spacing || s < last) {
        this.pending.push(pair(i));
        last = s;
      }
    }
    this.lastKept.set(k, last!);
    const tail = sourceOffsets.length - 1;
    if (sourceOffsets[tail] !== last) this.newest.set(k, pair(tail));
    else this.newest.delete(k);
  }

  /** The pairs to write now (kept ones, then each queue's newest), forgotten here once handed out. */
  drain(): OffsetPairEntry[] {
    const out = this.pending;
    for (const [k, p] of this.newest) {
      out.push(p);
      this.lastKept.set(k, p.sourceOffset);
    }
    this.pending = [];
    this.newest = new Map();
    return out;
  }
}

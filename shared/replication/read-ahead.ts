// Pulls one source queue ahead of its sender: while a batch is being sent, up to `depth` further
// pull results are fetched and held, so with a backlog the sender does not wait on the source and
// sends what piled up as one larger batch. Results are handed over in offset order with no gap, so
// per-queue order holds.
//
// With a backlog the pulls are also pipelined: a pull returns at most 32 messages (the broker's
// limit), so one pull in flight caps a queue at 32 messages per round trip, which a loaded broker
// stretches to 100 ms and more. Offsets in a queue are contiguous, so the next pulls can start
// where the previous ones will end; each is used only if the one before it ended exactly there
// (else it is dropped and pulled again), and none reaches past the queue's known end.
//
// Memory: every reader of an invocation may share one ByteBudget. A reader does not start a pull
// while the budget is spent; what it holds counts until the taker comes back for more (the
// previous take has been sent by then) or the reader stops.
import type { PullResult } from '../rocketmq/remoting/broker.ts';

/** One soft limit on the message bytes an invocation holds, shared by all its queue readers. */
export class ByteBudget {
  private used = 0;
  private waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.used;
  }

  add(bytes: number): void {
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
    if (this.used < this.limit && this.waiters.length) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves once the budget has room (at once when it has). */
  room(): Promise<void> | undefined {
    if (this.used < this.limit) return undefined;
    return new Promise<void>((r) => this.waiters.push(r));
  }
}

/** Bytes a pull result holds: bodies plus a fixed share per message for its properties and fields. */
const resultBytes = (r: PullResult): number => r.messages.reduce((n, m) => n + m.body.length + 256, 0);

/**
 * One pull from `from`. It may be held by the broker (long polling): a broker holds a pull only when
 * nothing is there, and answers it as soon as a message arrives, so a caught-up queue costs one
 * request per arrival (or per hold), never an empty answer and then a held pull.
 */
export type Pull = (from: number) => Promise<PullResult>;

export class ReadAhead {
  private readonly held: PullResult[] = [];
  private failure: { err: unknown } | undefined;
  private stopped = false;
  private wakeTaker: (() => void) | undefined;
  private wakeReader: (() => void) | undefined;
  /** Bytes of what is held, and of what the taker took last (still being sent). */
  private heldBytes = 0;
  private takenBytes = 0;

  /** `pipeline`: pulls in flight at most, when the queue is known to hold that much more. */
  constructor(
    pull: Pull,
    from: number,
    private readonly depth: number,
    private readonly pipeline = 1,
    private readonly budget?: ByteBudget,
  ) {
    void this.run(pull, from);
  }

  /** Every result held so far (oldest first), waiting for at least one; rethrows a failed pull once the held ones are taken. */
  async take(): Promise<PullResult[]> {
    this.budget?.release(this.takenBytes);
    this.takenBytes = 0;
    while (this.held.length === 0) {
      if (this.failure) throw this.failure.err;
      if (this.stopped) return [];
      await new Promise<void>((r) => (this.wakeTaker = r));
    }
    const out = this.held.splice(0);
    this.takenBytes = this.heldBytes;
    this.heldBytes = 0;
    this.wake('reader');
    return out;
  }

  /** No new pulls; what is held is dropped, and a pull in flight finishes on its own (long polls are bounded). */
  stop(): void {
    if (!this.stopped) this.budget?.release(this.heldBytes + this.takenBytes);
    this.heldBytes = this.takenBytes = 0;
    this.stopped = true;
    this.held.length = 0;
    this.wake('reader');
    this.wake('taker');
  }

  private async run(pull: Pull, from: number): Promise<void> {
    /** Messages per pull seen last, and the queue's end as the last answer gave it. */
    let stride = 0;
    let knownEnd = from;
    try {
      while (!this.stopped) {
        const room = this.depth - this.held.length;
        if (room <= 0) {
          await new Promise<void>((r) => (this.wakeReader = r));
          continue;
        }
        const full = this.budget?.room();
        if (full) {
          await full;
          continue;
        }
        const ahead = stride > 0 ? Math.ceil((knownEnd - from) / stride) : 0;
        const n = Math.max(1, Math.min(this.pipeline, room, ahead));
        const starts = Array.from({ length: n }, (_, k) => from + k * stride);
        const inFlight = starts.map((at) => pull(at));
        // A later pull may fail after an earlier one already settled the round: nobody waits for it then.
        for (const p of inFlight) p.catch(() => undefined);
        for (let k = 0; k < n; k++) {
          if (starts[k] !== from) break; // the one before ended elsewhere: this one is not next
          const r = await inFlight[k]!;
          if (this.stopped) return;
          if (r.messages.length > 0) stride = r.messages.length;
          knownEnd = Math.max(knownEnd, r.maxOffset);
          from = r.nextBeginOffset;
          const bytes = this.budget ? resultBytes(r) : 0;
          this.budget?.add(bytes);
          this.heldBytes += bytes;
          this.held.push(r);
          this.wake('taker');
        }
      }
    } catch (err) {
      this.failure = { err };
      this.wake('taker');
    }
  }

  private wake(who: 'reader' | 'taker'): void {
    const fn = who === 'reader' ? this.wakeReader : this.wakeTaker;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakeTaker = undefined;
    fn?.();
  }
}

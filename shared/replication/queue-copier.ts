// One source queue: pull → filter → loop check → replica → delivery → checkpoint report, one
// delivery in flight (so order within the queue holds on the target). An idle queue waits in a
// long poll the broker answers as soon as a message arrives, so thousands of quiet queues cost
// little; transient pull failures are retried here, not reported as errors.
import type { ClusterConnection } from '../clusters/connect.ts';
import type { Logger } from '../log.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import { BrokerBusyError, RemotingConnectError, RemotingConnectionClosedError, RemotingTimeoutError } from '../rocketmq/remoting/errors.ts';
import type { CheckpointEntry } from '../store/store.ts';
import type { CheckpointWriter } from './checkpoint-writer.ts';
import { sleep, type Delivery, type Replica } from './delivery.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { isTrusted, toReplica, wouldLoop } from './origin.ts';
import { queueKey, type SourceQueue } from './queues.ts';
import { ReadAhead, type ByteBudget } from './read-ahead.ts';
import type { PropertySigner } from './signature.ts';

const PULL_BATCH = 32;
/** Pull results a queue's reader may hold while its sender is busy. */
const READ_AHEAD = 4;
/** Pulls a queue's reader keeps in flight while the queue holds a backlog. */
const PULL_PIPELINE = 4;
/**
 * How long the broker may hold a pull on an empty queue (it answers at once when a message arrives):
 * an idle queue costs one request per hold, so thousands of them want a long one.
 */
const LONG_POLL_MS = 60_000;

export interface CopierContext {
  source: ClusterConnection;
  targetClusterId: string;
  // The remoting delivery, or a gRPC target's (which cannot read its tail back).
  delivery: Pick<Delivery, 'deliver' | 'replicatedUpTo'>;
  checkpoints: CheckpointWriter;
  metrics: FlowMetrics;
  budget: ByteBudget;
  filter: (m: StoredMessage) => boolean;
  /** False when another task carries this replica to the target more directly (see topology.ts); trusted: its provenance is signed. */
  onward: (m: StoredMessage, trusted: boolean) => boolean;
  /** Signs replicas as this task and tells which messages' Ferry properties to believe. */
  signer: PropertySigner;
  idempotentResume: boolean;
  /** The task's replay generation, carried by every replica. */
  generation: number;
  /** Wall-clock time after which no new pull or batch is started. */
  deadline: number;
  log: Logger;
}

/** Errors of the source that pass: the copier waits and pulls again. */
const transient = (err: unknown) =>
  err instanceof RemotingTimeoutError ||
  err instanceof RemotingConnectError ||
  err instanceof RemotingConnectionClosedError ||
  err instanceof BrokerBusyError;

/**
 * Where an unclean stop resumes: past the newest replica the target holds (`onTarget`, from the tail
 * read) when that is ahead of the checkpoint — unless it claims at least the source queue's end
 * (`sourceEnd`, read after the tail): evidence of messages the queue never held (a queue recreated,
 * a replica from elsewhere) is not believed, and the checkpoint is kept, so nothing is skipped.
 */
export function resumeOffset(checkpoint: number, onTarget: number | undefined, sourceEnd: number | undefined): number {
  if (onTarget === undefined || onTarget + 1 <= checkpoint) return checkpoint;
  if (sourceEnd === undefined || onTarget + 1 > sourceEnd) return checkpoint;
  return onTarget + 1;
}

export class QueueCopier {
  private stopped = false;
  private reader: ReadAhead | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly q: SourceQueue,
    /**
     * The queue's position among its topic's readable queues (mapping order, see queues.ts): it maps
     * to target queue index mod n. Discovery sets it again when the topic's queues change.
     */
    public index: number,
    private readonly ctx: CopierContext,
  ) {}

  /** Ends the copy at the next step; a held long poll is abandoned, not waited for. */
  stop(): void {
    this.stopped = true;
    this.reader?.stop();
    this.wake?.();
  }

  /**
   * Copies until stopped or past the deadline. Returns the queue's final checkpoint when it
   * stopped cleanly (everything before it sent, nothing after it), undefined when it stopped in
   * the middle of a delivery — then only what was reported on the way counts.
   */
  async run(checkpoint: { nextOffset: number; exact: boolean } | undefined): Promise<CheckpointEntry | undefined> {
    const { q, ctx } = this;
    const k = queueKey(q);
    // A queue with no checkpoint appeared after the task started: take it from its beginning.
    let offset = checkpoint?.nextOffset ?? (await ctx.source.broker.minOffset(q.address, q.topic, q.queueId));
    // A crash between send and checkpoint left replicas the checkpoint does not know about; a
    // clean stop did not, and its checkpoint says so.
    if (ctx.idempotentResume && !checkpoint?.exact) {
      let done = await ctx.delivery.replicatedUpTo(q, this.index);
      // No route to the target queue: its tail cannot be read, nor anything sent there. Stopped
      // while waiting, the stored checkpoint stays as it is (not exact).
      for (let waits = 0; done === 'no-route'; waits++) {
        if (waits === 0) ctx.log.warn({ queue: k }, 'no route to the target topic: resuming once its tail can be read');
        if (this.stopped || Date.now() >= ctx.deadline) return undefined;
        await this.pause(2000);
        done = await ctx.delivery.replicatedUpTo(q, this.index);
      }
      // Read after the tail: every genuine replica came from below the source's end by then.
      const end = done !== undefined && done + 1 > offset ? await ctx.source.broker.maxOffset(q.address, q.topic, q.queueId) : undefined;
      const resumeAt = resumeOffset(offset, done, end);
      if (end !== undefined && resumeAt === offset)
        ctx.log.warn(
          { queue: k, checkpoint: offset, onTarget: done, sourceEnd: end },
          'target tail claims more than the source queue holds: resuming at the checkpoint',
        );
      ctx.log.info({ queue: k, checkpoint: offset, onTarget: done ?? null, resumeAt }, 'resuming after an unclean stop: target tail read');
      offset = resumeAt;
    }
    const start = offset;
    // A clean stop's checkpoint promises that nothing past it was sent. Before sending past it,
    // that promise is withdrawn in the store, so a crash from here on is resumed by a tail read.
    let promised = checkpoint?.exact === true;
    let failures = 0;
    while (!this.stopped && Date.now() < ctx.deadline) {
      const reader = (this.reader = new ReadAhead((from) => this.pull(from), offset, READ_AHEAD, PULL_PIPELINE, ctx.budget));
      try {
        while (!this.stopped && Date.now() < ctx.deadline) {
          const results = await reader.take();
          if (results.length === 0) continue;
          failures = 0;
          const replicas: Replica[] = [];
          for (const r of results) {
            ctx.metrics.setLag(k, r.maxOffset - r.nextBeginOffset);
            // The broker moved us (offset below min after retention): nothing readable was skipped by us.
            if (r.status === 'OFFSET_ILLEGAL') ctx.log.warn({ queue: k, to: r.nextBeginOffset }, 'offset moved by the broker');
            ctx.metrics.consumed += r.messages.length;
            ctx.metrics.countTopic(q.topic, 'consumed', r.messages.length);
            for (const m of r.messages) {
              if (!ctx.filter(m)) {
                ctx.metrics.filtered++;
                continue;
              }
              const trusted = isTrusted(m, ctx.signer);
              if (wouldLoop(m, ctx.source.clusterId, ctx.targetClusterId, trusted) || !ctx.onward(m, trusted)) ctx.metrics.loopSkipped++;
              else
                replicas.push({
                  m,
                  out: toReplica(
                    m,
                    { clusterId: ctx.source.clusterId, brokerName: q.brokerName, generation: ctx.generation },
                    ctx.targetClusterId,
                    ctx.signer,
                    trusted,
                  ),
                });
            }
          }
          if (replicas.length && promised) {
            await ctx.checkpoints.reportNow(q, offset);
            promised = false;
          }
          // What piled up while the previous batch was sent goes out together. Stopped in the
          // middle: part of it may be on the target, so the last checkpoint must not be exact —
          // unless every send in hand was refused outright: then it is a clean stop where that began.
          const sent = replicas.length ? await ctx.delivery.deliver(q, this.index, replicas) : true;
          if (sent === false) {
            ctx.checkpoints.report(q, offset);
            return undefined;
          }
          if (sent !== true) return { topic: q.topic, broker: q.brokerName, queueId: q.queueId, nextOffset: sent };
          const next = results.at(-1)!.nextBeginOffset;
          // An expired hold moves nothing: no write (thousands of idle queues would otherwise rewrite
          // their checkpoints every hold, and an exact one would lose its promise for nothing).
          if (next === offset) continue;
          offset = next;
          ctx.checkpoints.report(q, offset);
        }
      } catch (err) {
        if (!transient(err)) throw err;
        failures++;
        if (failures === 1 || failures % 20 === 0) ctx.log.warn({ queue: k, err, failures }, 'source queue unreachable; pulling again');
        await this.pause(Math.min(5000, 200 * 2 ** Math.min(failures, 5)));
      } finally {
        reader.stop();
      }
    }
    // Nothing changed since a clean stop: the stored checkpoint already says so.
    if (checkpoint?.exact && offset === start) return undefined;
    return { topic: q.topic, broker: q.brokerName, queueId: q.queueId, nextOffset: offset };
  }

  private pull(from: number) {
    const hold = Math.min(LONG_POLL_MS, this.ctx.deadline - Date.now());
    return this.ctx.source.broker.pull(this.q.address, {
      topic: this.q.topic,
      queueId: this.q.queueId,
      offset: from,
      maxMessages: PULL_BATCH,
      suspendMs: Math.max(0, hold),
    });
  }

  private pause(ms: number): Promise<void> {
    return Promise.race([sleep(ms), new Promise<void>((r) => (this.wake = r))]);
  }
}

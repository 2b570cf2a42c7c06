// Delivery of replicas to the target: batches that keep born time exact, a retry policy, the
// unknown-outcome rule (read the target's tail before sending again), and parking of what keeps
// failing. Outages are waited out without using the retry budget; only failures of the messages
// themselves count towards it.
import type { ClusterConnection } from '../clusters/connect.ts';
import { FerryError, isFerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { OutgoingMessage, StoredMessage } from '../rocketmq/message.ts';
import {
  BrokerBusyError,
  MessageRejectedError,
  RemotingConnectError,
  RemotingConnectionClosedError,
  RemotingTimeoutError,
  TopicNotFoundError,
} from '../rocketmq/remoting/errors.ts';
import { InvalidPropertyError, MessageEncodeError } from '../rocketmq/remoting/message-codec.ts';
import type { NewParkedMessage } from '../store/store.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import type { OffsetPairRecorder } from './offset-pairs.ts';
import { hopOffset } from './origin.ts';
import type { PropertySigner } from './signature.ts';
import { queueKey, targetFor, writableQueues, type SourceQueue, type TargetQueue } from './queues.ts';
import type { RateLimiter } from './rate-limiter.ts';

export interface Replica {
  m: StoredMessage;
  out: OutgoingMessage;
}

/** Exponential backoff with a cap; `attempts` failures of the message itself before it is parked. */
export class RetryPolicy {
  constructor(
    readonly attempts = 5,
    private readonly baseMs = 200,
    private readonly maxMs = 5000,
  ) {}

  delayMs(attempt: number): number {
    return Math.min(this.maxMs, this.baseMs * 2 ** Math.min(attempt, 10));
  }
}

/**
 * What a failed send means for the next step. 'refused': the message itself cannot be stored (the
 * broker's MESSAGE_ILLEGAL, or properties Ferry cannot lay out) — the same every time, so it is not
 * tried again.
 */
export type SendFailure = 'unknown-outcome' | 'outage' | 'busy' | 'missing-topic' | 'refused' | 'message';

export function classifySendFailure(err: unknown): SendFailure {
  if (err instanceof RemotingTimeoutError || err instanceof RemotingConnectionClosedError) return 'unknown-outcome';
  if (err instanceof RemotingConnectError) return 'outage';
  if (err instanceof BrokerBusyError) return 'busy';
  if (isFerryError(err, 'NOT_FOUND')) return 'missing-topic';
  if (err instanceof MessageRejectedError || err instanceof MessageEncodeError || err instanceof InvalidPropertyError) return 'refused';
  return 'message';
}

const MAX_BATCH_BYTES = 1024 * 1024;
const RETRY_TOPIC_PREFIX = '%RETRY%';
/** Size counted per message beyond its body (properties and framing), for the batch byte limit. */
const MESSAGE_OVERHEAD = 512;

/**
 * Consecutive replicas that can share one batch send: a batch carries a single born timestamp,
 * so a new born time starts a new batch (born time is kept exactly), as does MAX_BATCH_BYTES.
 */
export function* batchesOf<T extends { out: OutgoingMessage }>(items: readonly T[], maxBytes = MAX_BATCH_BYTES): Generator<T[]> {
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const size = it.out.body.length + MESSAGE_OVERHEAD;
    if (cur.length && (bytes + size > maxBytes || it.out.bornTimestamp !== cur[0]!.out.bornTimestamp)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += size;
  }
  if (cur.length) yield cur;
}

/** How far back in a target queue the tail read looks for the last replica of a source queue. */
const RESUME_SCAN_LIMIT = 4096;
const TAIL_PULL = 32;
const ROUTE_TTL_MS = 30_000;

/** Target topic routes, cached; source queue #i of a topic maps to writable target queue i mod n. */
export class TargetRoutes {
  private readonly cache = new Map<string, { queues: TargetQueue[]; at: number }>();
  /** Route queries in flight, shared by every queue of the topic that asks meanwhile. */
  private readonly asking = new Map<string, Promise<{ queues: TargetQueue[]; at: number }>>();

  constructor(private readonly target: ClusterConnection) {}

  /** Unwritable or missing topics are send failures (the broker does not check perm on send; the route does). */
  async queueFor(topic: string, index: number, refresh = false): Promise<TargetQueue> {
    let cached = this.cache.get(topic);
    if (!cached || refresh || Date.now() - cached.at > ROUTE_TTL_MS) cached = await this.ask(topic);
    const t = targetFor(index, cached.queues);
    if (!t) throw new FerryError('INVALID_STATE', `topic ${topic} on the target cluster ${this.target.clusterId} is not writable`);
    return t;
  }

  private ask(topic: string): Promise<{ queues: TargetQueue[]; at: number }> {
    let p = this.asking.get(topic);
    if (!p) {
      p = this.target.nameServers.topicRoute(topic).then(
        (route) => {
          const entry = { queues: writableQueues(route), at: Date.now() };
          this.cache.set(topic, entry);
          return entry;
        },
        (err: unknown) => {
          if (err instanceof TopicNotFoundError)
            throw new FerryError('NOT_FOUND', `topic ${topic} does not exist on the target cluster ${this.target.clusterId}`);
          throw err;
        },
      );
      this.asking.set(topic, p);
      void p.finally(() => this.asking.delete(topic)).catch(() => undefined);
    }
    return p;
  }
}

export interface DeliveryContext {
  target: ClusterConnection;
  routes: TargetRoutes;
  sourceClusterId: string;
  /** The task's replay generation (replicas of older generations do not count as done). */
  generation: number;
  idempotentResume: boolean;
  /** Only replicas this task signed count as done. */
  signer: PropertySigner;
  policy: RetryPolicy;
  metrics: FlowMetrics;
  limiter: RateLimiter | undefined;
  log: Logger;
  /** True once the run is stopping: nothing more is sent. */
  stopped: () => boolean;
  park: (message: Omit<NewParkedMessage, 'taskId' | 'flow'>) => Promise<void>;
  /** A target topic is missing: metadata sync makes it. */
  requestMetadataSync: (() => void) | undefined;
  /** Where replicas landed, for consumer offset translation (absent when the task does not sync offsets). */
  pairs?: OffsetPairRecorder | undefined;
}

export class Delivery {
  constructor(private readonly ctx: DeliveryContext) {}

  /**
   * Sends every replica of source queue q (#index in its topic) or parks what keeps failing: true.
   * When the run stopped first: the source offset from which nothing was sent, when every failed
   * send of the batch in hand was refused outright (a stop there is clean: resuming needs no tail
   * read), or false when a send's outcome is unknown — nothing past the last checkpoint is certain.
   */
  async deliver(q: SourceQueue, index: number, replicas: readonly Replica[]): Promise<true | number | false> {
    const { ctx } = this;
    // Brokers refuse batch sends to a retry topic (MESSAGE_ILLEGAL): its replicas go one by one.
    for (let batch of batchesOf(replicas, q.topic.startsWith(RETRY_TOPIC_PREFIX) ? 0 : MAX_BATCH_BYTES)) {
      if (ctx.limiter) {
        const waited = await ctx.limiter.take(batch.length);
        if (waited > 0) ctx.metrics.throttled += batch.length;
      }
      let failures = 0;
      // A send whose outcome is unknown may have stored part of the batch: until the target's tail
      // has been read (which needs the target back), nothing of the batch is sent again.
      let unresolved = false;
      // Whether part of the batch may be stored (without idempotent resume there is no tail read to settle it).
      let uncertain = false;
      // Where the last send went: an unknown outcome is settled by reading that queue, whatever the route says by then.
      let sentTo: TargetQueue | undefined;
      for (let attempt = 0; ; attempt++) {
        if (ctx.stopped()) return uncertain ? false : batch[0]!.m.queueOffset;
        try {
          if (unresolved) {
            const done = await this.replicatedUpTo(q, index, sentTo);
            // (Only without a send to read from.) Unsettled: waited out like a missing topic.
            if (done === 'no-route') throw new FerryError('NOT_FOUND', `topic ${q.topic} has no route on the target`);
            unresolved = uncertain = false;
            const before = batch.length;
            if (done !== undefined) batch = batch.filter((c) => c.m.queueOffset > done);
            const at = sentTo && `${sentTo.brokerName}/${sentTo.queueId}`;
            ctx.log.info({ queue: queueKey(q), at, onTarget: done ?? null, stored: before - batch.length }, 'unknown send outcome settled');
            if (batch.length === 0) break;
          }
          const t = await ctx.routes.queueFor(q.topic, index, attempt > 0);
          sentTo = t;
          // A lone message goes as a single send: a batch counts its framing and properties against the
          // target's maxMessageSize, a single message its body only, so a body at the limit needs it.
          const r =
            batch.length === 1
              ? await ctx.target.broker.send(t.address, q.topic, t.queueId, batch[0]!.out)
              : await ctx.target.broker.sendBatch(
                  t.address,
                  q.topic,
                  t.queueId,
                  batch.map((c) => c.out),
                );
          ctx.pairs?.record(
            q,
            batch.map((c) => c.m.queueOffset),
            { ...t, queueId: r.queueId },
            r.queueOffset,
          );
          const now = Date.now();
          ctx.metrics.replicated += batch.length;
          ctx.metrics.countTopic(q.topic, 'replicated', batch.length);
          for (const c of batch) ctx.metrics.recordDelay(now - c.m.storeTimestamp);
          break;
        } catch (err) {
          const failure = classifySendFailure(err);
          const [from, to] = [batch[0]!.m.queueOffset, batch.at(-1)!.m.queueOffset];
          ctx.log.debug({ queue: queueKey(q), from, to, attempt, failure, reason: (err as Error).message }, 'send failed');
          if (failure === 'unknown-outcome') [uncertain, unresolved] = [true, ctx.idempotentResume];
          if (failure === 'busy') ctx.metrics.throttled += batch.length;
          if (failure === 'missing-topic') ctx.requestMetadataSync?.();
          // A refused batch is sent again message by message, so only the refused message is parked.
          if (failure === 'refused' && batch.length > 1) {
            for (const one of batch) {
              const sent = await this.deliver(q, index, [one]);
              if (sent !== true) return sent;
            }
            break;
          }
          if (failure === 'refused' || (failure === 'message' && ++failures >= ctx.policy.attempts)) {
            await this.park(q, batch, err);
            break;
          }
          await sleep(ctx.policy.delayMs(attempt));
        }
      }
    }
    return true;
  }

  /**
   * The newest source offset of queue q already stored on its target queue, found by reading the
   * target tail backwards (bounded); undefined when none is found within the bound. `at` is the
   * queue a send with an unknown outcome went to (read there, whatever the route says now); else
   * the route's queue for q, and 'no-route' when the target has no route for the topic: missing,
   * or its broker down (the name server drops a dead broker's queues at once) — no answer yet.
   */
  async replicatedUpTo(q: SourceQueue, index: number, at?: TargetQueue): Promise<number | undefined | 'no-route'> {
    const { ctx } = this;
    let t = at;
    if (!t) {
      try {
        t = await ctx.routes.queueFor(q.topic, index);
      } catch (err) {
        if (isFerryError(err, 'NOT_FOUND')) {
          ctx.requestMetadataSync?.();
          return 'no-route';
        }
        // A read-only target topic takes nothing of ours; an unreachable target is no answer, so that is thrown.
        if (err instanceof FerryError) return undefined;
        throw err;
      }
    }
    const broker = ctx.target.broker;
    const [min, max] = await Promise.all([
      broker.minOffset(t.address, q.topic, t.queueId),
      broker.maxOffset(t.address, q.topic, t.queueId),
    ]);
    const me = { clusterId: ctx.sourceClusterId, brokerName: q.brokerName, queueId: q.queueId, generation: ctx.generation };
    for (let end = max; end > min && max - end < RESUME_SCAN_LIMIT; end -= TAIL_PULL) {
      const start = Math.max(min, end - TAIL_PULL);
      const r = await broker.pull(t.address, { topic: q.topic, queueId: t.queueId, offset: start, maxMessages: end - start });
      let found: number | undefined;
      for (const m of r.messages) {
        if (m.queueOffset >= end) break;
        const o = hopOffset(m, me, ctx.signer);
        if (o !== undefined) found = Math.max(found ?? -1, o);
      }
      if (found !== undefined) return found;
    }
    if (max - min > RESUME_SCAN_LIMIT)
      ctx.log.warn({ queue: queueKey(q) }, 'no replica within the resume scan bound: at-least-once from the checkpoint');
    return undefined;
  }

  /** After the retry budget (a refused message: at once) a batch is parked — stored for the retry action — never dropped. */
  private async park(q: SourceQueue, batch: readonly Replica[], err: unknown): Promise<void> {
    const reason = err instanceof Error ? err.message : String(err);
    for (const { m, out } of batch) {
      await this.ctx.park({
        topic: q.topic,
        broker: q.brokerName,
        queueId: q.queueId,
        queueOffset: m.queueOffset,
        reason,
        payload: out.body,
        properties: parkedProperties(out),
        flag: out.flag ?? 0,
        bornTimestamp: out.bornTimestamp ?? null,
      });
    }
    this.ctx.metrics.failed += batch.length;
    this.ctx.metrics.countTopic(q.topic, 'failed', batch.length);
    this.ctx.log.warn({ queue: queueKey(q), count: batch.length, reason }, 'messages parked');
  }
}

/** A parked message's properties: the user's and Ferry's, with tags, keys and producer id under their system names. */
export function parkedProperties(out: OutgoingMessage): Record<string, string> {
  return {
    ...(out.properties ?? {}),
    ...(out.tags ? { TAGS: out.tags } : {}),
    ...(out.keys?.length ? { KEYS: out.keys.join(' ') } : {}),
    ...(out.uniqKey ? { UNIQ_KEY: out.uniqKey } : {}),
  };
}

/** The replica a parked message stands for, as parkedProperties stored it. */
export function fromParked(p: {
  payload?: Uint8Array;
  properties: Record<string, string>;
  flag: number;
  bornTimestamp: number | null;
}): OutgoingMessage {
  const { TAGS: tags, KEYS: keys, UNIQ_KEY: uniqKey, ...properties } = p.properties;
  return {
    body: Buffer.from(p.payload ?? new Uint8Array()),
    properties,
    flag: p.flag,
    ...(p.bornTimestamp !== null ? { bornTimestamp: p.bornTimestamp } : {}),
    ...(tags ? { tags } : {}),
    ...(keys ? { keys: keys.split(' ') } : {}),
    ...(uniqKey ? { uniqKey } : {}),
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

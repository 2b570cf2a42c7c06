// Broker data plane: send (single and batch) to a chosen queue, pull by offset, offsets.
import type { OutgoingMessage, StoredMessage } from '../message.ts';
import type { RemotingClient } from './client.ts';
import { RemotingError, ResponseCode } from './errors.ts';
import { createUniqKey } from './uniq-key.ts';
import { buildMessageProperties, decodeStoredMessages, encodeBatchBody, encodeProperties, propertiesLength } from './message-codec.ts';
import { RequestCode } from './request-codes.ts';

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  status: SendStatus;
  queueId: number;
  /** Queue offset of the (first) message. Message i of a batch sits at queueOffset + i. */
  queueOffset: number;
  /** Producer-assigned ids (UNIQ_KEY), one per message. */
  msgIds: string[];
  /** Broker offset message ids, one per message when the broker reports them. */
  offsetMsgIds: string[];
}

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'OFFSET_ILLEGAL' | 'RETRY_IMMEDIATELY';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  messages: StoredMessage[];
}

export interface PullRequest {
  topic: string;
  queueId: number;
  offset: number;
  maxMessages?: number;
  /** Long polling: the broker holds the request up to this long when no message is there. 0 = answer at once. */
  suspendMs?: number;
  consumerGroup?: string;
  /** Broker-side filter; default `*` (everything). */
  expression?: { type: 'TAG' | 'SQL92'; value: string };
}

export interface BrokerClientOptions {
  producerGroup?: string;
  consumerGroup?: string;
  requestTimeoutMs?: number;
}

// Send answers that mean the message WAS stored (only replication/flush lagged).
const STORED_WITH_WARNING: Record<number, SendStatus> = {
  [ResponseCode.FLUSH_DISK_TIMEOUT]: 'FLUSH_DISK_TIMEOUT',
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: 'FLUSH_SLAVE_TIMEOUT',
  [ResponseCode.SLAVE_NOT_AVAILABLE]: 'SLAVE_NOT_AVAILABLE',
};
const STORED_CODES = [10, 11, 12];

const PULL_FLAG_SUSPEND = 0x2;
/** How long after its hold a long poll may still be answered (the broker checks held pulls every 5 s). */
const LONG_POLL_GRACE_MS = 15_000;
const PULL_FLAG_SUBSCRIPTION = 0x4;

export class BrokerClient {
  private readonly producerGroup: string;
  private readonly consumerGroup: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly remoting: RemotingClient,
    opts: BrokerClientOptions = {},
  ) {
    this.producerGroup = opts.producerGroup ?? 'FERRY_PRODUCER';
    this.consumerGroup = opts.consumerGroup ?? 'FERRY_REPLICATOR';
    this.timeoutMs = opts.requestTimeoutMs ?? 5000;
  }

  /** Sends one message to queue `queueId` of `topic` on the broker at `address`. */
  async send(address: string, topic: string, queueId: number, msg: OutgoingMessage): Promise<SendResult> {
    const uniqKey = msg.uniqKey ?? createUniqKey();
    const props = encodeProperties(buildMessageProperties(msg, uniqKey));
    propertiesLength(0, props);
    const res = await this.remoting.invoke(
      address,
      RequestCode.SEND_MESSAGE_V2,
      this.sendHeader(topic, queueId, msg.flag ?? 0, msg.bornTimestamp ?? Date.now(), props, false),
      msg.body,
      { timeoutMs: this.timeoutMs, accept: STORED_CODES },
    );
    return this.sendResult(res.code, res.extFields ?? {}, [uniqKey], queueId);
  }

  /**
   * Sends messages as one SEND_BATCH_MESSAGE: stored atomically and contiguously in one queue.
   * Per-message properties travel in the body; the header carries none, since the broker appends
   * header properties to every message of the batch.
   */
  async sendBatch(address: string, topic: string, queueId: number, msgs: OutgoingMessage[]): Promise<SendResult> {
    if (msgs.length === 0) throw new RemotingError('empty batch');
    // Brokers refuse batches of delayed messages; a caller must send those one by one.
    if (msgs.some((m) => m.deliverAtMs !== undefined || m.delayLevel)) throw new RemotingError('a batch cannot hold delayed messages');
    const uniqKeys = msgs.map((m) => m.uniqKey ?? createUniqKey());
    const body = encodeBatchBody(
      msgs.map((m, i) => ({ body: m.body, flag: m.flag ?? 0, properties: encodeProperties(buildMessageProperties(m, uniqKeys[i]!)) })),
    );
    const res = await this.remoting.invoke(
      address,
      RequestCode.SEND_BATCH_MESSAGE,
      this.sendHeader(topic, queueId, 0, msgs[0]!.bornTimestamp ?? Date.now(), '', true),
      body,
      { timeoutMs: this.timeoutMs, accept: STORED_CODES },
    );
    return this.sendResult(res.code, res.extFields ?? {}, uniqKeys, queueId);
  }

  async pull(address: string, req: PullRequest): Promise<PullResult> {
    const suspendMs = req.suspendMs ?? 0;
    const expression = req.expression ?? { type: 'TAG', value: '*' };
    const res = await this.remoting.invoke(
      address,
      RequestCode.PULL_MESSAGE,
      {
        consumerGroup: req.consumerGroup ?? this.consumerGroup,
        topic: req.topic,
        queueId: String(req.queueId),
        queueOffset: String(req.offset),
        maxMsgNums: String(req.maxMessages ?? 32),
        // Subscription carried in the request, so no heartbeat/registration is needed; no commit.
        sysFlag: String(PULL_FLAG_SUBSCRIPTION | (suspendMs > 0 ? PULL_FLAG_SUSPEND : 0)),
        commitOffset: '0',
        suspendTimeoutMillis: String(suspendMs),
        subscription: expression.value,
        subVersion: '0',
        expressionType: expression.type,
      },
      undefined,
      {
        // A held pull is answered when a message arrives or once the hold is over, which the
        // broker notices on its hold-check round (every 5 s): the wait must outlast both.
        timeoutMs: suspendMs > 0 ? suspendMs + LONG_POLL_GRACE_MS : this.timeoutMs,
        longPoll: suspendMs > 0,
        accept: [ResponseCode.PULL_NOT_FOUND, ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_OFFSET_MOVED],
      },
    );
    const h = res.extFields ?? {};
    const status: PullStatus =
      res.code === ResponseCode.SUCCESS
        ? 'FOUND'
        : res.code === ResponseCode.PULL_NOT_FOUND
          ? 'NO_NEW_MSG'
          : res.code === ResponseCode.PULL_RETRY_IMMEDIATELY
            ? 'RETRY_IMMEDIATELY'
            : 'OFFSET_ILLEGAL';
    return {
      status,
      nextBeginOffset: Number(h.nextBeginOffset ?? req.offset),
      minOffset: Number(h.minOffset ?? 0),
      maxOffset: Number(h.maxOffset ?? 0),
      messages: status === 'FOUND' && res.body ? decodeStoredMessages(res.body) : [],
    };
  }

  async minOffset(address: string, topic: string, queueId: number): Promise<number> {
    const res = await this.remoting.invoke(address, RequestCode.GET_MIN_OFFSET, { topic, queueId: String(queueId) }, undefined, {
      timeoutMs: this.timeoutMs,
    });
    return Number(res.extFields?.offset ?? 0);
  }

  /** The offset the next message will get (one past the last stored message). */
  async maxOffset(address: string, topic: string, queueId: number): Promise<number> {
    const res = await this.remoting.invoke(address, RequestCode.GET_MAX_OFFSET, { topic, queueId: String(queueId) }, undefined, {
      timeoutMs: this.timeoutMs,
    });
    return Number(res.extFields?.offset ?? 0);
  }

  /** The broker's own answer; 4.x returns the NEAREST message, which may be before the time. */
  async searchOffset(address: string, topic: string, queueId: number, timestamp: number): Promise<number> {
    const res = await this.remoting.invoke(
      address,
      RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
      { topic, queueId: String(queueId), timestamp: String(timestamp), boundaryType: 'LOWER' },
      undefined,
      { timeoutMs: this.timeoutMs },
    );
    return Number(res.extFields?.offset ?? 0);
  }

  /**
   * The offset of the first message stored at or after `timestamp` (max offset when none is).
   * Starts from the broker's search and corrects it by reading store times, since store times
   * are non-decreasing within a queue but brokers answer with the nearest message.
   */
  async offsetAtOrAfter(address: string, topic: string, queueId: number, timestamp: number): Promise<number> {
    const [min, max] = await Promise.all([this.minOffset(address, topic, queueId), this.maxOffset(address, topic, queueId)]);
    if (max <= min) return max;
    const guess = Math.min(Math.max(await this.searchOffset(address, topic, queueId, timestamp), min), max - 1);
    // Binary search over [lo, hi): invariant "every offset < lo is before the time, offset hi is at/after it".
    let lo = min;
    let hi = max;
    const before = async (o: number) => ((await this.storeTimeAt(address, topic, queueId, o)) ?? Infinity) < timestamp;
    if (await before(guess)) lo = guess + 1;
    else hi = guess;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await before(mid)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private async storeTimeAt(address: string, topic: string, queueId: number, offset: number): Promise<number | undefined> {
    const r = await this.pull(address, { topic, queueId, offset, maxMessages: 1 });
    return r.messages[0]?.storeTimestamp;
  }

  /** The committed offset of a consumer group, or undefined when the group has none for the queue. */
  async queryConsumerOffset(address: string, group: string, topic: string, queueId: number): Promise<number | undefined> {
    const res = await this.remoting.invoke(
      address,
      RequestCode.QUERY_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId), setZeroIfNotFound: 'false' },
      undefined,
      { timeoutMs: this.timeoutMs, accept: [ResponseCode.QUERY_NOT_FOUND] },
    );
    return res.code === ResponseCode.QUERY_NOT_FOUND ? undefined : Number(res.extFields?.offset ?? 0);
  }

  async updateConsumerOffset(address: string, group: string, topic: string, queueId: number, offset: number): Promise<void> {
    await this.remoting.invoke(
      address,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId), commitOffset: String(offset) },
      undefined,
      { timeoutMs: this.timeoutMs },
    );
  }

  private sendHeader(
    topic: string,
    queueId: number,
    flag: number,
    bornTimestamp: number,
    properties: string,
    batch: boolean,
  ): Record<string, string> {
    return {
      a: this.producerGroup,
      b: topic,
      c: 'TBW102',
      d: '4',
      e: String(queueId),
      f: '0',
      g: String(bornTimestamp),
      h: String(flag),
      i: properties,
      j: '0',
      k: 'false',
      m: String(batch),
    };
  }

  private sendResult(code: number, h: Record<string, string>, uniqKeys: string[], queueId: number): SendResult {
    return {
      status: STORED_WITH_WARNING[code] ?? 'SEND_OK',
      queueId: h.queueId !== undefined ? Number(h.queueId) : queueId,
      queueOffset: Number(h.queueOffset ?? -1),
      msgIds: uniqKeys,
      offsetMsgIds: (h.msgId ?? '').split(',').filter((s) => s.length > 0),
    };
  }
}

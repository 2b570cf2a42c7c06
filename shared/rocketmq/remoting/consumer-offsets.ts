// A consumer group's offsets and connections on one broker: what offset translation reads and writes.
// Request headers follow QueryConsumerOffsetRequestHeader, UpdateConsumerOffsetRequestHeader,
// GetConsumerConnectionListRequestHeader and GetConsumeStatsRequestHeader of rocketmq-all-4.9.7 and 5.3.3.
import type { RemotingClient } from './client.ts';
import { RemotingError, RemotingResponseError, ResponseCode } from './errors.ts';
import { asObject, isObject, num, parseJson } from './admin-json.ts';
import { RequestCode } from './request-codes.ts';

type Invoker = Pick<RemotingClient, 'invoke'>;

/** A group's committed offset of one queue of a broker: the next message it consumes. */
export interface CommittedOffset {
  topic: string;
  queueId: number;
  offset: number;
}

export class ConsumerOffsetClient {
  constructor(
    private readonly remoting: Invoker,
    private readonly timeoutMs = 10_000,
  ) {}

  /**
   * Every group's committed offsets on this broker, by group (GET_ALL_CONSUMER_OFFSET: the table the
   * broker persists). One request per broker however many groups and queues: asking each group's
   * ConsumeStats instead costs the broker a store read per queue (~15 ms a group of 100 queues).
   */
  async allOffsets(brokerAddr: string): Promise<Map<string, CommittedOffset[]>> {
    const res = await this.remoting.invoke(brokerAddr, RequestCode.GET_ALL_CONSUMER_OFFSET, {}, undefined, { timeoutMs: this.timeoutMs });
    return parseOffsetTable(res.body?.toString('utf8') ?? '');
  }

  /** The group's committed offset of one queue; -1 when it has none. */
  async queryOffset(brokerAddr: string, group: string, topic: string, queueId: number): Promise<number> {
    const res = await this.remoting.invoke(
      brokerAddr,
      RequestCode.QUERY_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId) },
      undefined,
      { timeoutMs: this.timeoutMs, accept: [ResponseCode.QUERY_NOT_FOUND] },
    );
    if (res.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    const offset = num(res.extFields?.offset);
    if (offset === undefined) throw new RemotingError(`QUERY_CONSUMER_OFFSET from ${brokerAddr}: no offset in the answer`);
    return offset;
  }

  /** Commits the group's offset of one queue (the broker keeps whatever it is told: callers guard against moving back). */
  async updateOffset(brokerAddr: string, group: string, topic: string, queueId: number, offset: number): Promise<void> {
    await this.remoting.invoke(
      brokerAddr,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      { consumerGroup: group, topic, queueId: String(queueId), commitOffset: String(offset) },
      undefined,
      { timeoutMs: this.timeoutMs },
    );
  }

  /** How many clients of the group are connected to this broker now (0 when the group is not online). */
  async onlineConsumers(brokerAddr: string, group: string): Promise<number> {
    try {
      const res = await this.remoting.invoke(brokerAddr, RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: group }, undefined, {
        timeoutMs: this.timeoutMs,
      });
      const body = asObject(parseJson(res.body?.toString('utf8') ?? '{}', 'ConsumerConnection'), 'ConsumerConnection');
      return Array.isArray(body.connectionSet) ? body.connectionSet.length : 0;
    } catch (err) {
      if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.CONSUMER_NOT_ONLINE) return 0;
      throw err;
    }
  }
}

/** `{"offsetTable": {"topic@group": {queueId: offset, …}, …}}` (fastjson: bare integer keys) by group. */
export function parseOffsetTable(text: string): Map<string, CommittedOffset[]> {
  const out = new Map<string, CommittedOffset[]>();
  if (text.trim() === '') return out;
  // The only bare keys are the queue ids: quoted by one replace, the table (megabytes on a busy broker)
  // goes through JSON.parse instead of the general lenient reader (~8× faster).
  const root = parseJson(text.replace(/([{,])(-?\d+):/g, '$1"$2":'), 'ConsumerOffsetSerializeWrapper');
  const table = isObject(root) && isObject(root.offsetTable) ? root.offsetTable : {};
  for (const [key, queues] of Object.entries(table)) {
    const at = key.indexOf('@');
    if (at <= 0 || !isObject(queues)) continue;
    const [topic, group] = [key.slice(0, at), key.slice(at + 1)];
    const list = out.get(group) ?? [];
    for (const [queueId, offset] of Object.entries(queues)) {
      const q = Number(queueId);
      const o = num(offset);
      if (Number.isSafeInteger(q) && o !== undefined) list.push({ topic, queueId: q, offset: o });
    }
    out.set(group, list);
  }
  return out;
}

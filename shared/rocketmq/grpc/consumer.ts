// The gRPC source: a SimpleConsumer of a Ferry-owned consumer group. It receives a batch (the
// messages stay invisible to the group meanwhile), and each message is acked only after the target
// confirmed its replica; what is not acked comes back after the invisible duration (at-least-once).
// The client's MessageView hides the queue, offset and store time a replica's provenance needs, so
// the receive is taken over to keep them from the raw message.
import type { MessageQueue, MessageView, SimpleConsumer as ClientConsumer } from 'rocketmq-client-nodejs';
import type { Logger } from '../../log.ts';
import type { StoredMessage } from '../message.ts';
import { clientLogger, loadGrpcLibrary, loadServiceProtos } from './library.ts';
import { SHARDING_KEY, type GrpcEndpoint } from './producer.ts';

export interface GrpcSubscription {
  topic: string;
  /** A tag expression (`*`, `a || b`) or, with type SQL92, a property filter the broker evaluates. */
  expression: string;
  type: 'TAG' | 'SQL92';
}

export interface ReceivedMessage {
  /** The message as a pull would have given it: queue, offset and store time included. */
  m: StoredMessage;
  brokerName: string;
  ack(): Promise<void>;
}

export interface GrpcConsumer {
  /** Up to `max` messages of one subscribed topic (topics take turns); waits up to the long poll. */
  receive(max: number, invisibleMs: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

/** How long a receive waits on the proxy for a message to arrive. */
const LONG_POLL_MS = 5000;

const ms = (t: { getSeconds(): number; getNanos(): number } | undefined) =>
  t ? t.getSeconds() * 1000 + Math.floor(t.getNanos() / 1_000_000) : 0;

interface RawFacts {
  queueId: number;
  queueOffset: number;
  storeTimestamp: number;
  storeHost: string;
  brokerName: string;
}

export async function openGrpcConsumer(
  e: GrpcEndpoint,
  group: string,
  subscriptions: readonly GrpcSubscription[],
  log: Logger,
): Promise<GrpcConsumer> {
  const lib = await loadGrpcLibrary();
  const { ReceiveMessageResponse } = await loadServiceProtos();
  const facts = new WeakMap<MessageView, RawFacts>();

  class FerryConsumer extends lib.SimpleConsumer {
    protected override async receiveMessage(
      request: Parameters<ClientConsumer['receiveMessage']>[0],
      mq: MessageQueue,
      awaitDuration: number,
    ): Promise<MessageView[]> {
      const responses = await this.rpcClientManager.receiveMessage(mq.broker.endpoints, request, this.requestTimeout + awaitDuration);
      const views: MessageView[] = [];
      let status: ReturnType<NonNullable<ReturnType<(typeof responses)[number]['getStatus']>>['toObject']> | undefined;
      for (const r of responses) {
        const kind = r.getContentCase();
        if (kind === ReceiveMessageResponse.ContentCase.STATUS) status = r.getStatus()?.toObject();
        else if (kind === ReceiveMessageResponse.ContentCase.MESSAGE) {
          const pb = r.getMessage()!;
          const sys = pb.getSystemProperties()!;
          const view = new lib.MessageView(pb, mq);
          facts.set(view, {
            queueId: sys.getQueueId(),
            queueOffset: sys.getQueueOffset() ?? -1,
            storeTimestamp: ms(sys.getStoreTimestamp()),
            storeHost: sys.getStoreHost(),
            brokerName: mq.broker.name,
          });
          views.push(view);
        }
      }
      lib.StatusChecker.check(status);
      return views;
    }
  }

  const { FilterExpression } = lib;
  const consumer: ClientConsumer = new FerryConsumer({
    endpoints: e.endpoints,
    namespace: '',
    consumerGroup: group,
    requestTimeout: e.requestTimeoutMs ?? 5000,
    awaitDuration: LONG_POLL_MS,
    logger: clientLogger(log),
    subscriptions: new Map(subscriptions.map((s) => [s.topic, new FilterExpression(s.expression, s.type === 'SQL92' ? 2 : 1)])),
    ...(e.credentials ? { sessionCredentials: { accessKey: e.credentials.accessKey, accessSecret: e.credentials.secretKey } } : {}),
  });
  await consumer.startup();
  return {
    async receive(max, invisibleMs) {
      const views = await consumer.receive(max, invisibleMs);
      return views.map((v) => {
        const f = facts.get(v)!;
        return { m: storedOf(v, f), brokerName: f.brokerName, ack: () => consumer.ack(v) };
      });
    },
    close: async () => {
      if (consumer.isRunning()) await consumer.shutdown().catch((err: unknown) => log.warn({ err }, 'gRPC consumer shutdown failed'));
    },
  };
}

/**
 * A received message in the shape a pull gives. A FIFO message's group becomes the sharding key
 * property (what a remoting producer sets for it); a delay's delivery time is over by now.
 */
function storedOf(v: MessageView, f: RawFacts): StoredMessage {
  const properties: Record<string, string> = Object.fromEntries(v.properties);
  if (v.tag) properties.TAGS = v.tag;
  if (v.keys.length) properties.KEYS = v.keys.join(' ');
  properties.UNIQ_KEY = v.messageId;
  if (v.messageGroup) properties[SHARDING_KEY] = v.messageGroup;
  return {
    topic: v.topic,
    queueId: f.queueId,
    queueOffset: f.queueOffset,
    commitLogOffset: -1,
    msgId: v.messageId,
    uniqKey: v.messageId,
    body: v.body,
    bodyCRC: 0,
    flag: 0,
    sysFlag: 0,
    bornTimestamp: v.bornTimestamp?.getTime() ?? 0,
    bornHost: v.bornHost,
    storeTimestamp: f.storeTimestamp,
    storeHost: f.storeHost,
    reconsumeTimes: Math.max(0, (v.deliveryAttempt ?? 1) - 1),
    preparedTransactionOffset: 0,
    tags: v.tag,
    keys: v.keys,
    properties,
  };
}

// The gRPC target: the proxy's Producer, reached through rocketmq-client-nodejs, behind the same
// outgoing-message shape the remoting target takes. The client's own send() stamps every message
// with a new id and born time; a replica keeps its origin's, so messages are built with the
// client's PublishingMessage and then given back the replica's producer id and born time.
import type { MessageQueue, Producer as ClientProducer, SendReceipt } from 'rocketmq-client-nodejs';
import type { Logger } from '../../log.ts';
import type { OutgoingMessage } from '../message.ts';
import { clientLogger, loadGrpcLibrary, loadServiceProtos } from './library.ts';

/** How a gRPC endpoint is reached: `;`-separated proxy endpoints and optional session credentials. */
export interface GrpcEndpoint {
  endpoints: string;
  credentials?: { accessKey: string; secretKey: string } | undefined;
  requestTimeoutMs?: number;
}

/** What a gRPC producer can carry beyond the remoting message: a FIFO group, a delivery time. */
export interface GrpcOutgoing extends OutgoingMessage {
  /** FIFO topics: messages of one group are stored in order (the proxy picks the queue by it). */
  messageGroup?: string;
  /** Delayed messages: when the target may deliver it (ms since epoch). */
  deliveryTimestamp?: number;
}

export interface GrpcSendResult {
  /** The message id as the target stored it (the replica's producer id where it had one). */
  msgId: string;
  queueId: number;
  /** The queue offset, when the proxy reports it (else -1). */
  queueOffset: number;
}

/**
 * Remoting properties that stand for a gRPC system field: the FIFO group (sharding key) and the
 * delivery time. The proxy refuses them as user properties, so they move to their fields.
 */
export const SHARDING_KEY = '__SHARDINGKEY';
const RESERVED_FOR_SYSTEM = new Set([SHARDING_KEY, 'TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', 'TIMER_DELAY_MS', 'DELAY']);

export interface GrpcProducer {
  /**
   * One message per request: the 5.3.3 proxy stores every message of a multi-message request with
   * the first one's properties (tag, keys, id, born time), so batches would corrupt replicas.
   */
  send(topic: string, msg: GrpcOutgoing): Promise<GrpcSendResult>;
  /** The topic's route as the proxy gives it (its queue count): asks the endpoint, with the credentials. */
  route(topic: string): Promise<number>;
  close(): Promise<void>;
}

export async function openGrpcProducer(e: GrpcEndpoint, log: Logger): Promise<GrpcProducer> {
  const lib = await loadGrpcLibrary();
  const { SendMessageRequest } = await loadServiceProtos();

  class FerryProducer extends lib.Producer {
    async sendOne(topic: string, msg: GrpcOutgoing): Promise<GrpcSendResult> {
      if (!this.isRunning()) throw new Error('gRPC producer is closed');
      const route = await this.getRouteData(topic);
      // Permission WRITE (3) or READ_WRITE (4).
      const queues = route.messageQueues.filter((q) => q.permission >= 3);
      if (queues.length === 0) throw new lib.NotFoundException(40402, `topic ${topic} has no writable queue`);
      const mq: MessageQueue = queues[Math.floor(Math.random() * queues.length)]!;
      const request = new SendMessageRequest();
      request.addMessages(this.toProtobuf(topic, msg, mq));
      const response = await this.rpcClientManager.sendMessage(mq.broker.endpoints, request, this.requestTimeout);
      const receipts: SendReceipt[] = lib.SendReceipt.processResponseInvocation(mq, response);
      return { msgId: receipts[0]?.messageId ?? '', queueId: mq.queueId, queueOffset: receipts[0]?.offset ?? -1 };
    }

    async routeOf(topic: string): Promise<number> {
      return (await this.getRouteData(topic)).messageQueues.length;
    }

    private toProtobuf(topic: string, m: GrpcOutgoing, mq: MessageQueue) {
      const properties = new Map<string, string>();
      let group = m.messageGroup;
      for (const [k, v] of Object.entries(m.properties ?? {})) {
        if (k === SHARDING_KEY) group ??= v;
        else if (!RESERVED_FOR_SYSTEM.has(k)) properties.set(k, v);
      }
      // A past delivery time means "deliver now": the source's delay has already run out.
      const delivery = m.deliveryTimestamp !== undefined && m.deliveryTimestamp > Date.now() ? new Date(m.deliveryTimestamp) : undefined;
      const pub = new lib.PublishingMessage(
        {
          topic,
          body: m.body,
          ...(m.tags ? { tag: m.tags } : {}),
          keys: m.keys ?? [],
          properties,
          // FIFO and delay are exclusive in RocketMQ 5: the group (order) wins.
          ...(group ? { messageGroup: group } : delivery ? { deliveryTimestamp: delivery } : {}),
        },
        this.publishingSettings,
        false,
      );
      const pb = pub.toProtobuf(this.namespace, mq);
      const sys = pb.getSystemProperties()!;
      if (m.uniqKey) sys.setMessageId(m.uniqKey);
      const born = m.bornTimestamp ?? Date.now();
      sys
        .getBornTimestamp()!
        .setSeconds(Math.floor(born / 1000))
        .setNanos((born % 1000) * 1_000_000);
      return pb;
    }
  }

  const producer: ClientProducer & Pick<FerryProducer, 'sendOne' | 'routeOf'> = new FerryProducer({
    endpoints: e.endpoints,
    namespace: '',
    requestTimeout: e.requestTimeoutMs ?? 5000,
    logger: clientLogger(log),
    // One attempt: Ferry's delivery owns retries (and knows when an outcome is unknown).
    maxAttempts: 1,
    ...(e.credentials ? { sessionCredentials: { accessKey: e.credentials.accessKey, accessSecret: e.credentials.secretKey } } : {}),
  });
  await producer.startup();
  return {
    send: (topic, msg) => producer.sendOne(topic, msg),
    route: (topic) => producer.routeOf(topic),
    close: async () => {
      if (producer.isRunning()) await producer.shutdown().catch((err: unknown) => log.warn({ err }, 'gRPC producer shutdown failed'));
    },
  };
}

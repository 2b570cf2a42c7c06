// One side of a task reached over gRPC (a RocketMQ 5 proxy): endpoints from `nameServer`
// (`;`-separated), the ACL keys as the client's session credentials. The client library is loaded
// and the producer started on first use, so a task that never sends opens nothing.
import type { Logger } from '../log.ts';
import type { GrpcConsumer, GrpcSubscription } from '../rocketmq/grpc/consumer.ts';
import type { GrpcEndpoint, GrpcProducer } from '../rocketmq/grpc/producer.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { endpointCredentials } from './credentials.ts';

export interface GrpcConnection {
  readonly protocol: 'grpc';
  clusterId: string;
  /** The proxy endpoints, as the task names them. */
  readonly nameServer: string;
  producer(): Promise<GrpcProducer>;
  consumer(group: string, subscriptions: readonly GrpcSubscription[]): Promise<GrpcConsumer>;
  close(): Promise<void>;
}

export const isGrpcConnection = (c: object): c is GrpcConnection => 'protocol' in c && c.protocol === 'grpc';

export function grpcEndpointOf(e: StoredEndpoint, cipher: SecretCipher, requestTimeoutMs = 5000): GrpcEndpoint {
  if (e.clusterType !== 'self-built') throw new Error(`cluster ${e.clusterId}: gRPC is supported for self-built clusters only`);
  return { endpoints: e.nameServer, credentials: endpointCredentials(e, cipher), requestTimeoutMs };
}

export function connectGrpcEndpoint(e: StoredEndpoint, cipher: SecretCipher, log: Logger): GrpcConnection {
  const endpoint = grpcEndpointOf(e, cipher);
  let producer: Promise<GrpcProducer> | undefined;
  const consumers: GrpcConsumer[] = [];
  return {
    protocol: 'grpc',
    clusterId: e.clusterId,
    nameServer: endpoint.endpoints,
    producer() {
      producer ??= import('../rocketmq/grpc/producer.ts').then((m) => m.openGrpcProducer(endpoint, log));
      // A failed start is tried again on the next send.
      producer.catch(() => (producer = undefined));
      return producer;
    },
    async consumer(group, subscriptions) {
      const { openGrpcConsumer } = await import('../rocketmq/grpc/consumer.ts');
      const c = await openGrpcConsumer(endpoint, group, subscriptions, log);
      consumers.push(c);
      return c;
    },
    async close() {
      const p = producer;
      producer = undefined;
      await Promise.all([
        p?.then(
          (x) => x.close(),
          () => undefined,
        ),
        ...consumers.splice(0).map((c) => c.close()),
      ]);
    },
  };
}

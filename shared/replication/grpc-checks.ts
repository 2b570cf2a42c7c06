// The start and health check of a gRPC side: the proxy answers a route query, with the task's
// credentials. A topic no cluster holds is asked for, so a proxy that knows the client answers
// "topic not found" — only an unreachable proxy or refused credentials are problems.
import { randomBytes } from 'node:crypto';
import { grpcEndpointOf } from '../clusters/grpc-connect.ts';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';

const quiet: Logger = createLogger('silent');

export async function grpcEndpointProblem(side: string, e: StoredEndpoint, cipher: SecretCipher): Promise<string | undefined> {
  if (e.clusterType !== 'self-built') return `${side} cluster ${e.clusterId}: gRPC is supported for self-built clusters only`;
  const { openGrpcProducer } = await import('../rocketmq/grpc/producer.ts');
  let producer: Awaited<ReturnType<typeof openGrpcProducer>>;
  try {
    producer = await openGrpcProducer(grpcEndpointOf(e, cipher, 4000), quiet);
  } catch (err) {
    return `${side} cluster ${e.clusterId}: ${(err as Error).message}`;
  }
  try {
    await producer.route(`FERRY_PROBE_${randomBytes(4).toString('hex')}`);
    return undefined;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    // RocketMQ v2 TOPIC_NOT_FOUND / NOT_FOUND: the proxy answered and accepted the client.
    if (code === 40402 || code === 40400) return undefined;
    const reason = (err as Error).message;
    if (code === 40100 || code === 40300)
      return `authentication failed on the ${side} cluster ${e.clusterId} (gRPC ${e.nameServer}): ${reason}`;
    return `gRPC endpoint ${e.nameServer} of the ${side} cluster ${e.clusterId} is unreachable: ${reason}`;
  } finally {
    await producer.close();
  }
}

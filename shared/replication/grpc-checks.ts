// The start and health check of a gRPC side: the proxy answers a route query, with the task's
// credentials. A topic no cluster holds is asked for, so a proxy that knows the client answers
// "topic not found" — only an unreachable proxy or refused credentials are problems. Where the client
// is not deployed (the cloud packages carry it beside the replicator only: each zip stays small), the
// check is that an endpoint accepts a TCP connection; the credentials are then first tried by a replicator.
import { randomBytes } from 'node:crypto';
import { grpcEndpointOf } from '../clusters/grpc-connect.ts';
import type { Logger } from '../log.ts';
import { createLogger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { resolveAllowed } from '../egress/resolve.ts';
import { GrpcClientMissingError } from '../rocketmq/grpc/library.ts';
import { connect } from 'node:net';

const quiet: Logger = createLogger('silent');

export async function grpcEndpointProblem(side: string, e: StoredEndpoint, cipher: SecretCipher): Promise<string | undefined> {
  if (e.clusterType !== 'self-built') return `${side} cluster ${e.clusterId}: gRPC is supported for self-built clusters only`;
  const { openGrpcProducer } = await import('../rocketmq/grpc/producer.ts');
  let producer: Awaited<ReturnType<typeof openGrpcProducer>>;
  try {
    producer = await openGrpcProducer(grpcEndpointOf(e, cipher, 4000), quiet);
  } catch (err) {
    if (err instanceof GrpcClientMissingError) return reachabilityProblem(side, e);
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

/** Undefined when one of the endpoints accepts a connection (through the egress policy) within 4 s. */
async function reachabilityProblem(side: string, e: Extract<StoredEndpoint, { clusterType: 'self-built' }>): Promise<string | undefined> {
  const reasons: string[] = [];
  for (const endpoint of e.nameServer.split(';').filter((x) => x.trim() !== '')) {
    const at = endpoint.lastIndexOf(':');
    const [host, port] = [endpoint.slice(0, at).trim(), Number(endpoint.slice(at + 1))];
    try {
      const address = await resolveAllowed(host);
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: address, port, timeout: 4000 });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new Error('no answer within 4 s'));
        });
        socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code ?? 'connection failed')));
      });
      return undefined;
    } catch (err) {
      reasons.push(`${endpoint}: ${(err as Error).message}`);
    }
  }
  return `gRPC endpoint ${e.nameServer} of the ${side} cluster ${e.clusterId} is unreachable (${reasons.join('; ')})`;
}

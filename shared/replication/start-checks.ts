// What the reconciler verifies before a task runs, in words a person can act on: every name server
// answers, the credentials are accepted by every broker, the filter parses.
import { parseSql92, FilterSyntaxError } from '../filter/index.ts';
import { RemotingClient } from '../rocketmq/remoting/client.ts';
import { RemotingResponseError, ResponseCode } from '../rocketmq/remoting/errors.ts';
import { NameServerClient, masterAddress, parseAddressList } from '../rocketmq/remoting/namesrv.ts';
import { RequestCode } from '../rocketmq/remoting/request-codes.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import { endpointCredentials, type StoredEndpoint, type TaskSpec } from '../tasks/model.ts';

const AUTH_REMARK = /signature|accesskey|access key|acl|permission|not found|authenticat/i;

export function isAuthFailure(err: unknown): err is RemotingResponseError {
  return err instanceof RemotingResponseError && (err.responseCode === ResponseCode.NO_PERMISSION || (err.responseCode === ResponseCode.SYSTEM_ERROR && AUTH_REMARK.test(err.remark)));
}

/** The first problem found, as a sentence for statusReason; undefined when the task can start. */
export async function startProblem(spec: TaskSpec, cipher: SecretCipher): Promise<string | undefined> {
  if (spec.filter.expression.type === 'SQL92') {
    try {
      parseSql92(spec.filter.expression.value);
    } catch (err) {
      if (err instanceof FilterSyntaxError) return err.message;
      throw err;
    }
  }
  for (const [side, endpoint] of [['source', spec.source], ['target', spec.target]] as const) {
    const problem = await endpointProblem(side, endpoint, cipher);
    if (problem) return problem;
  }
  return undefined;
}

async function endpointProblem(side: string, e: StoredEndpoint, cipher: SecretCipher): Promise<string | undefined> {
  if (e.clusterType !== 'self-built') return `${side} cluster ${e.clusterId}: Tencent Cloud clusters need the Cloud API adapter, which this deployment does not have`;
  if (e.protocol === 'grpc') return `${side} cluster ${e.clusterId}: replication needs the remoting protocol (gRPC cannot pull by offset)`;
  const client = new RemotingClient({ credentials: endpointCredentials(e, cipher), requestTimeoutMs: 4000, connectTimeoutMs: 3000 });
  try {
    const brokers = new Map<string, string>();
    for (const address of parseAddressList(e.nameServer)) {
      try {
        const info = await new NameServerClient(client, address, 4000).clusterInfo();
        for (const b of Object.values(info.brokerAddrTable)) {
          const a = masterAddress(b);
          if (a) brokers.set(b.brokerName, a);
        }
      } catch (err) {
        return `name server ${address} of the ${side} cluster ${e.clusterId} is unreachable: ${(err as Error).message}`;
      }
    }
    if (brokers.size === 0) return `the ${side} cluster ${e.clusterId} has no broker registered at ${e.nameServer}`;
    for (const [name, address] of brokers) {
      try {
        await client.invoke(address, RequestCode.GET_BROKER_RUNTIME_INFO, {}, undefined, { timeoutMs: 4000 });
      } catch (err) {
        if (isAuthFailure(err)) return `authentication failed on the ${side} cluster ${e.clusterId} (broker ${name}): ${err.remark}`;
        return `broker ${name} (${address}) of the ${side} cluster ${e.clusterId} is unreachable: ${(err as Error).message}`;
      }
    }
    return undefined;
  } finally {
    client.close();
  }
}

// What the reconciler verifies before a task runs, in words a person can act on: every name server
// answers, the credentials are accepted by every broker, the filter parses, the topic patterns are
// safe. A Tencent cluster's access point is resolved through the Cloud API first, then checked like
// a self-built cluster's.
import { resolveTencentAccess } from '../clusters/connect.ts';
import { endpointCredentials } from '../clusters/credentials.ts';
import { EgressDeniedError } from '../egress/resolve.ts';
import { checkTopicPatternsSafety, FilterPatternError, FilterSyntaxError, parseSql92 } from '../filter/index.ts';
import { RemotingClient } from '../rocketmq/remoting/client.ts';
import { RemotingResponseError, ResponseCode } from '../rocketmq/remoting/errors.ts';
import { NameServerClient, masterAddress, parseAddressList } from '../rocketmq/remoting/namesrv.ts';
import { RequestCode } from '../rocketmq/remoting/request-codes.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { StoredEndpoint, TaskSpec } from '../tasks/model.ts';
import { TencentAccessError } from '../tencent-cloud/access-point.ts';
import { deploymentKeysPolicy, deploymentKeysRefusal } from '../tencent-cloud/cluster-policy.ts';
import { TencentCloudApiError } from '../tencent-cloud/cloud-api.ts';
import { grpcEndpointProblem } from './grpc-checks.ts';

const AUTH_REMARK = /signature|accesskey|access key|acl|permission|not found|authenticat/i;

export function isAuthFailure(err: unknown): err is RemotingResponseError {
  return (
    err instanceof RemotingResponseError &&
    (err.responseCode === ResponseCode.NO_PERMISSION || (err.responseCode === ResponseCode.SYSTEM_ERROR && AUTH_REMARK.test(err.remark)))
  );
}

export interface StartCheckOptions {
  /** Aborted when the checks' deadline passes: their connections are closed. */
  signal?: AbortSignal | undefined;
  /** Told what is being waited on, so a deadline's reason can say. */
  step?: ((what: string) => void) | undefined;
  /** The task's tenant (whose clusters the deployment's Tencent Cloud keys may serve). */
  tenant?: string | undefined;
}

/** The first problem found, as a sentence for statusReason; undefined when the task can start. */
export async function startProblem(spec: TaskSpec, cipher: SecretCipher, opts: StartCheckOptions = {}): Promise<string | undefined> {
  return (await filterProblem(spec)) ?? (await clustersProblem(spec, cipher, opts));
}

/** The filter's problem: the expression parses, the topic patterns are safe (analysed in a worker, with their own budget). */
export async function filterProblem(spec: TaskSpec): Promise<string | undefined> {
  if (spec.filter.expression.type === 'SQL92') {
    try {
      parseSql92(spec.filter.expression.value);
    } catch (err) {
      if (err instanceof FilterSyntaxError) return err.message;
      throw err;
    }
  }
  // Again here, not only in the API: the replicator runs the patterns without this analysis.
  try {
    await checkTopicPatternsSafety(spec.filter.topics);
  } catch (err) {
    if (err instanceof FilterPatternError) return err.message;
    throw err;
  }
  return undefined;
}

/** Both sides' first problem: name servers answer, brokers accept the credentials. */
export async function clustersProblem(spec: TaskSpec, cipher: SecretCipher, opts: StartCheckOptions = {}): Promise<string | undefined> {
  for (const [side, endpoint] of [
    ['source', spec.source],
    ['target', spec.target],
  ] as const) {
    const problem = await endpointProblem(side, endpoint, cipher, opts);
    if (problem) return problem;
  }
  return undefined;
}

/** One side's first problem (name servers, brokers, credentials) as a sentence naming the cluster; undefined when it answers. */
export async function endpointProblem(
  side: string,
  e: StoredEndpoint,
  cipher: SecretCipher,
  opts: StartCheckOptions = {},
): Promise<string | undefined> {
  if (e.protocol === 'grpc') return grpcEndpointProblem(side, e, cipher);
  let nameServer: string;
  if (e.clusterType === 'tencent') {
    // Checked again at every start, not only in the API: the operator may have narrowed the list since.
    if (opts.tenant !== undefined) {
      const { policy, deploymentKeys } = deploymentKeysPolicy();
      const refused = deploymentKeysRefusal(`${side}.clusterId`, e, opts.tenant, policy, deploymentKeys);
      if (refused) return refused;
    }
    opts.step?.(`resolving the access point of the ${side} cluster ${e.clusterId}`);
    try {
      nameServer = (await resolveTencentAccess(e, cipher)).nameServer;
    } catch (err) {
      return tencentProblem(side, e, err);
    }
  } else {
    nameServer = e.nameServer;
  }
  const client = new RemotingClient({ credentials: endpointCredentials(e, cipher), requestTimeoutMs: 4000, connectTimeoutMs: 3000 });
  const close = () => client.close();
  opts.signal?.addEventListener('abort', close, { once: true });
  try {
    const brokers = new Map<string, string>();
    for (const address of parseAddressList(nameServer)) {
      opts.step?.(`waiting for name server ${address} of the ${side} cluster ${e.clusterId}`);
      try {
        const info = await new NameServerClient(client, address, 4000).clusterInfo();
        for (const b of Object.values(info.brokerAddrTable)) {
          const a = masterAddress(b);
          if (a) brokers.set(b.brokerName, a);
        }
      } catch (err) {
        const denied = egressDenial(err);
        if (denied) return `name server ${address} of the ${side} cluster ${e.clusterId}: ${denied}`;
        return `name server ${address} of the ${side} cluster ${e.clusterId} is unreachable: ${(err as Error).message}`;
      }
    }
    if (brokers.size === 0) return `the ${side} cluster ${e.clusterId} has no broker registered at ${nameServer}`;
    for (const [name, address] of brokers) {
      opts.step?.(`waiting for broker ${name} (${address}) of the ${side} cluster ${e.clusterId}`);
      try {
        await client.invoke(address, RequestCode.GET_BROKER_RUNTIME_INFO, {}, undefined, { timeoutMs: 4000 });
      } catch (err) {
        if (isAuthFailure(err)) return `authentication failed on the ${side} cluster ${e.clusterId} (broker ${name}): ${err.remark}`;
        const denied = egressDenial(err);
        if (denied) return `broker ${name} (${address}) of the ${side} cluster ${e.clusterId}: ${denied}`;
        return `broker ${name} (${address}) of the ${side} cluster ${e.clusterId} is unreachable: ${(err as Error).message}`;
      }
    }
    return undefined;
  } finally {
    opts.signal?.removeEventListener('abort', close);
    client.close();
  }
}

/** The egress policy's refusal behind a connect failure, as its sentence. */
function egressDenial(err: unknown): string | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof EgressDeniedError) return e.message;
  return undefined;
}

function tencentProblem(side: string, e: Extract<StoredEndpoint, { clusterType: 'tencent' }>, err: unknown): string {
  if (err instanceof TencentCloudApiError && err.failure === 'gone') {
    return (
      `Tencent cluster ${e.clusterId} not found in region ${e.region} (the ${side} cluster; Cloud API ` +
      `${err.code ?? 'ResourceNotFound'})`
    );
  }
  if (err instanceof TencentCloudApiError && err.failure === 'auth') {
    return `Tencent Cloud API authentication failed for the ${side} cluster ${e.clusterId}: ${err.message}`;
  }
  if (err instanceof TencentAccessError) return `${side} cluster ${e.clusterId}: ${err.message}`;
  return `${side} cluster ${e.clusterId}: its access point could not be resolved through the Tencent Cloud API: ${(err as Error).message}`;
}

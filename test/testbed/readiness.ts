import { connect } from 'node:net';
import { parseLenientJson } from '../../shared/rocketmq/remoting/codec.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RequestCode } from '../../shared/rocketmq/remoting/request-codes.ts';
import type { ClusterInfo } from './cluster-info.ts';

// Present on every broker of every version, whatever autoCreateTopicEnable says.
const PROBE_TOPIC = 'SELF_TEST_TOPIC';

/**
 * Waits until the cluster really serves: the namesrv lists every broker at its address, a route
 * query answers with all of them, each broker answers a runtime-info request, and on 5.x the
 * proxy answers a route query over remoting and accepts gRPC connections.
 */
export async function waitUntilReady(info: ClusterInfo, timeoutMs: number, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = new RemotingClient({ credentials: info.acl, requestTimeoutMs: 2000, connectTimeoutMs: 1000 });
  let last = 'not probed yet';
  try {
    while (Date.now() < deadline) {
      const dead = failed();
      if (dead) throw new Error(dead);
      try {
        await probe(client, info);
        return;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`not ready after ${timeoutMs} ms: ${last}`);
  } finally {
    client.close();
  }
}

async function probe(client: RemotingClient, info: ClusterInfo): Promise<void> {
  const clusterRes = await client.invoke(info.nameServer, RequestCode.GET_BROKER_CLUSTER_INFO);
  const clusterInfo = parseLenientJson(clusterRes.body?.toString('utf8') ?? '{}') as {
    brokerAddrTable?: Record<string, { brokerAddrs?: Record<string, string> }>;
  };
  for (const b of info.brokers) {
    const addr = clusterInfo.brokerAddrTable?.[b.name]?.brokerAddrs?.['0'];
    if (addr !== b.address) throw new Error(`broker ${b.name} not registered at ${b.address} (namesrv has ${addr ?? 'nothing'})`);
  }
  const route = await routeBrokers(client, info.nameServer);
  for (const b of info.brokers) if (!route.includes(b.name)) throw new Error(`route of ${PROBE_TOPIC} lacks ${b.name}`);
  for (const b of info.brokers) await client.invoke(b.address, RequestCode.GET_BROKER_RUNTIME_INFO);
  if (info.proxyRemoting) {
    const viaProxy = await routeBrokers(client, info.proxyRemoting);
    if (viaProxy.length === 0) throw new Error('proxy route query returned no brokers');
  }
  if (info.grpcEndpoint) await tcpOpen(info.grpcEndpoint);
}

async function routeBrokers(client: RemotingClient, address: string): Promise<string[]> {
  const res = await client.invoke(address, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: PROBE_TOPIC });
  const route = parseLenientJson(res.body?.toString('utf8') ?? '{}') as { brokerDatas?: { brokerName: string }[] };
  return (route.brokerDatas ?? []).map((b) => b.brokerName);
}

function tcpOpen(address: string): Promise<void> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => {
      s.destroy();
      resolve();
    });
    s.once('error', (e) => {
      s.destroy();
      reject(new Error(`gRPC endpoint ${address} not accepting: ${e.message}`));
    });
  });
}

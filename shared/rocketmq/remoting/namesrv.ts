// Name server queries with failover across a `host:port;host:port` list.
import { parseLenientJson } from './codec.ts';
import type { RemotingClient } from './client.ts';
import { RemotingConnectError, RemotingConnectionClosedError, RemotingError, RemotingTimeoutError } from './errors.ts';
import { RequestCode } from './request-codes.ts';

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId → address; id 0 is the master. */
  brokerAddrs: Record<string, string>;
}

export interface TopicRoute {
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
}

export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

export const PERM_READ = 0x4;
export const PERM_WRITE = 0x2;

export const masterAddress = (b: BrokerData): string | undefined => b.brokerAddrs['0'];

/** Parses `a:1;b:2` (also tolerating spaces and a trailing `;`). */
export function parseAddressList(list: string): string[] {
  return list
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const isTransportError = (e: unknown): boolean =>
  e instanceof RemotingConnectError || e instanceof RemotingTimeoutError || e instanceof RemotingConnectionClosedError;

export class NameServerClient {
  readonly addresses: string[];
  private current = 0;

  constructor(
    private readonly remoting: RemotingClient,
    nameServer: string,
    private readonly timeoutMs = 3000,
  ) {
    this.addresses = parseAddressList(nameServer);
    if (this.addresses.length === 0) throw new RemotingError('name server address list is empty');
  }

  /**
   * Sends to the last name server that answered, moving on to the next one on transport failure
   * (not on an error answer: every name server would give the same one).
   */
  async invoke(code: number, extFields: Record<string, string> = {}, body?: Buffer) {
    let lastError: unknown;
    for (let i = 0; i < this.addresses.length; i++) {
      const idx = (this.current + i) % this.addresses.length;
      try {
        const res = await this.remoting.invoke(this.addresses[idx]!, code, extFields, body, { timeoutMs: this.timeoutMs });
        this.current = idx;
        return res;
      } catch (err) {
        if (!isTransportError(err)) throw err;
        lastError = err;
      }
    }
    if (this.addresses.length === 1) throw lastError;
    throw new RemotingConnectError(
      this.addresses.join(';'),
      `no name server answered (${this.addresses.join(', ')}): ${(lastError as Error).message}`,
      { cause: lastError },
    );
  }

  async topicRoute(topic: string): Promise<TopicRoute> {
    const res = await this.invoke(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic });
    const raw = parseLenientJson(res.body?.toString('utf8') ?? '{}') as Partial<TopicRoute>;
    return { queueDatas: raw.queueDatas ?? [], brokerDatas: raw.brokerDatas ?? [] };
  }

  async clusterInfo(): Promise<ClusterInfo> {
    const res = await this.invoke(RequestCode.GET_BROKER_CLUSTER_INFO);
    const raw = parseLenientJson(res.body?.toString('utf8') ?? '{}') as Partial<ClusterInfo>;
    return { brokerAddrTable: raw.brokerAddrTable ?? {}, clusterAddrTable: raw.clusterAddrTable ?? {} };
  }

  async topicList(): Promise<string[]> {
    const res = await this.invoke(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    const raw = parseLenientJson(res.body?.toString('utf8') ?? '{}') as { topicList?: string[] };
    return raw.topicList ?? [];
  }

  /** Master addresses of every broker in the cluster (or all clusters when none is named). */
  async masterAddresses(cluster?: string): Promise<{ brokerName: string; address: string }[]> {
    const info = await this.clusterInfo();
    const names = cluster ? (info.clusterAddrTable[cluster] ?? []) : Object.keys(info.brokerAddrTable);
    const out: { brokerName: string; address: string }[] = [];
    for (const name of names) {
      const b = info.brokerAddrTable[name];
      const address = b && masterAddress(b);
      if (address) out.push({ brokerName: name, address });
    }
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  }
}

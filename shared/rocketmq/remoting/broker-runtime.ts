// GET_BROKER_RUNTIME_INFO (28): the broker's own view of itself, a KVTable `{"table": {...}}`.
// Metadata sync asks it for the server version, because what a topic config can hold (5.x
// attributes) depends on it and the topic table itself does not say.
import type { RemotingClient } from './client.ts';
import { parseLenientJson } from './codec.ts';
import { RemotingError } from './errors.ts';
import { RequestCode } from './request-codes.ts';

export interface BrokerVersion {
  /** As the broker names it, e.g. `V5_3_3`, `V4_9_7`. */
  desc: string;
  major: number;
}

async function brokerRuntimeInfo(
  remoting: Pick<RemotingClient, 'invoke'>,
  address: string,
  timeoutMs = 5000,
): Promise<Record<string, string>> {
  const res = await remoting.invoke(address, RequestCode.GET_BROKER_RUNTIME_INFO, {}, undefined, { timeoutMs });
  const root = parseLenientJson(res.body?.toString('utf8') ?? '{}');
  const table = typeof root === 'object' && root !== null && 'table' in root ? (root as { table: unknown }).table : undefined;
  if (typeof table !== 'object' || table === null) throw new RemotingError(`runtime info from ${address} has no table`);
  return Object.fromEntries(Object.entries(table).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export async function brokerVersion(remoting: Pick<RemotingClient, 'invoke'>, address: string, timeoutMs?: number): Promise<BrokerVersion> {
  const desc = (await brokerRuntimeInfo(remoting, address, timeoutMs)).brokerVersionDesc;
  const major = desc ? Number(/^V(\d+)_/.exec(desc)?.[1]) : NaN;
  if (!desc || !Number.isInteger(major))
    throw new RemotingError(`broker ${address} did not report its version (brokerVersionDesc=${String(desc)})`);
  return { desc, major };
}

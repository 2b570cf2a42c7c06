// Where a broker keeps messages that are not due yet, and how far it has delivered them: delayed
// messages of level L wait in queue L − 1 of SCHEDULE_TOPIC_XXXX (REAL_TOPIC/REAL_QID name where
// they go) until the schedule service, whose progress per level GET_ALL_DELAY_OFFSET reports, puts
// them there; 5.x timer messages wait in queue 0 of rmq_sys_wheel_timer with their due time
// (TIMER_OUT_MS). Both topics are pulled like any other.
import type { RemotingClient } from './client.ts';
import { parseLenientJson } from './codec.ts';
import { RequestCode } from './request-codes.ts';

export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
export const TIMER_TOPIC = 'rmq_sys_wheel_timer';

/** Per delay level, the schedule-topic offset from which the broker has delivered nothing yet. */
export async function delayOffsets(
  remoting: Pick<RemotingClient, 'invoke'>,
  address: string,
  timeoutMs = 5000,
): Promise<Map<number, number>> {
  const res = await remoting.invoke(address, RequestCode.GET_ALL_DELAY_OFFSET, {}, undefined, { timeoutMs });
  const text = res.body?.toString('utf8').trim();
  const root = text ? parseLenientJson(text) : {};
  const table = typeof root === 'object' && root !== null && 'offsetTable' in root ? (root as { offsetTable: unknown }).offsetTable : {};
  const out = new Map<number, number>();
  if (typeof table !== 'object' || table === null) return out;
  for (const [level, offset] of Object.entries(table)) {
    if (Number.isSafeInteger(Number(level)) && typeof offset === 'number') out.set(Number(level), offset);
  }
  return out;
}

/** The broker's settings as it reports them (GET_BROKER_CONFIG: `key=value` lines). */
export async function brokerConfig(
  remoting: Pick<RemotingClient, 'invoke'>,
  address: string,
  timeoutMs = 5000,
): Promise<Record<string, string>> {
  const res = await remoting.invoke(address, RequestCode.GET_BROKER_CONFIG, {}, undefined, { timeoutMs });
  const out: Record<string, string> = {};
  for (const line of (res.body?.toString('utf8') ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

// Nothing left behind at failover: the messages that wait on the source for their time — delayed
// messages (delay levels, which also hold the retries a consumer asked for with reconsumeLater) and
// 5.x timer messages — are not in any replicated queue until they are due, so a task that stops
// before then would leave them behind. Once the replicators have stopped, the failover reads what
// is still pending (schedule-topic messages past the broker's delivery progress; timer messages due
// later than now) and sends each to its real topic on the target, to the queue the replicator would
// use, due at the same time: a timer message on a 5.x target, the nearest delay level on a 4.x one.
// Their copies fire later on the source, but the task no longer copies anything by then, and a
// failback task's loop check skips the target's copies that come back.
import { connectEndpoint, type ClusterConnection } from '../clusters/connect.ts';
import type { Logger } from '../log.ts';
import { dueOfLevel, nearestLevel, parseDelayLevels } from '../rocketmq/delay-levels.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import { brokerVersion } from '../rocketmq/remoting/broker-runtime.ts';
import { TopicNotFoundError } from '../rocketmq/remoting/errors.ts';
import { masterAddress } from '../rocketmq/remoting/namesrv.ts';
import { SCHEDULE_TOPIC, TIMER_TOPIC, brokerConfig, delayOffsets } from '../rocketmq/remoting/schedule.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import { taskOptions, type TaskSpec } from '../tasks/model.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import { TargetRoutes } from './delivery.ts';
import type { Flow } from './flows.ts';
import { messageFilter } from './message-filter.ts';
import { HOP, ORIGIN, isTrusted, toReplica, wouldLoop } from './origin.ts';
import { readableQueues } from './queues.ts';
import { SIGNATURE_PROPERTY, type PropertySigner } from './signature.ts';

export interface CarryResult {
  /** Sent to the target, due when the source would have delivered them. */
  carried: number;
  /** Pending on the source but not sent (the note says why). */
  failed: number;
  note: string | null;
}

/** A message waiting on the source: where it will go and when. */
export interface Pending {
  m: StoredMessage;
  brokerName: string;
  realTopic: string;
  realQueueId: number;
  dueMs: number;
}

const PULL = 32;

/** Reads the flow's pending messages on the source and sends them to the target. */
export async function carryDelayed(
  spec: TaskSpec,
  flow: Flow,
  deps: { cipher: SecretCipher; log: Logger; signer: PropertySigner },
  now = Date.now(),
): Promise<CarryResult> {
  if (!taskOptions(spec).offsetSync.nothingLeftBehind)
    return { carried: 0, failed: 0, note: 'offsetSync.nothingLeftBehind is off: pending delayed messages stay on the source' };
  if (flow.from.protocol === 'grpc' || flow.to.protocol === 'grpc')
    return { carried: 0, failed: 0, note: `${flow.id}: a gRPC endpoint shows no pending delayed messages; none carried` };
  const source = connectEndpoint(flow.from, deps.cipher, { requestTimeoutMs: 10_000 });
  const target = connectEndpoint(flow.to, deps.cipher, { requestTimeoutMs: 10_000 });
  try {
    let pending: Pending[];
    try {
      pending = await readPending(source, spec, now);
    } catch (err) {
      return { carried: 0, failed: 0, note: `${flow.id}: the source's pending delayed messages could not be read: ${messageOf(err)}` };
    }
    return await sendPending(source, target, spec, pending, deps, now);
  } finally {
    source.close();
    target.close();
  }
}

/** Every pending message of the task's topics (and filter) on the source's master brokers, by due time. */
export async function readPending(source: ClusterConnection, spec: TaskSpec, now: number): Promise<Pending[]> {
  const info = await source.nameServers.clusterInfo();
  const wanted = replicatedTopics(spec, new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]));
  const filter = messageFilter(spec);
  const out: Pending[] = [];
  const keep = (m: StoredMessage, brokerName: string, dueMs: number) => {
    const realTopic = m.properties.REAL_TOPIC;
    const realQueueId = Number(m.properties.REAL_QID);
    if (!realTopic || !Number.isSafeInteger(realQueueId) || !wanted(realTopic)) return;
    const real = { ...m, topic: realTopic, queueId: realQueueId };
    if (filter && !filter(real)) return;
    out.push({ m: real, brokerName, realTopic, realQueueId, dueMs });
  };
  for (const [brokerName, b] of Object.entries(info.brokerAddrTable)) {
    const address = masterAddress(b);
    if (!address) continue;
    // Delay levels: what lies past the schedule service's progress on each level's queue.
    const levels = parseDelayLevels((await brokerConfig(source.remoting, address)).messageDelayLevel);
    const progress = await delayOffsets(source.remoting, address);
    for (let level = 1; level <= levels.length; level++) {
      const from = progress.get(level) ?? 0;
      for await (const m of readQueue(source, address, SCHEDULE_TOPIC, level - 1, from)) {
        keep(m, brokerName, dueOfLevel(levels, level, m.storeTimestamp)!);
      }
    }
    // 5.x timer messages: the whole queue (its entries are in arrival order, not due order), keeping
    // those due later than now; a cancelled one has a later entry naming it in TIMER_DEL_UNIQKEY
    // (`<topic>+<producer id>`; the id is hex, so it is what follows the last separator).
    const timers = new Map<string, { m: StoredMessage; due: number }>();
    const cancelled = new Set<string>();
    for await (const m of readQueue(source, address, TIMER_TOPIC, 0)) {
      const deleted = m.properties.TIMER_DEL_UNIQKEY;
      if (deleted) cancelled.add(deleted.slice(Math.max(deleted.lastIndexOf('+'), deleted.lastIndexOf('_')) + 1));
      const due = Number(m.properties.TIMER_OUT_MS);
      if (!deleted && Number.isSafeInteger(due) && due > now) timers.set(m.uniqKey ?? m.msgId, { m, due });
    }
    for (const [key, { m, due }] of timers) if (!cancelled.has(key)) keep(m, brokerName, due);
  }
  return out.sort((a, b) => a.dueMs - b.dueMs);
}

/** The messages of one queue from `from` (its first kept offset at the least) to its end now; none when the topic is absent. */
async function* readQueue(source: ClusterConnection, address: string, topic: string, queueId: number, from = 0) {
  let max: number;
  let offset: number;
  try {
    [max, offset] = await Promise.all([
      source.broker.maxOffset(address, topic, queueId),
      source.broker.minOffset(address, topic, queueId).then((min) => Math.max(min, from)),
    ]);
  } catch (err) {
    if (err instanceof TopicNotFoundError) return;
    throw err;
  }
  while (offset < max) {
    const r = await source.broker.pull(address, { topic, queueId, offset, maxMessages: Math.min(PULL, max - offset) });
    if (r.status === 'OFFSET_ILLEGAL') offset = Math.max(r.nextBeginOffset, offset + 1);
    else if (r.messages.length === 0) break;
    else offset = r.nextBeginOffset;
    yield* r.messages.filter((m) => m.queueOffset < max);
  }
}

async function sendPending(
  source: ClusterConnection,
  target: ClusterConnection,
  spec: TaskSpec,
  pending: readonly Pending[],
  deps: { log: Logger; signer: PropertySigner },
  now: number,
): Promise<CarryResult> {
  if (pending.length === 0) return { carried: 0, failed: 0, note: null };
  const routes = new TargetRoutes(target);
  const positions = new Map<string, Promise<Map<string, number>>>();
  const indexOf = async (p: Pending) => {
    let byQueue = positions.get(p.realTopic);
    if (!byQueue) {
      byQueue = source.nameServers
        .topicRoute(p.realTopic)
        .then((route) => new Map(readableQueues(p.realTopic, route).map((q, i): [string, number] => [`${q.brokerName}/${q.queueId}`, i])));
      positions.set(p.realTopic, byQueue);
    }
    return (await byQueue).get(`${p.brokerName}/${p.realQueueId}`) ?? p.realQueueId;
  };
  // Timer messages where every target broker has them (5.x); else the nearest delay level of the target's table.
  const timers = new Map<string, Promise<boolean>>();
  const levels = new Map<string, Promise<number[]>>();
  const hasTimers = (address: string) => {
    if (!timers.has(address))
      timers.set(
        address,
        brokerVersion(target.remoting, address).then((v) => v.major >= 5),
      );
    return timers.get(address)!;
  };
  const levelsOf = (address: string) => {
    if (!levels.has(address))
      levels.set(
        address,
        brokerConfig(target.remoting, address).then((c) => parseDelayLevels(c.messageDelayLevel)),
      );
    return levels.get(address)!;
  };
  let carried = 0;
  let failed = 0;
  let firstError: string | undefined;
  for (const p of pending) {
    try {
      const trusted = isTrusted(p.m, deps.signer);
      if (wouldLoop(p.m, source.clusterId, target.clusterId, trusted)) continue;
      const t = await routes.queueFor(p.realTopic, await indexOf(p));
      const out = toReplica(
        p.m,
        { clusterId: source.clusterId, brokerName: p.brokerName, generation: spec.replayGeneration ?? 0 },
        target.clusterId,
        deps.signer,
        trusted,
      );
      // Not a copy of a position in a replicated queue: no hop offset (resume must never count it) and no source offset.
      const properties = { ...out.properties };
      for (const k of [...Object.values(HOP), ORIGIN.offset]) delete properties[k];
      properties[SIGNATURE_PROPERTY] = deps.signer.sign(p.realTopic, properties);
      const when =
        p.dueMs <= now
          ? {}
          : (await hasTimers(t.address))
            ? { deliverAtMs: p.dueMs }
            : { delayLevel: nearestLevel(await levelsOf(t.address), p.dueMs - now) };
      await target.broker.send(t.address, p.realTopic, t.queueId, { ...out, properties, ...when });
      carried++;
    } catch (err) {
      failed++;
      firstError ??= `${p.realTopic}: ${messageOf(err)}`;
      deps.log.warn(
        { err, topic: p.realTopic, msgId: p.m.uniqKey ?? p.m.msgId },
        'a pending delayed message could not be carried to the target',
      );
    }
  }
  const note = failed > 0 ? `${failed} pending delayed message(s) not carried (first: ${firstError})` : null;
  return { carried, failed, note };
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

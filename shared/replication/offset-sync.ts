// Consumer offset translation, the I/O shell around offset-translation.ts: one cycle per task and flow.
//
//   lease (task, 'offsets') → per flow: the source's groups (the task's groups filter) → each group's
//   committed offsets on the replicated topics → the offset pairs below them → plan → on the target:
//   skip a group with live consumers there, else raise (never lower) its offsets → record outcomes →
//   thin the flow's offset pairs.
//
// It runs right after metadata sync on the same timer (root.ts): metadata sync creates the groups on
// the target first (a 5.x broker refuses offsets of an unknown group), and no other schedule or
// deployment is needed. Tasks are taken by the same rule as metadata sync: desired state running.
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { connectEndpoint, type ClusterConnection } from '../clusters/connect.ts';
import { isFerryError } from '../errors.ts';
import { matchTopicPatterns } from '../filter/topic-match.ts';
import type { Logger } from '../log.ts';
import { ConsumerOffsetClient, type CommittedOffset } from '../rocketmq/remoting/consumer-offsets.ts';
import { isSystemGroup } from '../filter/system-resources.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type {
  LeaseStore,
  OffsetPairEntry,
  OffsetPairStore,
  OffsetSyncOutcome,
  OffsetSyncStore,
  TaskRow,
  TaskStore,
} from '../store/store.ts';
import { taskOptions } from '../tasks/model.ts';
import { flowsOf, type Flow } from './flows.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import {
  nextTargetOffset,
  planTranslations,
  sourceKey,
  targetKey,
  twoWayBound,
  type GroupCommit,
  type PlannedTranslation,
} from './offset-translation.ts';

export interface OffsetSyncDeps {
  store: TaskStore & LeaseStore & OffsetPairStore & OffsetSyncStore;
  cipher: SecretCipher;
  log: Logger;
  /** Lease owner; defaults to one id per process. */
  owner?: string;
}

export interface OffsetSyncResult {
  taskId: string;
  outcome: 'ok' | 'busy' | 'gone' | 'disabled' | 'failed';
  groups: number;
  synced: number;
  skipped: number;
  noMapping: number;
  failed: number;
  error?: string;
}

const LEASE_FLOW = 'offsets';
const LEASE_TTL_MS = 5 * 60_000;
const PROCESS_OWNER = `offset-sync-${randomUUID()}`;
/** Groups translated at once per flow: each is a handful of requests to the brokers. */
const GROUP_CONCURRENCY = 4;

/**
 * One translation cycle for one task. `fromStored` (an unplanned failover whose source cannot be read):
 * each group's commits are the ones the last cycle read from the source (offset_syncs), translated
 * through the pairs recorded since; only the target is asked. Not for two-way tasks, whose bound needs
 * the source's commits.
 */
export async function syncTaskOffsets(task: TaskRow, deps: OffsetSyncDeps, opts: { fromStored?: boolean } = {}): Promise<OffsetSyncResult> {
  const result: OffsetSyncResult = { taskId: task.id, outcome: 'ok', groups: 0, synced: 0, skipped: 0, noMapping: 0, failed: 0 };
  if (!taskOptions(task.spec).offsetSync.enabled) return { ...result, outcome: 'disabled' };
  const key = { taskId: task.id, flow: LEASE_FLOW, shard: 0 };
  const owner = deps.owner ?? PROCESS_OWNER;
  let lease: { epoch: number } | null;
  try {
    lease = await deps.store.acquireLease({ ...key, owner, ttlMs: LEASE_TTL_MS });
  } catch (err) {
    if (isFerryError(err, 'NOT_FOUND')) return { ...result, outcome: 'gone' };
    throw err;
  }
  if (!lease) return { ...result, outcome: 'busy' };
  try {
    for (const flow of flowsOf(task.spec)) {
      const source = connectEndpoint(flow.from, deps.cipher, { requestTimeoutMs: 10_000 });
      const target = connectEndpoint(flow.to, deps.cipher, { requestTimeoutMs: 10_000 });
      try {
        const outcomes = opts.fromStored
          ? await syncFlowFromStored(task, flow, target, deps)
          : await syncFlow(task, flow, source, target, deps);
        result.groups += new Set(outcomes.map((o) => o.group)).size;
        for (const o of outcomes) {
          if (o.status === 'synced') result.synced++;
          else if (o.status === 'skipped-active-consumers') result.skipped++;
          else if (o.status === 'no-mapping-yet') result.noMapping++;
          else result.failed++;
        }
      } finally {
        source.close();
        target.close();
      }
    }
    return result;
  } catch (err) {
    if (isFerryError(err, 'NOT_FOUND')) return { ...result, outcome: 'gone' };
    deps.log.warn({ taskId: task.id, err }, 'offset sync failed');
    return { ...result, outcome: 'failed', error: err instanceof Error ? err.message : String(err) };
  } finally {
    await deps.store.releaseLease(key, owner, lease.epoch).catch(() => false);
  }
}

async function syncFlow(task: TaskRow, flow: Flow, source: ClusterConnection, target: ClusterConnection, deps: OffsetSyncDeps) {
  const { groups: groupPatterns } = taskOptions(task.spec);
  const wantedGroup = matchTopicPatterns(groupPatterns);
  const [sourceMasters, targetMasters] = await Promise.all([source.nameServers.masterAddresses(), target.nameServers.masterAddresses()]);
  const wantedTopic = replicatedTopics(task.spec, new Set(sourceMasters.map((m) => m.brokerName)));
  const groups = new Set<string>();
  for (const m of sourceMasters) {
    for (const g of (await source.admin.getAllGroups(m.address)).keys()) if (!isSystemGroup(g) && wantedGroup(g)) groups.add(g);
  }
  const newest = await deps.store.newestOffsetPairs(task.id, flow.id);
  // Two-way: the other flow copies the target's own messages to the source (see twoWayBound).
  const back = task.spec.direction === 'two-way' ? (flow.id === 'forward' ? 'reverse' : 'forward') : undefined;
  const [backNewest, backOldest] = back
    ? await Promise.all([deps.store.newestOffsetPairs(task.id, back), deps.store.oldestOffsetPairs(task.id, back)])
    : [[], []];
  const reverse = back ? { flow: back, newest: byQueue(backNewest), oldest: byQueue(backOldest) } : undefined;
  const sourceOffsets = new ConsumerOffsetClient(source.remoting);
  const targetOffsets = new ConsumerOffsetClient(target.remoting);
  const targetAddress = new Map(targetMasters.map((m) => [m.brokerName, m.address]));
  // Every broker's offset table, once per cycle: the sources' commits, and what the groups hold on the target.
  const [sourceTables, targetTables] = await Promise.all([
    Promise.all(sourceMasters.map(async (m) => ({ broker: m.brokerName, table: await sourceOffsets.allOffsets(m.address) }))),
    Promise.all(targetMasters.map(async (m) => [m.address, await targetOffsets.allOffsets(m.address)] as const)),
  ]);
  const heldOnTarget = new Map(targetTables);
  const all: OffsetSyncOutcome[] = [];
  await pLimit(GROUP_CONCURRENCY).map([...groups].sort(), async (group) => {
    const commits: GroupCommit[] = [];
    /** Every queue's commit (a two-way bound needs to know how far the group consumed; none is 0). */
    const committedAt = new Map<string, number>();
    for (const { broker, table } of sourceTables) {
      for (const o of table.get(group) ?? []) {
        if (!wantedTopic(o.topic)) continue;
        const c = { topic: o.topic, broker, queueId: o.queueId, committed: o.offset };
        committedAt.set(sourceKey(c), c.committed);
        if (c.committed > 0) commits.push(c);
      }
    }
    if (commits.length === 0) return;
    const pairs = await deps.store.findOffsetPairs(
      task.id,
      flow.id,
      commits.map((c) => ({ topic: c.topic, broker: c.broker, queueId: c.queueId, sourceOffset: c.committed - 1 })),
    );
    const unbounded = planTranslations(commits, pairs, newest);
    const bounds = reverse ? await twoWayBounds(task.id, unbounded, reverse, committedAt, deps.store) : undefined;
    const plan = bounds ? planTranslations(commits, pairs, newest, bounds) : unbounded;
    const held = (addr: string) => heldOnTarget.get(addr)?.get(group) ?? [];
    all.push(...(await applyPlan(group, plan, targetOffsets, targetAddress, held)));
  });
  await recordOutcomes(task.id, flow.id, all, deps.store);
  await deps.store.pruneOffsetPairs(task.id, flow.id);
  if (all.length > 0) {
    const count = (s: string) => all.filter((o) => o.status === s).length;
    deps.log.info(
      { taskId: task.id, flow: flow.id, groups: groups.size, synced: count('synced'), skipped: count('skipped-active-consumers') },
      'offset sync: flow translated',
    );
  }
  return all;
}

/** The last commits read of each group (offset_syncs), translated again through the pairs recorded since. */
async function syncFlowFromStored(task: TaskRow, flow: Flow, target: ClusterConnection, deps: OffsetSyncDeps) {
  const known = (await deps.store.listOffsetSyncs(task.id)).filter((i) => i.flow === flow.id && i.sourceOffset > 0);
  const byGroup = new Map<string, GroupCommit[]>();
  for (const i of known) {
    const commits = byGroup.get(i.group) ?? [];
    commits.push({ topic: i.topic, broker: i.broker, queueId: i.queueId, committed: i.sourceOffset });
    byGroup.set(i.group, commits);
  }
  const targetOffsets = new ConsumerOffsetClient(target.remoting);
  const masters = await target.nameServers.masterAddresses();
  const targetAddress = new Map(masters.map((m) => [m.brokerName, m.address]));
  const tables = new Map(await Promise.all(masters.map(async (m) => [m.address, await targetOffsets.allOffsets(m.address)] as const)));
  const newest = await deps.store.newestOffsetPairs(task.id, flow.id);
  const all: OffsetSyncOutcome[] = [];
  for (const [group, commits] of byGroup) {
    const held = (addr: string) => tables.get(addr)?.get(group) ?? [];
    const pairs = await deps.store.findOffsetPairs(
      task.id,
      flow.id,
      commits.map((c) => ({ topic: c.topic, broker: c.broker, queueId: c.queueId, sourceOffset: c.committed - 1 })),
    );
    all.push(...(await applyPlan(group, planTranslations(commits, pairs, newest), targetOffsets, targetAddress, held)));
  }
  await recordOutcomes(task.id, flow.id, all, deps.store);
  return all;
}

/** Outcomes are written at the cycle's end in large statements: one commit per group cost a cycle of 1,000 groups seconds. */
const OUTCOMES_PER_WRITE = 5000;
async function recordOutcomes(taskId: string, flow: string, outcomes: readonly OffsetSyncOutcome[], store: OffsetSyncStore) {
  for (let i = 0; i < outcomes.length; i += OUTCOMES_PER_WRITE)
    await store.upsertOffsetSyncs(taskId, flow, outcomes.slice(i, i + OUTCOMES_PER_WRITE));
}

type PairsByQueue = ReadonlyMap<string, OffsetPairEntry>;

const byQueue = (pairs: readonly OffsetPairEntry[]): PairsByQueue => new Map(pairs.map((p) => [sourceKey(p), p]));

/**
 * For each target queue of a plan that the reverse flow copies from: the highest offset that skips none
 * of its own messages the group has not consumed on the source (twoWayBound), by targetKey.
 */
async function twoWayBounds(
  taskId: string,
  plan: readonly PlannedTranslation[],
  reverse: { flow: string; newest: PairsByQueue; oldest: PairsByQueue },
  committedAt: ReadonlyMap<string, number>,
  store: OffsetPairStore,
): Promise<Map<string, number>> {
  const queues = new Map<string, { topic: string; broker: string; queueId: number }>();
  for (const p of plan) if (p.kind === 'translated') queues.set(targetKey(p.target), p.target);
  const asked = [...queues.entries()].flatMap(([k, q]) => {
    const newest = reverse.newest.get(k);
    if (!newest) return [];
    // Where the reverse flow puts this queue's messages on the source, and how far the group consumed there.
    const committed = committedAt.get(sourceKey({ topic: q.topic, broker: newest.targetBroker, queueId: newest.targetQueueId })) ?? 0;
    return [{ k, query: { ...q, targetBroker: newest.targetBroker, targetQueueId: newest.targetQueueId, targetOffset: committed - 1 } }];
  });
  const consumed = await store.findOffsetPairsByTarget(
    taskId,
    reverse.flow,
    asked.map((a) => a.query),
  );
  const bounds = new Map<string, number>();
  asked.forEach((a, i) => {
    const bound = twoWayBound(consumed[i] ?? null, reverse.oldest.get(a.k));
    if (bound !== undefined) bounds.set(a.k, bound);
  });
  return bounds;
}

/** Writes one group's planned offsets on the target, unless the group has consumers there. */
export async function applyPlan(
  group: string,
  plan: readonly PlannedTranslation[],
  offsets: Pick<ConsumerOffsetClient, 'onlineConsumers' | 'updateOffset'>,
  address: ReadonlyMap<string, string>,
  /** What the group holds on the target broker at this address (read at the cycle's start). */
  held: (addr: string) => readonly CommittedOffset[],
): Promise<OffsetSyncOutcome[]> {
  const brokers = [...new Set(plan.flatMap((p) => (p.kind === 'translated' ? [p.target.broker] : [])))];
  let online = 0;
  for (const b of brokers) {
    const addr = address.get(b);
    if (addr) online += await offsets.onlineConsumers(addr, group);
  }
  // One write per target queue, however many source queues feed it (they agree: planTranslations takes
  // their lowest); every queue's write started at once, then the outcomes gathered in plan order.
  const written = new Map<string, Promise<{ offset: number | null } | { error: string }>>();
  const heldOn = new Map<string, ReadonlyMap<string, number>>();
  const heldAt = (addr: string) => {
    let h = heldOn.get(addr);
    if (!h) heldOn.set(addr, (h = new Map(held(addr).map((o) => [`${o.topic}/${o.queueId}`, o.offset]))));
    return h;
  };
  for (const p of plan) {
    const addr = p.kind === 'translated' ? address.get(p.target.broker) : undefined;
    if (p.kind !== 'translated' || !addr || written.has(targetKey(p.target))) continue;
    const current = heldAt(addr).get(`${p.commit.topic}/${p.target.queueId}`) ?? -1;
    written.set(targetKey(p.target), raise(offsets, current, addr, group, p.commit.topic, p.target.queueId, p.offset, online > 0));
  }
  const outcomes: OffsetSyncOutcome[] = [];
  for (const p of plan) {
    const base = { group, topic: p.commit.topic, broker: p.commit.broker, queueId: p.commit.queueId, sourceOffset: p.commit.committed };
    if (p.kind === 'no-mapping-yet') {
      outcomes.push({ ...base, targetBroker: null, targetQueueId: null, targetOffset: null, status: 'no-mapping-yet', error: p.reason });
      continue;
    }
    const at = { targetBroker: p.target.broker, targetQueueId: p.target.queueId };
    const w = written.get(targetKey(p.target));
    if (!w) {
      outcomes.push({ ...base, ...at, targetOffset: null, status: 'failed', error: `target broker ${p.target.broker} has no master now` });
      continue;
    }
    const r = await w;
    if ('error' in r) outcomes.push({ ...base, ...at, targetOffset: null, status: 'failed', error: r.error });
    else outcomes.push({ ...base, ...at, targetOffset: r.offset, status: online > 0 ? 'skipped-active-consumers' : 'synced', error: null });
  }
  return outcomes;
}

/** Raises the group's offset of one target queue from `current` to `proposed` (never lowers it); only reads when `readOnly`. */
async function raise(
  offsets: Pick<ConsumerOffsetClient, 'updateOffset'>,
  current: number,
  addr: string,
  group: string,
  topic: string,
  queueId: number,
  proposed: number,
  readOnly: boolean,
): Promise<{ offset: number | null } | { error: string }> {
  try {
    const next = nextTargetOffset(proposed, current);
    if (readOnly) return { offset: current < 0 ? null : current };
    if (next.write) await offsets.updateOffset(addr, group, topic, queueId, next.offset);
    return { offset: next.offset };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

export interface OffsetSyncSummary {
  eligible: number;
  results: OffsetSyncResult[];
  errors: { taskId: string; error: string }[];
  durationMs: number;
}

/** One cycle for every task whose desired state is running (as metadata sync takes them), until stopAt. */
export async function runOffsetSync(
  deps: OffsetSyncDeps,
  opts: { stopAt?: number; concurrency?: number } = {},
): Promise<OffsetSyncSummary> {
  const t0 = Date.now();
  const tasks = await deps.store.listAllTasks({ onUndecodable: (err) => deps.log.error({ err }, 'stored task unreadable') });
  const due = tasks.filter((t) => t.desiredState === 'running' && t.status !== 'start_failed' && t.status !== 'deleting');
  const results: OffsetSyncResult[] = [];
  const errors: OffsetSyncSummary['errors'] = [];
  await pLimit(Math.max(1, Math.floor(opts.concurrency ?? 2))).map(due, async (task) => {
    if (opts.stopAt !== undefined && Date.now() >= opts.stopAt) return;
    try {
      results.push(await syncTaskOffsets(task, deps));
    } catch (err) {
      errors.push({ taskId: task.id, error: err instanceof Error ? err.message : String(err) });
    }
  });
  const summary = { eligible: due.length, results, errors, durationMs: Date.now() - t0 };
  const sum = (k: 'synced' | 'skipped' | 'noMapping' | 'failed') => results.reduce((n, r) => n + r[k], 0);
  deps.log.info(
    { eligible: due.length, synced: sum('synced'), skipped: sum('skipped'), noMapping: sum('noMapping'), failed: sum('failed'), errors },
    'offset sync run',
  );
  return summary;
}

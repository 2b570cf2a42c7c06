// Failover, the I/O part: each reconciler cycle moves every task's failover on by the steps it can
// take now (tasks/failover.ts has the states and the rules). Every step is written against the
// version it read, with an audit event, so two runtimes reconciling at once cannot both take it.
//
//   waiting-for-lag  snapshot the source ends (first cycle), then wait for the checkpoints to reach them
//   translating      one consumer-offset translation cycle (offset-sync.ts); unplanned: the possible loss
//   stopping         the task is stopped; wait until no replicator holds a shard (their last checkpoints written),
//                    then carry the source's pending delayed messages to the target (delayed-carry.ts)
//   done             with reverse: the B→A task, created with its start checkpoints at B's ends read now
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { connectEndpoint, type ClusterConnection } from '../clusters/connect.ts';
import { isFerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type {
  AuditStore,
  CheckpointEntry,
  CheckpointStore,
  LeaseStore,
  OffsetPairStore,
  OffsetSyncStore,
  TaskPatch,
  TaskRow,
  TaskStore,
  Transactional,
} from '../store/store.ts';
import {
  activeFailover,
  advance,
  invertPairs,
  possibleLoss,
  remainingLag,
  snapshotEnds,
  type FailoverRecord,
  type QueueCheckpoint,
  type QueueEnd,
} from '../tasks/failover.ts';
import type { TaskSpec } from '../tasks/model.ts';
import { carryDelayed, type CarryResult } from './delayed-carry.ts';
import { flowsOf, type Flow } from './flows.ts';
import { syncTaskOffsets, type OffsetSyncResult } from './offset-sync.ts';
import { listSourceQueues, type SourceQueue } from './queues.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import { startCheckpoints } from './start-offsets.ts';
import { taskSigner } from './origin.ts';

export interface FailoverDeps {
  store: TaskStore &
    LeaseStore &
    CheckpointStore &
    OffsetPairStore &
    OffsetSyncStore &
    AuditStore &
    Transactional<TaskStore & AuditStore & CheckpointStore & OffsetPairStore>;
  cipher: SecretCipher;
  log: Logger;
}

export interface FailoverOptions {
  /** A planned failover whose lag has not reached 0 after this long fails; the task keeps running (default 30 min). */
  waitForLagMs?: number;
}

const DEFAULT_WAIT_FOR_LAG_MS = 30 * 60_000;
/** Transitions one task may take in one cycle (a whole unplanned failover fits). */
const STEPS_PER_CYCLE = 5;
/** A carry claimed this long ago whose counts were never written: its runtime died. */
const CARRY_STALE_MS = 10 * 60_000;

/** Moves every task's active failover on; returns how many tasks had one. */
export async function runFailovers(deps: FailoverDeps, opts: FailoverOptions = {}): Promise<number> {
  const tasks = (await deps.store.listAllTasks({ onUndecodable: () => undefined })).filter((t) => activeFailover(t.spec));
  await pLimit(4).map(tasks, async (task) => {
    try {
      await stepFailover(task, deps, opts);
    } catch (err) {
      if (isFerryError(err, 'CONFLICT') || isFerryError(err, 'NOT_FOUND')) return; // changed under us: next cycle
      deps.log.error({ err, taskId: task.id }, 'failover step failed');
    }
  });
  return tasks.length;
}

/** Takes the steps the task's failover can take now. */
export async function stepFailover(task: TaskRow, deps: FailoverDeps, opts: FailoverOptions = {}): Promise<void> {
  let row = task;
  for (let i = 0; i < STEPS_PER_CYCLE; i++) {
    const r = activeFailover(row.spec);
    if (!r) return;
    const next = await step(row, r, deps, opts);
    if (!next) return;
    row = next;
  }
}

/** One step: the task as written, or undefined when there is nothing to do until a later cycle. */
async function step(row: TaskRow, r: FailoverRecord, deps: FailoverDeps, opts: FailoverOptions): Promise<TaskRow | undefined> {
  const now = Date.now();
  const flows = flowsOf(row.spec);
  switch (r.state) {
    case 'waiting-for-lag': {
      if (row.status !== 'running' || row.desiredState !== 'running') {
        return write(row, deps, 'failover-failed', advance(r, { failed: `the task was ${row.status} before its lag reached 0` }, now));
      }
      // Checked first, so a source that cannot be read for the snapshot ends the wait too.
      const limit = opts.waitForLagMs ?? DEFAULT_WAIT_FOR_LAG_MS;
      if (now - r.stateSince > limit) {
        const left = r.lag === null ? 'the source ends could not be read' : `${r.lag} messages left`;
        const why = `the lag did not reach 0 within ${Math.round(limit / 1000)} s (${left}); the task keeps running`;
        return write(row, deps, 'failover-failed', advance(r, { failed: why }, now));
      }
      if (!r.ends) {
        const ends = (await Promise.all(flows.map((f) => readEnds(row.spec, f, deps.cipher)))).flat();
        const snapshot = snapshotEnds(ends);
        const lag = remainingLag(snapshot, await checkpointsOf(row.id, flows, deps));
        return write(row, deps, 'failover-lag-snapshot', { ...r, ends: snapshot, lagAtStart: lag, lag }, { lagAtStart: lag });
      }
      const lag = remainingLag(r.ends, await checkpointsOf(row.id, flows, deps));
      if (lag === 0) return write(row, deps, 'failover-drained', advance(r, 'drained', now, { lag }), { lag });
      // Progress for the reader of GET /v1/tasks/{id}; no audit event for each count.
      return lag === r.lag ? undefined : write(row, deps, undefined, { ...r, lag });
    }
    case 'translating': {
      const translated = await translate(row, r, deps);
      if (translated === 'later') return undefined;
      if (r.mode === 'planned') {
        if ('failed' in translated) return write(row, deps, 'failover-failed', advance(r, { failed: translated.failed }, now));
        const next = advance(r, 'translated', now, translated);
        return write(row, deps, 'failover-translated', next, { offsets: next.offsets }, { desiredState: 'stopped', status: 'stopped' });
      }
      // Unplanned: the replicators have stopped, so their checkpoints are final.
      const loss = await lossOf(row, flows, deps);
      const offsets = 'failed' in translated ? null : translated.offsets;
      const notes = [loss.reason, 'failed' in translated ? `offsets not translated: ${translated.failed}` : translated.reason];
      const note = notes.filter(Boolean).join('; ') || null;
      const found = { possibleLoss: loss.possibleLoss, offsets, reason: note };
      return finish(row, deps, advance(r, 'translated', now, found), { possibleLoss: loss.possibleLoss?.total ?? null, reason: note });
    }
    case 'stopping': {
      if (row.desiredState === 'running') {
        return write(
          row,
          deps,
          'failover-failed',
          advance(r, { failed: 'the task was started again before its replicators had stopped' }, now),
        );
      }
      const leases = await deps.store.listLeases(row.id);
      const ids = new Set<string>(flows.map((f) => f.id));
      if (leases.some((l) => ids.has(l.flow) && l.expiresAtMs > now)) return undefined;
      const carry = r.delayed;
      if (!carry || ('carrying' in carry && now - carry.carrying > CARRY_STALE_MS)) return carryDelayedStep(row, r, flows, deps, now);
      if ('carrying' in carry) return undefined; // another runtime is carrying them
      if (r.mode === 'unplanned') return write(row, deps, 'failover-stopped', advance(r, 'stopped', now));
      return finish(row, deps, advance(r, 'stopped', now), {});
    }
    default:
      return undefined;
  }
}

/**
 * Claims the carry against the version read (of two runtimes at this step only one goes on), carries
 * every flow's pending delayed messages, and writes the counts with an audit event. A claim older than
 * CARRY_STALE_MS is taken to be a runtime that died while carrying: carried again (a duplicate, never a loss).
 */
async function carryDelayedStep(
  row: TaskRow,
  r: FailoverRecord,
  flows: readonly Flow[],
  deps: FailoverDeps,
  now: number,
): Promise<TaskRow> {
  const claimed = await write(row, deps, undefined, { ...r, delayed: { carrying: now } });
  const signer = taskSigner(deps.cipher, row.tenant, row.id);
  const results: CarryResult[] = [];
  for (const f of flows) results.push(await carryDelayed(row.spec, f, { cipher: deps.cipher, log: deps.log, signer }));
  const delayed = {
    carried: results.reduce((n, x) => n + x.carried, 0),
    failed: results.reduce((n, x) => n + x.failed, 0),
    note: results.flatMap((x) => (x.note ? [x.note] : [])).join('; ') || null,
  };
  return write(claimed, deps, 'failover-delayed-carried', { ...r, delayed }, delayed);
}

/** The last step: done, and with reverse the B→A task created in the same transaction. */
async function finish(row: TaskRow, deps: FailoverDeps, done: FailoverRecord, details: Record<string, unknown>): Promise<TaskRow> {
  if (!done.reverse) return write(row, deps, 'failover-done', done, details);
  // B's ends now — after the forward replicators stopped — are where failback starts: what B receives from here on.
  const back: Flow = { id: 'forward', from: row.spec.target, to: row.spec.source };
  const entries = await startEntries(row.spec, back, deps.cipher);
  // Commits on B below its ends now translate back through the forward flow's pairs (see invertPairs).
  const { expression } = row.spec.filter;
  const copiesAll = expression.type === 'TAG' && ['', '*'].includes(expression.value.trim());
  const seeded = invertPairs(await deps.store.listOffsetPairs(row.id, 'forward'), copiesAll);
  const reverse = reverseSpec(row.spec);
  const id = `task-${randomUUID()}`;
  const name = `${row.name.slice(0, 180)}-failback-${id.slice(5, 11)}`;
  return deps.store.withTransaction(async (tx) => {
    const next = await tx.updateTask(row.tenant, row.id, row.version, { spec: { ...row.spec, failover: { ...done, reverseTaskId: id } } });
    const created = await tx.insertTask({
      id,
      tenant: row.tenant,
      name,
      spec: reverse,
      desiredState: 'running',
      status: 'initializing',
      startOffsetsCaptured: true,
    });
    await tx.setCheckpoints(id, 'forward', entries);
    await tx.seedOffsetPairs(id, 'forward', seeded);
    const actor = 'reconciler';
    await tx.appendAudit({ taskId: id, tenant: row.tenant, actor, action: 'create', after: { failbackOf: row.id, name: created.name } });
    await tx.appendAudit({
      taskId: row.id,
      tenant: row.tenant,
      actor,
      action: 'failover-done',
      after: { ...details, reverseTaskId: id, reverseQueues: entries.length, offsetPairsSeeded: seeded.length },
    });
    return next;
  });
}

/** The failback task: the clusters swapped, the same topics, groups and options; one-way. */
function reverseSpec(spec: TaskSpec): TaskSpec {
  const { failover: _f, health: _h, pendingReset: _p, replayGeneration: _g, ...rest } = spec;
  return { ...rest, direction: 'one-way', source: spec.target, target: spec.source, startOffset: { type: 'latest' } };
}

/** Writes the record (and any patch) against the version read, with an audit event unless `action` is undefined. */
async function write(
  row: TaskRow,
  deps: FailoverDeps,
  action: string | undefined,
  record: FailoverRecord,
  details: Record<string, unknown> = {},
  patch: TaskPatch = {},
): Promise<TaskRow> {
  return deps.store.withTransaction(async (tx) => {
    const next = await tx.updateTask(row.tenant, row.id, row.version, { ...patch, spec: { ...row.spec, failover: record } });
    if (action) {
      const after = { state: record.state, ...details, ...(record.reason ? { reason: record.reason } : {}), status: next.status };
      await tx.appendAudit({ taskId: row.id, tenant: row.tenant, actor: 'reconciler', action, before: { state: row.status }, after });
    }
    return next;
  });
}

type Translation = 'later' | { failed: string } | { offsets: FailoverRecord['offsets']; reason: string | null };

/**
 * One translation cycle now; 'later' while the periodic cycle holds the task's offsets lease. Unplanned,
 * when the source cannot be read (one-way tasks): from the commits the last cycle read, through the pairs since.
 */
async function translate(row: TaskRow, r: FailoverRecord, deps: FailoverDeps): Promise<Translation> {
  let s: OffsetSyncResult = await syncTaskOffsets(row, deps);
  let reason: string | null = null;
  if (s.outcome === 'failed' && r.mode === 'unplanned' && row.spec.direction === 'one-way') {
    reason = `the source's commits could not be read (${s.error ?? 'unknown error'}); translated from the last ones read`;
    s = await syncTaskOffsets(row, deps, { fromStored: true });
  }
  if (s.outcome === 'busy' || s.outcome === 'gone') return 'later';
  if (s.outcome === 'disabled') return { offsets: null, reason: 'offset sync is off for this task: no offsets translated' };
  if (s.outcome === 'failed') return { failed: `the offset translation failed: ${s.error ?? 'unknown error'}` };
  return { offsets: { synced: s.synced, skipped: s.skipped, noMapping: s.noMapping, failed: s.failed }, reason };
}

async function checkpointsOf(taskId: string, flows: readonly Flow[], deps: FailoverDeps): Promise<QueueCheckpoint[]> {
  const all = await Promise.all(flows.map(async (f) => (await deps.store.getCheckpoints(taskId, f.id)).map((c) => ({ ...c, flow: f.id }))));
  return all.flat();
}

/** Unplanned: the possible loss, or why it is unknown (a source cluster that cannot be read). */
async function lossOf(row: TaskRow, flows: readonly Flow[], deps: FailoverDeps) {
  try {
    const ends = (await Promise.all(flows.map((f) => readEnds(row.spec, f, deps.cipher, true)))).flat();
    return { possibleLoss: possibleLoss(ends, await checkpointsOf(row.id, flows, deps)), reason: null };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { possibleLoss: null, reason: `the source could not be read, so the possible loss is unknown: ${why}` };
  }
}

/** Runs fn with a connection to the flow's source and its queues of the task's topics, listed as a start lists them. */
async function withSourceQueues<T>(
  spec: TaskSpec,
  from: Flow['from'],
  cipher: SecretCipher,
  fn: (source: ClusterConnection, queues: SourceQueue[]) => Promise<T>,
): Promise<T> {
  const source = connectEndpoint(from, cipher, { requestTimeoutMs: 10_000 });
  try {
    const info = await source.nameServers.clusterInfo();
    const own = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
    const queues = (await listSourceQueues(source, replicatedTopics(spec, own))).flatMap((t) => t.queues);
    return await fn(source, queues);
  } finally {
    source.close();
  }
}

/** The end (and with `withMin` the first kept offset) of every source queue of the flow now. */
function readEnds(spec: TaskSpec, flow: Flow, cipher: SecretCipher, withMin = false): Promise<(QueueEnd & { minOffset?: number })[]> {
  return withSourceQueues(spec, flow.from, cipher, (source, queues) => {
    const limit = pLimit(16);
    return Promise.all(
      queues.map((q) =>
        limit(async () => {
          const end = await source.broker.maxOffset(q.address, q.topic, q.queueId);
          const min = withMin ? { minOffset: await source.broker.minOffset(q.address, q.topic, q.queueId) } : {};
          return { flow: flow.id, topic: q.topic, broker: q.brokerName, queueId: q.queueId, end, ...min };
        }),
      ),
    );
  });
}

/** Start checkpoints at the ends of the flow's source queues now (the failback task's start). */
function startEntries(spec: TaskSpec, flow: Flow, cipher: SecretCipher): Promise<CheckpointEntry[]> {
  return withSourceQueues(spec, flow.from, cipher, (source, queues) => startCheckpoints(source, queues, { type: 'latest' }));
}

// Failover, the pure part: the record kept in the task's spec (`failover`), its state machine, the
// request's rules, and the two computations a failover rests on. The reconciler's cycles move it
// on (replication/failover-run.ts); no HTTP request waits for it.
//
//   planned:   waiting-for-lag → translating → stopping → done
//   unplanned: stopping → translating → done
//   either:    → failed (reason), from any state before done
//
// Planned, "lag 0": at its first cycle the failover snapshots the end of every source queue of every
// flow; the flow is drained when each queue's checkpoint (the next offset its replicators will read,
// written only after what lies below it was stored on the target or filtered out) has reached that
// snapshot. Messages that arrive after the snapshot are not waited for — producers are expected to
// have stopped; if they have not, those messages stay behind on the source, as with any cutover.
// Unplanned, "possible loss": per source queue, its end once the replicators have stopped minus
// their checkpoint then. A replicator that stops cleanly checkpoints exactly what it sent, so this is
// exactly what is missing; after a crash part of it may have reached the target (it is an upper bound).
import { z } from 'zod';
import type { FailoverInput, FailoverState, FailoverView } from './failover-schema.ts';
import { FerryError } from '../errors.ts';
import type { StoredTask, TaskSpec } from './stored-task.ts';

export type FailoverMode = FailoverInput['mode'];

const LossQueue = z.object({
  flow: z.string(),
  topic: z.string(),
  broker: z.string(),
  queueId: z.number(),
  sourceEnd: z.number(),
  replicated: z.number(),
  missing: z.number(),
});

const FailoverRecordSchema = z.looseObject({
  mode: z.enum(['planned', 'unplanned']),
  reverse: z.boolean(),
  state: z.enum(['waiting-for-lag', 'translating', 'stopping', 'done', 'failed']),
  startedAt: z.number(),
  /** When the current state was entered (ms): timeouts count from here. */
  stateSince: z.number(),
  finishedAt: z.number().nullable(),
  /** Planned: the source ends snapshotted at the first cycle, by flow then `topic/broker/queueId`. */
  ends: z.record(z.string(), z.record(z.string(), z.number())).nullable(),
  lagAtStart: z.number().nullable(),
  lag: z.number().nullable(),
  possibleLoss: z.object({ total: z.number(), queues: z.array(LossQueue) }).nullable(),
  offsets: z.object({ synced: z.number(), skipped: z.number(), noMapping: z.number(), failed: z.number() }).nullable(),
  reverseTaskId: z.string().nullable(),
  reason: z.string().nullable(),
  /**
   * The source's pending delayed messages, carried once the replicators stopped: claimed (`carrying`
   * since ms) by the runtime that carries them, then its counts. Absent until then (and in older records).
   */
  delayed: z
    .union([z.object({ carrying: z.number() }), z.object({ carried: z.number(), failed: z.number(), note: z.string().nullable() })])
    .nullable()
    .optional(),
});

/** What the task's spec keeps between reconciler cycles. */
export type FailoverRecord = z.infer<typeof FailoverRecordSchema>;

export function decodeFailover(stored: unknown): FailoverRecord | undefined {
  const r = FailoverRecordSchema.safeParse(stored);
  return r.success ? r.data : undefined;
}

export const isFinished = (state: FailoverState): boolean => state === 'done' || state === 'failed';

/** A failover not yet done or failed, if the task has one. */
export function activeFailover(spec: Pick<TaskSpec, 'failover'>): FailoverRecord | undefined {
  const r = decodeFailover(spec.failover);
  return r && !isFinished(r.state) ? r : undefined;
}

export type FailoverEvent = 'drained' | 'translated' | 'stopped';

const NEXT: Record<FailoverMode, Partial<Record<FailoverState, Partial<Record<FailoverEvent, FailoverState>>>>> = {
  planned: {
    'waiting-for-lag': { drained: 'translating' },
    translating: { translated: 'stopping' },
    stopping: { stopped: 'done' },
  },
  unplanned: {
    stopping: { stopped: 'translating' },
    translating: { translated: 'done' },
  },
};

/** The state an event leads to; throws on an event the state does not take (a bug, not an input). */
export function nextState(mode: FailoverMode, state: FailoverState, event: FailoverEvent): FailoverState {
  const next = NEXT[mode][state]?.[event];
  if (!next) throw new Error(`failover: ${mode} ${state} does not take ${event}`);
  return next;
}

/** The record after an event (or a failure), stamped at `now`; `patch` carries what the step found. */
export function advance(r: FailoverRecord, event: FailoverEvent | { failed: string }, now: number, patch: Partial<FailoverRecord> = {}) {
  const state = typeof event === 'string' ? nextState(r.mode, r.state, event) : 'failed';
  const reason = typeof event === 'string' ? (patch.reason ?? r.reason) : event.failed;
  return { ...r, ...patch, state, reason, stateSince: now, finishedAt: isFinished(state) ? now : null } satisfies FailoverRecord;
}

/**
 * The request's rules and the task's first change: planned only on a running task (it keeps running
 * until drained); unplanned on any task not being deleted, stopped at once. One failover at a time.
 * `reverse` on a two-way task is refused: it already replicates both ways, so a B→A task would copy twice.
 */
export function requestFailover(
  row: Pick<StoredTask, 'status' | 'spec'>,
  input: FailoverInput,
  now: number,
): { spec: TaskSpec; desiredState?: 'stopped'; status?: 'stopped'; statusReason?: string } {
  const current = activeFailover(row.spec);
  if (current) throw new FerryError('INVALID_STATE', `a ${current.mode} failover of this task is already ${current.state}`, 'failover');
  if (input.reverse && row.spec.direction === 'two-way') {
    throw new FerryError('VALIDATION_FAILED', 'reverse: a two-way task already replicates both ways; fail over without reverse', 'reverse');
  }
  if (input.mode === 'planned' && row.status !== 'running') {
    throw new FerryError('INVALID_STATE', `a planned failover needs a running task (it is ${row.status}); use unplanned`, 'status');
  }
  if (row.status === 'deleting') throw new FerryError('INVALID_STATE', 'the task is being deleted', 'status');
  const record: FailoverRecord = {
    mode: input.mode,
    reverse: input.reverse,
    state: input.mode === 'planned' ? 'waiting-for-lag' : 'stopping',
    startedAt: now,
    stateSince: now,
    finishedAt: null,
    ends: null,
    lagAtStart: null,
    lag: null,
    possibleLoss: null,
    offsets: null,
    reverseTaskId: null,
    reason: null,
  };
  const spec = { ...row.spec, failover: record };
  if (input.mode === 'planned') return { spec };
  return { spec, desiredState: 'stopped', status: 'stopped', statusReason: 'unplanned failover' };
}

export interface QueueEnd {
  flow: string;
  topic: string;
  broker: string;
  queueId: number;
  end: number;
}

export interface QueueCheckpoint {
  flow: string;
  topic: string;
  broker: string;
  queueId: number;
  nextOffset: number;
}

const key = (q: { topic: string; broker: string; queueId: number }) => `${q.topic}/${q.broker}/${q.queueId}`;

/** The planned snapshot as the record keeps it: by flow, then `topic/broker/queueId`. */
export function snapshotEnds(ends: readonly QueueEnd[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const e of ends) (out[e.flow] ??= {})[key(e)] = e.end;
  return out;
}

/**
 * What is left of the snapshot: per queue, its end then minus its checkpoint now (never below 0). A
 * queue with no checkpoint counts from 0: nothing of it is known to be on the target.
 */
export function remainingLag(ends: Record<string, Record<string, number>>, checkpoints: readonly QueueCheckpoint[]): number {
  const at = new Map(checkpoints.map((c) => [`${c.flow}|${key(c)}`, c.nextOffset]));
  let lag = 0;
  for (const [flow, queues] of Object.entries(ends)) {
    for (const [k, end] of Object.entries(queues)) lag += Math.max(0, end - (at.get(`${flow}|${k}`) ?? 0));
  }
  return lag;
}

/**
 * Unplanned: per source queue, messages past the replicators' checkpoint (`end − checkpoint`, never
 * below 0); only queues with some are listed, by flow, topic, broker and queue. A queue without a
 * checkpoint was never started on: all of it (from `minOffset`, the queue's first kept message) is missing.
 */
export function possibleLoss(
  ends: readonly (QueueEnd & { minOffset?: number })[],
  checkpoints: readonly QueueCheckpoint[],
): NonNullable<FailoverRecord['possibleLoss']> {
  const at = new Map(checkpoints.map((c) => [`${c.flow}|${key(c)}`, c.nextOffset]));
  const queues = ends
    .map((e) => {
      const replicated = at.get(`${e.flow}|${key(e)}`) ?? e.minOffset ?? 0;
      return {
        flow: e.flow,
        topic: e.topic,
        broker: e.broker,
        queueId: e.queueId,
        sourceEnd: e.end,
        replicated,
        missing: Math.max(0, e.end - replicated),
      };
    })
    .filter((q) => q.missing > 0)
    .sort(
      (a, b) => a.flow.localeCompare(b.flow) || a.topic.localeCompare(b.topic) || a.broker.localeCompare(b.broker) || a.queueId - b.queueId,
    );
  return { total: queues.reduce((n, q) => n + q.missing, 0), queues };
}

/** How the API shows a stored record (null when the task never failed over, or the record is unreadable). */
export function failoverView(stored: unknown): FailoverView | null {
  const r = decodeFailover(stored);
  if (!r) return null;
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    mode: r.mode,
    reverse: r.reverse,
    state: r.state,
    startedAt: new Date(r.startedAt).toISOString(),
    finishedAt: iso(r.finishedAt),
    lagAtStart: r.lagAtStart,
    lag: r.lag,
    possibleLoss: r.possibleLoss,
    offsets: r.offsets,
    reverseTaskId: r.reverseTaskId,
    reason: r.reason,
    delayed: r.delayed && 'carried' in r.delayed ? r.delayed : null,
  };
}

interface Pair {
  topic: string;
  broker: string;
  queueId: number;
  sourceOffset: number;
  targetBroker: string;
  targetQueueId: number;
  targetOffset: number;
}

/**
 * The failback task's first offset pairs: the forward flow's, read the other way. A replica at B offset
 * t of A offset s means every A message up to s of that queue sits below t on B, so a group that
 * consumed B past t has consumed them all and may resume on A at s + 1 — the translation rule, back.
 * Only for B queues fed by one A queue (several feeders interleave, and a source queue of a flow must
 * map to one target queue), and only when the task copies every message (`copiesAll`): a filtered-out
 * A message the group never saw would otherwise be skipped on A.
 */
export function invertPairs(pairs: readonly Pair[], copiesAll: boolean): Pair[] {
  if (!copiesAll) return [];
  const feeders = new Map<string, Set<string>>();
  for (const p of pairs) {
    const k = `${p.topic}/${p.targetBroker}/${p.targetQueueId}`;
    feeders.set(k, (feeders.get(k) ?? new Set()).add(`${p.broker}/${p.queueId}`));
  }
  return pairs
    .filter((p) => feeders.get(`${p.topic}/${p.targetBroker}/${p.targetQueueId}`)?.size === 1)
    .map((p) => ({
      topic: p.topic,
      broker: p.targetBroker,
      queueId: p.targetQueueId,
      sourceOffset: p.targetOffset,
      targetBroker: p.broker,
      targetQueueId: p.queueId,
      targetOffset: p.sourceOffset,
    }));
}

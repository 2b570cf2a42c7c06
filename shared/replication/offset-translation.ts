// Consumer offset translation, the pure rule (offset-sync.ts is the I/O around it).
//
// A group committed C on a source queue: it has consumed everything below C. The newest offset pair
// (s, t) with s ≤ C − 1 says the replica of source message s sits at target offset t, and — since a
// source queue is copied in order into one target queue — every replica of a source message ≤ s sits
// below t. So t + 1 is safe on the target: what lies between t + 1 and the replica of C − 1 is
// delivered again (pairs are sparse), nothing is skipped. No such pair: no-mapping-yet.
//
// Several source queues can feed one target queue (more source than target queues): the target
// offset must be safe for each of them, so it is the lowest of their translations, and none at all
// while any of them has none. And a target offset never moves back: a group that consumed further
// on the target keeps its place — which also keeps two-way tasks from ping-ponging: offsets only
// rise, and never above what some side has consumed.
//
// Two-way tasks: the target queue also holds the target's own messages, which the reverse flow copies
// to the source. The group consumed one of them on the source only if its replica sits below the
// group's commit there, so the target offset is also capped below the first of them not consumed
// (twoWayBound) — else a switch would skip target-native messages the group never saw.
import type { OffsetPairEntry, SourceQueueRef } from '../store/store.ts';

export interface GroupCommit extends SourceQueueRef {
  /** The group's committed offset on the source queue: the next message it consumes. */
  committed: number;
}

/** The target offset a commit translates to through `pair` (the newest pair at or below committed − 1). */
export function translateCommit(
  committed: number,
  pair: Pick<OffsetPairEntry, 'sourceOffset' | 'targetOffset'> | null,
): number | undefined {
  if (committed <= 0 || !pair || pair.sourceOffset > committed - 1) return undefined;
  return pair.targetOffset + 1;
}

export interface TargetQueueRef {
  topic: string;
  broker: string;
  queueId: number;
}

export type PlannedTranslation =
  | { commit: GroupCommit; kind: 'no-mapping-yet'; reason: string }
  | { commit: GroupCommit; kind: 'translated'; target: TargetQueueRef; offset: number };

export const sourceKey = (q: SourceQueueRef) => `${q.topic}/${q.broker}/${q.queueId}`;
export const targetKey = (q: TargetQueueRef) => `${q.topic}/${q.broker}/${q.queueId}`;

/**
 * One group's commits on a flow's source queues → where the group should stand on the target.
 * `pairs[i]` is the newest pair at or below commits[i].committed − 1 (or null); `newest` holds the
 * newest pair of every source queue of the flow, which says which source queues feed which target queue.
 * `bounds` (two-way tasks, by targetKey): offsets a target queue must not be raised beyond (twoWayBound).
 */
export function planTranslations(
  commits: readonly GroupCommit[],
  pairs: readonly (OffsetPairEntry | null)[],
  newest: readonly OffsetPairEntry[],
  bounds: ReadonlyMap<string, number> = new Map(),
): PlannedTranslation[] {
  const feeders = new Map<string, string[]>();
  for (const p of newest) {
    const k = targetKey({ topic: p.topic, broker: p.targetBroker, queueId: p.targetQueueId });
    feeders.set(k, [...(feeders.get(k) ?? []), sourceKey(p)]);
  }
  const first = commits.map((commit, i): PlannedTranslation => {
    const pair = pairs[i] ?? null;
    const offset = translateCommit(commit.committed, pair);
    if (offset === undefined || !pair)
      return { commit, kind: 'no-mapping-yet', reason: 'no replica at or before the committed offset is recorded yet' };
    return { commit, kind: 'translated', target: { topic: commit.topic, broker: pair.targetBroker, queueId: pair.targetQueueId }, offset };
  });
  const bySource = new Map(first.map((t) => [sourceKey(t.commit), t]));
  return first.map((t) => {
    if (t.kind !== 'translated') return t;
    let offset = t.offset;
    for (const feeder of feeders.get(targetKey(t.target)) ?? []) {
      const other = bySource.get(feeder);
      if (other?.kind !== 'translated') {
        return { commit: t.commit, kind: 'no-mapping-yet', reason: `target queue is also fed by ${feeder}, which has no translation yet` };
      }
      if (targetKey(other.target) === targetKey(t.target)) offset = Math.min(offset, other.offset);
    }
    const bound = bounds.get(targetKey(t.target));
    return { ...t, offset: bound === undefined ? offset : Math.min(offset, bound) };
  });
}

/**
 * Two-way tasks: how far a target queue may be raised without skipping its own messages that the group
 * has not consumed on the source. `consumed` is the reverse flow's newest pair of that queue whose replica
 * lies below the group's commit on the source (its target-native messages up to there were consumed);
 * `oldest` the reverse flow's oldest pair of the queue. Undefined: the queue has no replicated messages of
 * its own, no bound. Pairs are sparse, so the bound errs low: toward redelivery.
 */
export function twoWayBound(
  consumed: Pick<OffsetPairEntry, 'sourceOffset'> | null,
  oldest: Pick<OffsetPairEntry, 'sourceOffset'> | undefined,
): number | undefined {
  if (consumed) return consumed.sourceOffset + 1;
  return oldest?.sourceOffset;
}

/** What to do on the target: write `offset` only when it is ahead of what the group already holds there (-1: nothing). */
export function nextTargetOffset(proposed: number, current: number): { offset: number; write: boolean } {
  return proposed > current ? { offset: proposed, write: true } : { offset: current, write: false };
}

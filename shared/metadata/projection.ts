// Pure: the snapshots to store after a cycle — what each side is believed to hold now.
//
// A side's stored snapshot is what was read this cycle plus the writes Ferry made to it, so the
// next cycle does not mistake Ferry's own writes for user changes (in a two-way task that would
// bounce them back, or lose a later user change to "source wins"). A change whose write failed is
// taken back out of its origin's stored snapshot, so the next cycle sees it again and retries it.
// System items are not stored at all, nor are kinds and items outside the task's scope (scope.ts),
// so one that comes into scope later is seen as new.
import type { ClusterSide, MetadataItemStatus } from '../store/store.ts';
import type { ClusterSnapshot, KindSnapshot, MetadataEntry, SyncKind } from './model.ts';
import { systemContext, type PlanInput, type SyncAction } from './plan.ts';
import { WHOLE_CLUSTER, syncable } from './scope.ts';

export interface ActionResult {
  action: SyncAction;
  status: MetadataItemStatus;
  error: string | null;
}

export function projectSnapshots(input: PlanInput, results: readonly ActionResult[]): Record<ClusterSide, ClusterSnapshot> {
  const ctx = systemContext(input);
  const scope = input.scope ?? WHOLE_CLUSTER;
  const kept = (k: SyncKind, name: string) => syncable(scope, k, name, ctx);
  const next = {
    source: storedPart(input.current.source, scope.kinds, kept),
    target: storedPart(input.current.target, scope.kinds, kept),
  };
  for (const r of results) {
    const { action: a } = r;
    if (r.status === 'synced') {
      const items = okItems(next[a.to], a.kind);
      if (!items) continue;
      if (a.op === 'delete') items.delete(a.name);
      else if (a.item) items.set(a.name, a.item);
    } else if (r.status === 'failed') {
      const from: ClusterSide = a.to === 'target' ? 'source' : 'target';
      const items = okItems(next[from], a.kind);
      if (!items) continue;
      const before = input.previous[from]?.kinds[a.kind];
      const previous = before?.status === 'ok' ? before.items.get(a.name) : undefined;
      if (previous) items.set(a.name, previous);
      else items.delete(a.name);
    }
    // 'unsupported' writes are not retried by replay: the server cannot do them at all.
  }
  return next;
}

/** What is stored of a side: the kinds synced, without system or out-of-scope items. */
function storedPart(s: ClusterSnapshot, synced: ReadonlySet<SyncKind>, kept: (k: SyncKind, name: string) => boolean): ClusterSnapshot {
  const kinds: Partial<Record<SyncKind, KindSnapshot>> = {};
  for (const [kind, ks] of Object.entries(s.kinds) as [SyncKind, KindSnapshot][]) {
    if (!synced.has(kind)) continue;
    kinds[kind] = ks.status === 'ok' ? { status: 'ok', items: new Map([...ks.items].filter(([name]) => kept(kind, name))) } : ks;
  }
  return { clusterId: s.clusterId, reservedNames: [...s.reservedNames], kinds };
}

function okItems(s: ClusterSnapshot, kind: SyncKind): Map<string, MetadataEntry> | undefined {
  const k = s.kinds[kind];
  return k?.status === 'ok' ? k.items : undefined;
}

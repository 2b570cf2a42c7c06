// Pure: what one metadata sync cycle must do, from the stored and the current snapshot of each
// side (architecture §4).
//
// - First sync of a kind (no stored snapshot of it on one side): copy what the other side lacks,
//   update what differs (source wins), never delete.
// - One-way afterwards: the target follows the source. Every source item is made equal on the
//   target (so a failed create/update is retried and a target-side change to a synced item is
//   undone); an item deleted on the source since the stored snapshot is deleted on the target.
//   Target-only items are left alone.
// - Two-way afterwards: each side's changes since its stored snapshot go to the other side. An
//   item changed on both sides in one cycle (to different results) is a conflict: the task's
//   source side wins.
// - System topics/groups and Ferry's own principals are never touched (system.ts); nor are kinds
//   and items outside the task's scope (scope.ts: its kinds, groups filter, topicsFollowFilter).
// - propagateDeletes false: no delete is planned (first syncs never delete anyway).
// - A kind one side cannot read is reported, not guessed at: its items get status 'unsupported'.
import type { ClusterSide, MetadataAction, MetadataItemStatus, SyncDirection } from '../store/store.ts';
import { diffItems, sameSettings, type Change, type ChangeType } from './diff.ts';
import { KIND_ORDER, SOURCE_TO_TARGET, TARGET_TO_SOURCE, type ClusterSnapshot, type MetadataEntry, type SyncKind } from './model.ts';
import { WHOLE_CLUSTER, syncable, type SyncScope } from './scope.ts';
import type { SystemContext } from './system.ts';

export interface PlanInput {
  direction: 'one-way' | 'two-way';
  /** The stored snapshots (null before the first sync). */
  previous: { source: ClusterSnapshot | null; target: ClusterSnapshot | null };
  current: { source: ClusterSnapshot; target: ClusterSnapshot };
  /** Access keys / usernames Ferry signs with on either cluster: never synced. */
  ownPrincipals?: readonly string[];
  /** What the task's options let sync touch (scope.ts); default the whole cluster. */
  scope?: SyncScope;
}

export interface SyncAction {
  kind: SyncKind;
  name: string;
  op: 'create' | 'update' | 'delete';
  direction: SyncDirection;
  /** The side written to. */
  to: ClusterSide;
  /** Desired state (create, update). */
  item?: MetadataEntry;
  /** The written side's item as read this cycle (update, delete): adapters that write differences need it. */
  current?: MetadataEntry;
}

/** An outcome known without writing anything (already in sync, or unsupported). */
export interface SettledItem {
  kind: SyncKind;
  /** `*` stands for the whole kind. */
  name: string;
  direction: SyncDirection;
  action: MetadataAction;
  status: MetadataItemStatus;
  error: string | null;
}

export interface Conflict {
  kind: SyncKind;
  name: string;
  source: ChangeType;
  target: ChangeType;
}

export interface Plan {
  /** True when no kind had stored snapshots on both sides (nothing is deleted then). */
  first: boolean;
  /** Creates/updates in KIND_ORDER, then deletes in reverse KIND_ORDER. */
  actions: SyncAction[];
  settled: SettledItem[];
  conflicts: Conflict[];
}

interface Flow {
  direction: SyncDirection;
  from: ClusterSide;
  to: ClusterSide;
}

const S2T: Flow = { direction: SOURCE_TO_TARGET, from: 'source', to: 'target' };
const T2S: Flow = { direction: TARGET_TO_SOURCE, from: 'target', to: 'source' };

export function systemContext(input: Pick<PlanInput, 'current' | 'ownPrincipals'>): SystemContext {
  return {
    reservedNames: new Set([...input.current.source.reservedNames, ...input.current.target.reservedNames]),
    ownPrincipals: new Set([
      ...(input.ownPrincipals ?? []),
      ...(input.current.source.ownPrincipals ?? []),
      ...(input.current.target.ownPrincipals ?? []),
    ]),
  };
}

export function planSync(input: PlanInput): Plan {
  const ctx = systemContext(input);
  const scope = input.scope ?? WHOLE_CLUSTER;
  const flows = input.direction === 'two-way' ? [S2T, T2S] : [S2T];
  const upserts: SyncAction[] = [];
  const deletes: SyncAction[] = [];
  const settled: SettledItem[] = [];
  const conflicts: Conflict[] = [];
  let first = true;

  for (const kind of KIND_ORDER) {
    if (!scope.kinds.has(kind)) continue;
    const cur = { source: input.current.source.kinds[kind], target: input.current.target.kinds[kind] };
    const inScope = (name: string) => syncable(scope, kind, name, ctx);
    /** A change that may be passed on: anything but a deletion when deletions stay where they happened. */
    const passed = (c: Change) => c.after !== undefined || scope.propagateDeletes;

    // Kinds a side cannot read (or does not have) are reported and skipped.
    let readable = true;
    for (const f of flows) {
      const from = cur[f.from];
      const to = cur[f.to];
      if (!from) {
        readable = false;
        continue;
      }
      if (from.status === 'unsupported') {
        readable = false;
        settled.push({
          kind,
          name: '*',
          direction: f.direction,
          action: 'none',
          status: 'unsupported',
          error: `${kind} cannot be read from ${input.current[f.from].clusterId}: ${from.reason}`,
        });
        continue;
      }
      if (!to || to.status === 'unsupported') {
        readable = false;
        const why = to ? to.reason : missingKindReason(kind);
        for (const name of from.items.keys()) {
          if (inScope(name))
            settled.push({
              kind,
              name,
              direction: f.direction,
              action: 'none',
              status: 'unsupported',
              error: `cannot sync ${kind} to ${input.current[f.to].clusterId}: ${why}`,
            });
        }
      }
    }
    if (!readable || cur.source?.status !== 'ok' || cur.target?.status !== 'ok') continue;

    const items = { source: cur.source.items, target: cur.target.items };
    const prev = { source: input.previous.source?.kinds[kind], target: input.previous.target?.kinds[kind] };
    const kindFirst = prev.source?.status !== 'ok' || prev.target?.status !== 'ok';
    if (!kindFirst) first = false;

    const act = (f: Flow, op: SyncAction['op'], name: string, given?: MetadataEntry) => {
      const item = given && !scope.copySecrets ? withoutSecrets(given) : given;
      const a: SyncAction = { kind, name, op, direction: f.direction, to: f.to };
      if (item) a.item = item;
      const current = items[f.to].get(name);
      if (current) a.current = current;
      (op === 'delete' ? deletes : upserts).push(a);
    };
    /** Makes `to` hold `item` (or lack the name when item is undefined); false when nothing is needed. */
    const converge = (f: Flow, name: string, item: MetadataEntry | undefined): boolean => {
      const there = items[f.to].get(name);
      if (!item) {
        if (!there) return false;
        act(f, 'delete', name);
        return true;
      }
      if (!there) act(f, 'create', name, item);
      else if (!sameSettings(item, there)) act(f, 'update', name, item);
      else return false;
      return true;
    };

    const changes = kindFirst
      ? { source: new Map<string, Change>(), target: new Map<string, Change>() }
      : {
          source: diffItems(okItems(prev.source), items.source),
          target: diffItems(okItems(prev.target), items.target),
        };
    const touched = new Set<string>();

    // Changes seen on both sides with different results: the source wins.
    for (const [name, cs] of changes.source) {
      const ct = changes.target.get(name);
      if (!ct || !inScope(name)) continue;
      // A source-side deletion not passed on leaves the target's own change where it is.
      if (sameResult(cs, ct) || !passed(cs)) {
        touched.add(name);
        continue;
      }
      conflicts.push({ kind, name, source: cs.type, target: ct.type });
      converge(S2T, name, cs.after);
      touched.add(name);
    }

    if (kindFirst) {
      for (const [name, item] of items.source) if (inScope(name)) converge(S2T, name, item);
      if (input.direction === 'two-way') {
        for (const [name, item] of items.target) if (inScope(name) && !items.source.has(name)) converge(T2S, name, item);
      }
    } else if (input.direction === 'one-way') {
      for (const [name, item] of items.source) if (inScope(name) && !touched.has(name)) converge(S2T, name, item);
      for (const [name, c] of changes.source)
        if (c.type === 'deleted' && passed(c) && inScope(name) && !touched.has(name)) converge(S2T, name, undefined);
    } else {
      for (const [name, c] of changes.source) if (passed(c) && inScope(name) && !touched.has(name)) converge(S2T, name, c.after);
      for (const [name, c] of changes.target) if (passed(c) && inScope(name) && !touched.has(name)) converge(T2S, name, c.after);
    }

    // Items already equal on both sides: "synced, nothing to do" (recorded only where no outcome exists yet).
    const acted = new Set([...upserts, ...deletes].filter((a) => a.kind === kind).map((a) => a.name));
    for (const [name, item] of items.source) {
      const there = items.target.get(name);
      if (inScope(name) && !acted.has(name) && there && sameSettings(item, there)) {
        settled.push({ kind, name, direction: SOURCE_TO_TARGET, action: 'none', status: 'synced', error: null });
      }
    }
  }

  const rank = (k: SyncKind) => KIND_ORDER.indexOf(k);
  const stable = <T>(xs: T[], by: (x: T) => number) =>
    xs
      .map((x, i) => [x, i] as const)
      .sort((a, b) => by(a[0]) - by(b[0]) || a[1] - b[1])
      .map(([x]) => x);
  return {
    first,
    actions: [...stable(upserts, (a) => rank(a.kind)), ...stable(deletes, (a) => -rank(a.kind))],
    settled,
    conflicts,
  };
}

/** A Tencent role without its keys: created on the other cluster with keys of its own (metadataSync.copyRoleSecrets false). */
function withoutSecrets(item: MetadataEntry): MetadataEntry {
  if (item.kind === 'role' && (item.accessKey !== undefined || item.secretKey !== undefined)) {
    const { accessKey: _a, secretKey: _s, ...rest } = item;
    return rest;
  }
  return item;
}

/** Why a cluster's snapshot has no `kind` at all. */
function missingKindReason(kind: SyncKind): string {
  if (kind === 'role') return 'roles exist only on Tencent Cloud clusters';
  return (
    `it has no ${kind === 'acl_account' ? 'ACL 1.0' : 'ACL 2.0'} (the task connects to it without ACL credentials, or its ` +
    `version lacks them)`
  );
}

function okItems(k: ClusterSnapshot['kinds'][SyncKind]): ReadonlyMap<string, MetadataEntry> {
  return k?.status === 'ok' ? k.items : new Map();
}

/** Both sides ended in the same state (both deleted, or both present with the same settings). */
function sameResult(a: Change, b: Change): boolean {
  if (!a.after || !b.after) return !a.after && !b.after;
  return sameSettings(a.after, b.after);
}

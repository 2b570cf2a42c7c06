// One metadata sync cycle for one task: the thin I/O shell around plan.ts.
//
//   lease → read both clusters (and meanwhile load the stored snapshots and outcomes) → plan →
//   apply, in phases → record outcomes and the projected snapshots (one transaction) → release lease
//
// - One cycle per task at a time: the timer and a replicator asking for an immediate sync could
//   otherwise interleave reads and writes and, in a two-way task, resurrect a deleted item. The
//   store's lease on (task, 'metadata', 0) serialises them; a caller that finds it held gets
//   'busy' and may retry.
// - A failed write never aborts the cycle: it is recorded and retried next cycle (projection.ts).
// - A side that cannot be read records a failure and leaves both stored snapshots as they were,
//   so the next good cycle diffs against the last known state.
// - Cheap when nothing changed: two snapshot reads, two snapshot loads and one outcome listing;
//   nothing is written.
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { endpointCredentials } from '../clusters/credentials.ts';
import type { FerryConfig } from '../config.ts';
import { isFerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type {
  ClusterSide,
  LeaseKey,
  LeaseStore,
  MetadataItem,
  MetadataItemOutcome,
  MetadataStateStore,
  SyncDirection,
  TaskRow,
  Transactional,
} from '../store/store.ts';
import type { StoredEndpoint, TaskSpec } from '../tasks/model.ts';
import { MetadataUnsupportedError, type ClusterAdmin } from './cluster-admin.ts';
import { SOURCE_TO_TARGET, TARGET_TO_SOURCE, type ClusterSnapshot } from './model.ts';
import { openClusterAdmin } from './open-cluster-admin.ts';
import { planSync, type PlanInput, type SettledItem, type SyncAction } from './plan.ts';
import { projectSnapshots, type ActionResult } from './projection.ts';
import { syncScope } from './scope.ts';
import { decodeSnapshot, encodeSnapshot, sameSnapshot } from './snapshot-codec.ts';

export interface MetadataSyncDeps {
  /** The task's metadata lease and its stored state; a cycle's outcomes and snapshots are written in one transaction. */
  store: LeaseStore & MetadataStateStore & Transactional<MetadataStateStore>;
  cipher: SecretCipher;
  log: Logger;
  /** The adapter for an endpoint; defaults to openClusterAdmin (remoting for self-built clusters, the Cloud API for Tencent ones). */
  openAdmin?: (endpoint: StoredEndpoint, cipher: SecretCipher) => ClusterAdmin;
  /** Settings openClusterAdmin needs (the functions' CoreDeps carry the whole config). */
  config?: Pick<FerryConfig, 'tencentApiEndpoint'>;
  /** Lease owner; defaults to one id per process. */
  owner?: string;
}

export type MetadataSyncOutcome =
  /** Every planned write succeeded (possibly none). */
  | 'ok'
  /** Some writes failed; they are recorded and retried next cycle. */
  | 'partial'
  /** A side could not be read; nothing was written to the clusters. */
  | 'unreachable'
  /** Another cycle holds the task's metadata lease. */
  | 'busy'
  /** The task no longer exists. */
  | 'gone';

export interface MetadataSyncResult {
  taskId: string;
  outcome: MetadataSyncOutcome;
  first: boolean;
  created: number;
  updated: number;
  deleted: number;
  failed: number;
  unsupported: number;
  conflicts: number;
  /** Snapshots or outcome rows were written to the store. */
  stored: boolean;
  durationMs: number;
  error?: string;
}

/** The lease flow that serialises a task's metadata cycles (replication flows use other names). */
const METADATA_LEASE_FLOW = 'metadata';
const LEASE_TTL_MS = 5 * 60_000;
const PROCESS_OWNER = `metadata-sync-${randomUUID()}`;
const SIDES: readonly ClusterSide[] = ['source', 'target'];

/** `signal`: the run gave up on this cycle (its deadline); the clusters' clients are closed so it ends soon. */
export async function syncTaskMetadata(task: TaskRow, deps: MetadataSyncDeps, signal?: AbortSignal): Promise<MetadataSyncResult> {
  const t0 = Date.now();
  const result = (outcome: MetadataSyncOutcome, extra: Partial<MetadataSyncResult> = {}): MetadataSyncResult => ({
    taskId: task.id,
    outcome,
    first: false,
    created: 0,
    updated: 0,
    deleted: 0,
    failed: 0,
    unsupported: 0,
    conflicts: 0,
    stored: false,
    ...extra,
    durationMs: Date.now() - t0,
  });
  const spec = task.spec;
  const key: LeaseKey = { taskId: task.id, flow: METADATA_LEASE_FLOW, shard: 0 };
  const owner = deps.owner ?? PROCESS_OWNER;
  let lease: { epoch: number } | null;
  try {
    lease = await deps.store.acquireLease({ ...key, owner, ttlMs: LEASE_TTL_MS });
  } catch (err) {
    if (isFerryError(err, 'NOT_FOUND')) return result('gone');
    throw err;
  }
  if (!lease) return result('busy');

  const admins: Partial<Record<ClusterSide, ClusterAdmin>> = {};
  const closeAdmins = () => {
    for (const a of Object.values(admins)) a.close();
  };
  signal?.addEventListener('abort', closeAdmins, { once: true });
  try {
    return await cycle(task, spec, deps, admins, { key, owner, epoch: lease.epoch }, result);
  } catch (err) {
    if (isFerryError(err, 'NOT_FOUND')) return result('gone');
    throw err;
  } finally {
    signal?.removeEventListener('abort', closeAdmins);
    closeAdmins();
    await deps.store.releaseLease(key, owner, lease.epoch).catch(() => false);
  }
}

type ResultFn = (outcome: MetadataSyncOutcome, extra?: Partial<MetadataSyncResult>) => MetadataSyncResult;

async function cycle(
  task: TaskRow,
  spec: TaskSpec,
  deps: MetadataSyncDeps,
  admins: Partial<Record<ClusterSide, ClusterAdmin>>,
  lease: { key: LeaseKey; owner: string; epoch: number },
  result: ResultFn,
): Promise<MetadataSyncResult> {
  const { store, cipher, log } = deps;
  // The task's options: kinds, groups filter, topicsFollowFilter, propagateDeletes (scope.ts).
  const scope = syncScope(spec);
  if (scope.kinds.size === 0) return result('ok');
  const open =
    deps.openAdmin ??
    ((e: StoredEndpoint, c: SecretCipher) =>
      openClusterAdmin(e, c, { tencentApiEndpoint: deps.config?.tencentApiEndpoint, readAccess: scope.kinds.has('acl') }));
  const directions: SyncDirection[] = spec.direction === 'two-way' ? [SOURCE_TO_TARGET, TARGET_TO_SOURCE] : [SOURCE_TO_TARGET];

  // ── read both clusters, then (unless nothing changed since a quiet cycle) what the store holds ──
  const reads = await Promise.allSettled(
    SIDES.map(async (side) => {
      const admin = open(spec[side], cipher);
      admins[side] = admin;
      return admin.readSnapshot();
    }),
  );
  const [src, tgt] = reads;
  const seen =
    src?.status === 'fulfilled' && tgt?.status === 'fulfilled'
      ? { version: task.version, source: src.value, target: tgt.value }
      : undefined;
  if (seen && isQuiet(task.id, seen)) return result('ok');
  quietCycles.delete(task.id);
  const [existing, previousSource, previousTarget] = await Promise.all([
    store.listMetadataItems(task.id),
    loadSnapshot(store, cipher, log, task.id, 'source'),
    loadSnapshot(store, cipher, log, task.id, 'target'),
  ]);
  const failures = SIDES.flatMap((side, i) => {
    const r = reads[i]!;
    return r.status === 'rejected' ? [{ side, err: r.reason as unknown }] : [];
  });
  if (failures.length > 0) {
    const reasons = failures.map(({ side, err }) => {
      const unsupported = err instanceof MetadataUnsupportedError;
      log.warn({ taskId: task.id, side, cluster: spec[side].clusterId, err: message(err) }, 'metadata sync: cluster unreadable');
      return {
        unsupported,
        text: `${side} cluster ${spec[side].clusterId} ${unsupported ? 'is not supported' : 'could not be read'}: ${message(err)}`,
      };
    });
    // 'unsupported' only when nothing but capability gaps stand in the way; a retry cannot help then.
    const status = reasons.every((r) => r.unsupported) ? 'unsupported' : 'failed';
    const error = `${reasons.map((r) => r.text).join('; ')}; metadata not synchronised this cycle`;
    const rows: MetadataItemOutcome[] = directions.flatMap((direction) =>
      (['topic', 'group'] as const)
        .filter((kind) => scope.kinds.has(kind))
        .map((kind): MetadataItemOutcome => ({ kind, name: '*', direction, action: 'none', status, error })),
    );
    const changed = onlyChanged(rows, existing);
    if (changed.length > 0) await store.upsertMetadataItems(task.id, changed);
    return result('unreachable', { stored: changed.length > 0, error: failures.map((f) => `${f.side}: ${message(f.err)}`).join('; ') });
  }
  const current = {
    source: (reads[0] as PromiseFulfilledResult<ClusterSnapshot>).value,
    target: (reads[1] as PromiseFulfilledResult<ClusterSnapshot>).value,
  };

  // ── stored snapshots, plan ──
  const previous = { source: previousSource, target: previousTarget };
  const ownPrincipals = SIDES.flatMap((side) => {
    const c = endpointCredentials(spec[side], cipher);
    return c ? [c.accessKey] : [];
  });
  const input: PlanInput = { direction: spec.direction, previous, current, ownPrincipals, scope };
  const plan = planSync(input);
  for (const c of plan.conflicts) {
    log.warn(
      { taskId: task.id, kind: c.kind, name: c.name, source: c.source, target: c.target },
      'metadata sync: changed on both sides; the source side wins',
    );
  }

  // ── apply; a failure is recorded, never thrown ──
  const results = await applyPlan(plan.actions, admins, log.child({ taskId: task.id }));

  // ── record ──
  const now = new Date();
  const rows: MetadataItemOutcome[] = results.map((r) => ({
    kind: r.action.kind,
    name: r.action.name,
    direction: r.action.direction,
    action: r.action.op,
    status: r.status,
    error: r.error,
    syncedAt: now,
  }));
  const settled = onlyChanged(
    plan.settled.map((s) => settledRow(s, now)),
    existing,
  );
  // Cluster-level failures of earlier cycles are over now that both sides were read.
  const reported = new Set([...rows, ...plan.settled].map(rowKey));
  const recovered: MetadataItemOutcome[] = existing
    .filter((e) => e.name === '*' && e.status !== 'synced' && !reported.has(rowKey(e)))
    .map((e) => ({ kind: e.kind, name: '*', direction: e.direction, action: 'none', status: 'synced', error: null, syncedAt: now }));
  const outcomes = [...rows, ...settled, ...recovered];

  const next = projectSnapshots(input, results);
  const save = SIDES.filter((side) => !previous[side] || !sameSnapshot(previous[side], next[side]));
  const stored = outcomes.length > 0 || save.length > 0;
  if (stored) {
    // Another cycle may have taken over after our lease ran out: then it owns the stored state.
    if (!(await store.renewLease(lease.key, lease.owner, lease.epoch, LEASE_TTL_MS))) {
      log.warn({ taskId: task.id }, 'metadata sync: lease lost before recording; leaving the stored state to the newer cycle');
      return result('busy');
    }
    await store.withTransaction(async (tx) => {
      for (const side of save) await tx.saveSnapshot(task.id, side, encodeSnapshot(next[side], cipher));
      await tx.upsertMetadataItems(task.id, outcomes);
    });
  }

  const count = (pred: (r: ActionResult) => boolean) => results.filter(pred).length;
  const failed = count((r) => r.status === 'failed');
  // Nothing to write anywhere: until the clusters or the task change, the next cycles would find the same.
  if (seen && plan.actions.length === 0 && !stored) rememberQuiet(task.id, seen);
  return result(failed > 0 ? 'partial' : 'ok', {
    first: plan.first,
    created: count((r) => r.status === 'synced' && r.action.op === 'create'),
    updated: count((r) => r.status === 'synced' && r.action.op === 'update'),
    deleted: count((r) => r.status === 'synced' && r.action.op === 'delete'),
    failed,
    unsupported: count((r) => r.status === 'unsupported') + plan.settled.filter((s) => s.status === 'unsupported').length,
    conflicts: plan.conflicts.length,
    stored,
  });
}

/**
 * Tasks whose last cycle found nothing to do, with what it read: a cycle that reads the same clusters
 * for the same task version skips the store (thousands of topics make its reads the cost of an idle
 * cycle). Per process, bounded; any difference, a failure or another outcome runs the full cycle.
 */
const quietCycles = new Map<string, { version: number; source: ClusterSnapshot; target: ClusterSnapshot }>();
const QUIET_CYCLES_KEPT = 64;

function isQuiet(taskId: string, seen: { version: number; source: ClusterSnapshot; target: ClusterSnapshot }): boolean {
  const last = quietCycles.get(taskId);
  return !!last && last.version === seen.version && sameSnapshot(last.source, seen.source) && sameSnapshot(last.target, seen.target);
}

function rememberQuiet(taskId: string, seen: { version: number; source: ClusterSnapshot; target: ClusterSnapshot }): void {
  quietCycles.delete(taskId);
  quietCycles.set(taskId, seen);
  if (quietCycles.size > QUIET_CYCLES_KEPT) quietCycles.delete(quietCycles.keys().next().value!);
}

/** Single writes in flight per side for adapters without applyMany. */
const APPLY_CONCURRENCY = 4;
/** Failed writes logged one by one per cycle; the rest are counted (a broker gone mid-cycle fails thousands). */
const LOGGED_FAILURES = 20;

/**
 * Applies the plan in phases: each kind's creates/updates in KIND_ORDER, then each kind's deletes
 * in reverse, as the plan lists them. Within a phase the order does not matter, so each side gets
 * its actions at once (applyMany) or a few at a time, and both sides are written concurrently.
 */
async function applyPlan(
  actions: readonly SyncAction[],
  admins: Partial<Record<ClusterSide, ClusterAdmin>>,
  log: Logger,
): Promise<ActionResult[]> {
  const results: ActionResult[] = [];
  let failures = 0;
  const record = (action: SyncAction, err: unknown) => {
    if (err === undefined) {
      results.push({ action, status: 'synced', error: null });
      return;
    }
    const r: ActionResult = { action, status: err instanceof MetadataUnsupportedError ? 'unsupported' : 'failed', error: message(err) };
    results.push(r);
    if (++failures <= LOGGED_FAILURES) {
      log.warn(
        { kind: action.kind, name: action.name, op: action.op, direction: action.direction, err: r.error },
        'metadata sync: write failed',
      );
    }
  };
  for (let start = 0; start < actions.length; ) {
    const phase = (a: SyncAction) => `${a.kind}/${a.op === 'delete' ? 'delete' : 'upsert'}`;
    let end = start + 1;
    while (end < actions.length && phase(actions[end]!) === phase(actions[start]!)) end++;
    const slice = actions.slice(start, end);
    await Promise.all(
      SIDES.map(async (side) => {
        const mine = slice.filter((a) => a.to === side);
        const admin = admins[side];
        if (mine.length === 0 || !admin) return;
        if (admin.applyMany) {
          let errors: (Error | undefined)[];
          try {
            errors = await admin.applyMany(mine);
          } catch (err) {
            errors = mine.map(() => (err instanceof Error ? err : new Error(String(err))));
          }
          mine.forEach((a, i) => {
            record(a, errors[i]);
          });
          return;
        }
        await pLimit(APPLY_CONCURRENCY).map(mine, async (a) => {
          try {
            await admin.apply(a);
            record(a, undefined);
          } catch (err) {
            record(a, err ?? new Error('write failed'));
          }
        });
      }),
    );
    start = end;
  }
  if (failures > LOGGED_FAILURES)
    log.warn({ failed: failures, logged: LOGGED_FAILURES }, 'metadata sync: more writes failed than logged one by one');
  return results;
}

async function loadSnapshot(
  store: MetadataStateStore,
  cipher: SecretCipher,
  log: Logger,
  taskId: string,
  side: ClusterSide,
): Promise<ClusterSnapshot | null> {
  const row = await store.getSnapshot(taskId, side);
  if (!row) return null;
  try {
    return decodeSnapshot(row.items, cipher);
  } catch (err) {
    // Unreadable (older format, other key): start over as a first sync, which never deletes.
    log.warn({ taskId, side, err: message(err) }, 'metadata sync: stored snapshot unreadable; syncing as a first sync');
    return null;
  }
}

function settledRow(s: SettledItem, at: Date): MetadataItemOutcome {
  return { kind: s.kind, name: s.name, direction: s.direction, action: s.action, status: s.status, error: s.error, syncedAt: at };
}

/** Kind and direction are fixed words without NUL, so the name between them is unambiguous. */
const rowKey = (r: Pick<MetadataItem, 'kind' | 'name' | 'direction'>): string => `${r.kind}\u0000${r.name}\u0000${r.direction}`;

/**
 * Outcomes worth writing: new rows, or a different status or error. An item already recorded as
 * synced keeps its row (and the action and time it was last synced with) while it stays in sync.
 */
function onlyChanged(rows: readonly MetadataItemOutcome[], existing: readonly MetadataItem[]): MetadataItemOutcome[] {
  const byKey = new Map(existing.map((e) => [rowKey(e), e]));
  return rows.filter((r) => {
    const e = byKey.get(rowKey(r));
    return !e || e.status !== r.status || e.error !== (r.error ?? null);
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

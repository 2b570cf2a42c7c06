// Task use cases: validation, the deployment policy, state guards, optimistic versions and an
// audit event for every change, written in the same transaction as the change.
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { EgressDeniedError } from '../egress/resolve.ts';
import { FerryError } from '../errors.ts';
import { isClusterProblem, readClusterListing } from '../metadata/cluster-listing.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import { refuseUnlistedTencentClusters } from '../tencent-cloud/cluster-policy.ts';
import type {
  AuditStore,
  CheckpointStore,
  LeaseStore,
  MetadataStateStore,
  MetricsStore,
  OffsetSyncStore,
  ParkedStore,
  TaskPatch,
  TaskRow,
  TaskStatus,
  TaskStore,
  Transactional,
} from '../store/store.ts';
import { FailoverInput } from './failover-schema.ts';
import { planEdit, refuseSameCluster } from './edit.ts';
import { fitGrpcCapabilities, refuseGrpcReset } from './grpc-capabilities.ts';
import { requestFailover } from './failover.ts';
import { refuseDeniedAddresses } from './egress-check.ts';
import { patternsKnownSafe, refuseUnsafePatterns } from './pattern-safety.ts';
import { parseInput } from './issue.ts';
import { isActive, sealEndpoint, toView, type StoredEndpoint, type TaskSpec, type TaskView } from './model.ts';
import { TaskPreviewInput, previewFlow, type ClusterListing, type TaskPreview } from './preview.ts';
import { ResetOffsetInput, TaskInput, TaskPatchInput } from './schema.ts';

export { parseInput } from './issue.ts';

export interface TaskServiceOptions {
  /** The spec's rule "at least one side must be a Tencent cluster" (on for the Tencent stage). */
  requireManagedSide: boolean;
  /** FERRY_TENCENT_API_ENDPOINT, for previews of Tencent clusters. */
  tencentApiEndpoint?: string | undefined;
  /** Tasks one tenant may hold (FERRY_MAX_TASKS_PER_TENANT); unlimited when undefined. */
  maxTasksPerTenant?: number | undefined;
  /** How a preview reads a cluster; default metadata/cluster-listing.ts (unit tests hand in a fake). */
  readCluster?: (endpoint: StoredEndpoint, cipher: SecretCipher) => Promise<ClusterListing>;
}

export interface ListQuery {
  status?: string;
  name?: string;
  limit?: string;
  cursor?: string;
}

const STATUSES: readonly TaskStatus[] = ['initializing', 'running', 'stopping', 'stopped', 'start_failed', 'deleting'];

/** What the task use cases need of the store; a change and its audit event share a transaction. */
type TaskServiceStore = TaskStore &
  AuditStore &
  MetricsStore &
  MetadataStateStore &
  OffsetSyncStore &
  ParkedStore &
  Pick<CheckpointStore, 'catchUpBaselines'> &
  Transactional<TaskServiceTx>;

/** A change's transaction: the task, its audit event, and its shards' leases (stop and reset look at them). */
type TaskServiceTx = TaskStore & AuditStore & Pick<LeaseStore, 'liveLeaseCount' | 'fenceLeases'>;

export class TaskService {
  constructor(
    private readonly store: TaskServiceStore,
    private readonly cipher: SecretCipher,
    private readonly opts: TaskServiceOptions,
  ) {}

  async create(p: Principal, body: unknown): Promise<TaskView> {
    requireWriter(p);
    const input = this.definition(TaskInput, body);
    refuseUnlistedTencentClusters(p.tenant, input);
    await refuseUnsafePatterns(input);
    const spec: TaskSpec = {
      direction: input.direction,
      source: sealEndpoint(input.source, this.cipher),
      target: sealEndpoint(input.target, this.cipher),
      startOffset: input.startOffset,
      filter: input.filter,
      tpsLimit: input.tpsLimit,
      shards: input.shards,
      groups: input.groups,
      metadataSync: input.metadataSync,
      offsetSync: input.offsetSync,
      idempotentResume: input.idempotentResume,
    };
    const row = await this.store.withTransaction(async (tx) => {
      if (this.opts.maxTasksPerTenant !== undefined) await refuseOverQuota(tx, p.tenant, this.opts.maxTasksPerTenant);
      const created = await tx.insertTask({
        id: `task-${randomUUID()}`,
        tenant: p.tenant,
        name: input.name,
        spec,
        desiredState: input.start ? 'running' : 'stopped',
        status: input.start ? 'initializing' : 'stopped',
      });
      await tx.appendAudit({ taskId: created.id, tenant: p.tenant, actor: p.subject, action: 'create', after: toView(created) });
      return created;
    });
    return toView(row);
  }

  /**
   * What the task's topic and groups filters would take from its source cluster(s) now (both sides
   * of a two-way task), before anything is created. Nothing is stored; the body's secrets are used
   * to connect and then dropped, never logged or answered.
   */
  async preview(p: Principal, body: unknown): Promise<TaskPreview> {
    requireWriter(p);
    const input = this.definition(TaskPreviewInput, body);
    refuseUnlistedTencentClusters(p.tenant, input);
    await refuseUnsafePatterns(input);
    const source = sealEndpoint(input.source, this.cipher);
    const target = sealEndpoint(input.target, this.cipher);
    // Each flow reads the cluster it copies from; a problem there names that side's fields.
    const flows: [StoredEndpoint, StoredEndpoint, 'source' | 'target'][] = [[source, target, 'source']];
    if (input.direction === 'two-way') flows.push([target, source, 'target']);
    const read = this.opts.readCluster ?? ((e, c) => readClusterListing(e, c, { tencentApiEndpoint: this.opts.tencentApiEndpoint }));
    const listings = await Promise.all(
      flows.map(([from, , side]) => read(from, this.cipher).catch((err: unknown) => unreadable(err, side, from))),
    );
    return {
      flows: flows.map(([from, to], i) =>
        previewFlow(`${from.clusterId}->${to.clusterId}`, listings[i]!, { topics: input.filter.topics, groups: input.groups }),
      ),
    };
  }

  /** A create or preview body checked: the schema, the deployment's policy, two distinct clusters. */
  private definition(schema: typeof TaskInput, body: unknown): TaskInput;
  private definition(schema: typeof TaskPreviewInput, body: unknown): TaskPreviewInput;
  private definition(schema: typeof TaskInput | typeof TaskPreviewInput, body: unknown): TaskInput | TaskPreviewInput {
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object');
    const input = parseInput(schema, body);
    if (this.opts.requireManagedSide && input.source.clusterType !== 'tencent' && input.target.clusterType !== 'tencent') {
      throw new FerryError(
        'VALIDATION_FAILED',
        'at least one of the source and target clusters must be a Tencent Cloud cluster',
        'target.clusterType',
      );
    }
    refuseSameCluster(input);
    refuseDeniedAddresses(input);
    return fitGrpcCapabilities(input, body as Record<string, unknown>);
  }

  async list(p: Principal, q: ListQuery): Promise<{ items: TaskView[]; nextCursor: string | null }> {
    if (q.status !== undefined && !STATUSES.includes(q.status as TaskStatus)) {
      throw new FerryError('VALIDATION_FAILED', `status must be one of ${STATUSES.join(', ')}`, 'status');
    }
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new FerryError('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000', 'limit');
    if (q.name !== undefined && q.name.length > 200) throw new FerryError('VALIDATION_FAILED', 'name filter is too long', 'name');
    const page = await this.store.listTasks(p.tenant, {
      limit,
      ...(q.status ? { status: q.status as TaskStatus } : {}),
      ...(q.name ? { name: q.name } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
    return { items: page.items.map(toView), nextCursor: page.nextCursor };
  }

  async get(p: Principal, id: string): Promise<TaskView> {
    return toView(await this.row(p, id));
  }

  /**
   * PATCH: rename, and while stopped or start_failed change the endpoints, filter, tpsLimit and
   * shards (edit.ts has the rules). Checkpoints are kept. An edit that changes nothing writes
   * nothing and answers the task as it is, whatever its state, so applying a task file is idempotent.
   */
  /** `ifMatch` (also on the actions below): the version from an If-Match header; CONFLICT when the task has moved on. */
  async update(p: Principal, id: string, body: unknown, ifMatch?: number): Promise<TaskView> {
    requireWriter(p);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object');
    const patch = parseInput(TaskPatchInput, body);
    // New patterns are analysed before the transaction (seconds, in a worker); inside it they are known.
    const touchesPatterns = (f: string) => f.startsWith('filter.topics') || f.startsWith('groups');
    if (patch.filter !== undefined || patch.groups !== undefined) {
      await refuseUnsafePatterns(planEdit(await this.row(p, id), patch, this.cipher).spec);
    }
    const row = await this.store.withTransaction(async (tx) => {
      const row = await this.current(tx, p, id, patch.version);
      if (ifMatch !== undefined) await this.current(tx, p, id, ifMatch);
      const edit = planEdit(row, patch, this.cipher);
      if (edit.changed.length === 0) return row;
      if (edit.changed.some((f) => f.startsWith('source') || f.startsWith('target'))) refuseUnlistedTencentClusters(p.tenant, edit.spec);
      if (edit.changed.some(touchesPatterns) && !patternsKnownSafe(edit.spec)) {
        throw new FerryError('CONFLICT', 'the task changed while its patterns were being checked; retry', 'version');
      }
      refuseDeniedAddresses(edit.spec);
      if (isActive(row)) throw running('edited');
      if (row.status === 'deleting') throw new FerryError('INVALID_STATE', 'the task is being deleted', 'status');
      const renameOnly = edit.changed.every((f) => f === 'name');
      const next = await tx.updateTask(p.tenant, id, row.version, {
        ...(edit.name !== row.name ? { name: edit.name } : {}),
        ...(renameOnly ? {} : { spec: edit.spec }),
      });
      // The views mask every secret; `changedFields` names what changed, a secret included, never its value.
      await tx.appendAudit({
        taskId: id,
        tenant: p.tenant,
        actor: p.subject,
        action: renameOnly ? 'rename' : 'update',
        before: toView(row),
        after: { ...toView(next), changedFields: edit.changed },
      });
      return next;
    });
    return toView(row);
  }

  async start(p: Principal, id: string, ifMatch?: number): Promise<TaskView> {
    requireWriter(p);
    return this.change(p, id, 'start', ifMatch, (row) => {
      // While stopping, the last run's replicators are still finishing; a start that captures new
      // start offsets fences them (reconciler.ts), one that does not simply lets them carry on.
      if (row.status !== 'stopped' && row.status !== 'stopping' && row.status !== 'start_failed') {
        throw new FerryError(
          'INVALID_STATE',
          `a task can be started only when stopped, stopping or start_failed (it is ${row.status})`,
          'status',
        );
      }
      return { desiredState: 'running', status: 'initializing', statusReason: null };
    });
  }

  async stop(p: Principal, id: string, ifMatch?: number): Promise<TaskView> {
    requireWriter(p);
    return this.change(p, id, 'stop', ifMatch, async (row, tx) => {
      if (row.status === 'stopped') throw new FerryError('INVALID_STATE', 'the task is already stopped', 'status');
      if (row.status === 'stopping') throw new FerryError('INVALID_STATE', 'the task is already stopping', 'status');
      if (row.status === 'deleting') throw new FerryError('INVALID_STATE', 'the task is being deleted', 'status');
      // Replicators see the desired state change and exit within seconds; nothing is killed. Until
      // their leases are released (or expired) the task is stopping: the reconciler then stops it.
      const live = await tx.liveLeaseCount(id);
      return { desiredState: 'stopped', status: live > 0 ? 'stopping' : 'stopped', statusReason: null };
    });
  }

  /** Starts a failover (tasks/failover.ts); the reconciler's cycles carry it out. */
  async failover(p: Principal, id: string, body: unknown, ifMatch?: number): Promise<TaskView> {
    requireWriter(p);
    const input = parseInput(FailoverInput, body ?? {});
    return this.change(p, id, 'failover', ifMatch, (row) => requestFailover(row, input, Date.now()));
  }

  async resetOffset(p: Principal, id: string, body: unknown, ifMatch?: number): Promise<TaskView> {
    requireWriter(p);
    const input = parseInput(ResetOffsetInput, body);
    if (input.timestamp > Date.now() + 60_000)
      throw new FerryError('VALIDATION_FAILED', 'timestamp must not be in the future', 'timestamp');
    return this.change(p, id, 'reset-offset', ifMatch, async (row, tx) => {
      if (isActive(row)) throw running('reset to a new offset');
      if (row.status === 'stopping')
        throw new FerryError(
          'INVALID_STATE',
          'the task is stopping (its replicators are finishing); reset it once it is stopped',
          'status',
        );
      // Whatever tenure is left (a lease expired, its holder not yet gone) cannot write over the reset.
      await tx.fenceLeases(id);
      const spec = row.spec;
      refuseGrpcReset(spec);
      return { spec: { ...spec, pendingReset: { timestamp: input.timestamp, requestedAt: new Date().toISOString() } } };
    });
  }

  async remove(p: Principal, id: string, ifMatch?: number): Promise<void> {
    requireWriter(p);
    await this.store.withTransaction(async (tx) => {
      const row = await this.current(tx, p, id, ifMatch);
      if (isActive(row)) throw running('deleted');
      await tx.deleteTask(p.tenant, id);
      await tx.appendAudit({ taskId: id, tenant: p.tenant, actor: p.subject, action: 'delete', before: toView(row) });
    });
  }

  async events(p: Principal, id: string, limit = 100) {
    await this.row(p, id);
    const events = await this.store.listAudit(p.tenant, id, { limit });
    return events.map((e) => ({
      id: e.id,
      actor: e.actor,
      actorLabel: e.actorLabel,
      action: e.action,
      at: e.at.toISOString(),
      before: e.before,
      after: e.after,
    }));
  }

  /** Per-minute series for [from, to) (default: the last hour), one row per flow and minute. */
  async metrics(p: Principal, id: string, q: { from?: string; to?: string }) {
    await this.row(p, id);
    const to = q.to === undefined ? Date.now() : Number(q.to);
    const from = q.from === undefined ? to - 3_600_000 : Number(q.from);
    // Whole milliseconds within 2^53: a larger number would overflow the store's bigint columns (a 500, not a 400).
    if (!Number.isSafeInteger(to) || to < 0) throw new FerryError('VALIDATION_FAILED', 'to must be milliseconds since the epoch', 'to');
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new FerryError('VALIDATION_FAILED', 'from must be milliseconds since the epoch', 'from');
    }
    if (to < from) throw new FerryError('VALIDATION_FAILED', 'to must be milliseconds since the epoch, not before from', 'to');
    if (to - from > 31 * 86_400_000) throw new FerryError('VALIDATION_FAILED', 'the range may span at most 31 days', 'from');
    const rows = await this.store.queryMetrics(id, from, to);
    // The delay bucket counts are for /metrics (the histogram); the API's points keep their shape.
    return { from, to, stepMs: 60_000, points: rows.map(({ taskId: _t, delayCounts: _c, delaySumMs: _s, ...r }) => r) };
  }

  /** The task with the latest minute of each flow and its catch-up progress: what the details page shows as "now". */
  async describe(p: Principal, id: string) {
    const task = await this.get(p, id);
    const [summary, baselines] = await Promise.all([this.summary(id), this.store.catchUpBaselines(id)]);
    return { ...task, summary, catchUp: baselines.map((b) => ({ ...b, left: b.backlog - b.done })) };
  }

  private async summary(id: string) {
    const now = Date.now();
    const rows = await this.store.queryMetrics(id, now - 5 * 60_000, now + 60_000);
    const latest = new Map<string, (typeof rows)[number]>();
    for (const r of rows) latest.set(r.flow, r);
    return [...latest.values()].map((r) => ({
      flow: r.flow,
      minuteMs: r.minuteMs,
      lag: r.lag,
      delayP99Ms: r.delayP99Ms,
      replicated: r.replicated,
      failed: r.failed,
    }));
  }

  async metadata(p: Principal, id: string) {
    await this.row(p, id);
    const items = await this.store.listMetadataItems(id);
    return items.map(({ taskId: _t, syncedAt, ...rest }) => ({ ...rest, syncedAt: syncedAt.toISOString() }));
  }

  /** The latest consumer offset translation of each group and source queue. */
  async offsets(p: Principal, id: string) {
    await this.row(p, id);
    const items = await this.store.listOffsetSyncs(id);
    return items.map(({ taskId: _t, syncedAt, ...rest }) => ({ ...rest, syncedAt: syncedAt.toISOString() }));
  }

  /** Parked messages; their bodies (includePayload=true) only for admins: readers get the metadata alone. */
  async failures(p: Principal, id: string, q: { limit?: string; includePayload?: string }) {
    await this.row(p, id);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new FerryError('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000', 'limit');
    const items = await this.store.listParked(id, { limit, includePayload: q.includePayload === 'true' && p.role === 'admin' });
    return items.map((m) => ({ ...m, payload: m.payload ? Buffer.from(m.payload).toString('base64') : undefined }));
  }

  async retryFailures(p: Principal, id: string, ifMatch?: number): Promise<{ requested: number }> {
    requireWriter(p);
    const row = await this.row(p, id);
    if (ifMatch !== undefined && ifMatch !== row.version) throw stale(ifMatch, row.version);
    const requested = await this.store.requestRetry(id);
    await this.store.appendAudit({ taskId: id, tenant: p.tenant, actor: p.subject, action: 'retry-failures', after: { requested } });
    return { requested };
  }

  /** The task, or NOT_FOUND — also for another tenant's task, so ids do not leak across tenants. */
  async row(p: Principal, id: string): Promise<TaskRow> {
    const row = await this.store.getTask(p.tenant, id);
    if (!row) throw notFound(id);
    return row;
  }

  private async change(
    p: Principal,
    id: string,
    action: string,
    expectedVersion: number | undefined,
    decide: (row: TaskRow, tx: TaskServiceTx) => TaskPatch | Promise<TaskPatch>,
  ): Promise<TaskView> {
    const updated = await this.store.withTransaction(async (tx) => {
      const row = await this.current(tx, p, id, expectedVersion);
      const next = await tx.updateTask(p.tenant, id, row.version, await decide(row, tx));
      await tx.appendAudit({ taskId: id, tenant: p.tenant, actor: p.subject, action, before: toView(row), after: toView(next) });
      return next;
    });
    return toView(updated);
  }

  /** The task inside a transaction: NOT_FOUND, or CONFLICT when it is no longer the version the caller edits. */
  private async current(tx: TaskStore, p: Principal, id: string, expectedVersion: number | undefined): Promise<TaskRow> {
    const row = await tx.getTask(p.tenant, id);
    if (!row) throw notFound(id);
    if (expectedVersion !== undefined && expectedVersion !== row.version) throw stale(expectedVersion, row.version);
    return row;
  }
}

export function requireWriter(p: Principal): void {
  if (p.role !== 'admin') throw new FerryError('FORBIDDEN', 'this token may only read');
}

/** A cluster the preview cannot read is the body's problem: the field that names the cluster says which. */
function unreadable(err: unknown, side: 'source' | 'target', e: StoredEndpoint): never {
  if (err instanceof FerryError || !isClusterProblem(err)) throw err;
  const field = e.clusterType === 'tencent' ? `${side}.clusterId` : `${side}.nameServer`;
  const why = err instanceof Error ? err.message : String(err);
  const denied = err instanceof Error && err.cause instanceof EgressDeniedError ? err.cause : undefined;
  if (denied) throw new FerryError('EGRESS_DENIED', `${field}: ${denied.message}`, field, { cause: err });
  throw new FerryError('VALIDATION_FAILED', `the ${side} cluster ${e.clusterId} could not be read: ${why}`, field, { cause: err });
}

/**
 * QUOTA_EXCEEDED once the tenant holds `max` tasks (deleting ones count until gone). Counted in the
 * create's transaction; two creates racing at the limit may both pass, which a quota can live with.
 */
async function refuseOverQuota(tx: TaskStore, tenant: string, max: number): Promise<void> {
  // Counted, not listed: a create costs the same with ten tasks as with ten thousand.
  if ((await tx.countTasks(tenant, max)) >= max)
    throw new FerryError('QUOTA_EXCEEDED', `this tenant already has ${max} tasks, the most this deployment allows`);
}

const stale = (expected: number, now: number) =>
  new FerryError('CONFLICT', `the task changed since version ${expected} (now ${now}); reload and retry`, 'version');
const notFound = (id: string) => new FerryError('NOT_FOUND', `task ${id} not found`);
const running = (what: string) => new FerryError('TASK_RUNNING', `a running task cannot be ${what}; stop it first`, 'status');

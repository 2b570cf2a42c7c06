// Task use cases: validation, the deployment policy, state guards, optimistic versions and an
// audit event for every change, written in the same transaction as the change.
import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { FerryError } from '../errors.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type {
  AuditStore,
  MetadataStateStore,
  MetricsStore,
  ParkedStore,
  TaskPatch,
  TaskRow,
  TaskStatus,
  TaskStore,
  Transactional,
} from '../store/store.ts';
import { planEdit, refuseSameCluster } from './edit.ts';
import { parseInput } from './issue.ts';
import { isActive, sealEndpoint, toView, type TaskSpec, type TaskView } from './model.ts';
import { ResetOffsetInput, TaskInput, TaskPatchInput } from './schema.ts';

export { parseInput } from './issue.ts';

export interface TaskServiceOptions {
  /** The spec's rule "at least one side must be a Tencent cluster" (on for the Tencent stage). */
  requireManagedSide: boolean;
}

export interface ListQuery {
  status?: string;
  name?: string;
  limit?: string;
  cursor?: string;
}

const STATUSES: readonly TaskStatus[] = ['initializing', 'running', 'stopped', 'start_failed', 'deleting'];

/** What the task use cases need of the store; a change and its audit event share a transaction. */
type TaskServiceStore = TaskStore & AuditStore & MetricsStore & MetadataStateStore & ParkedStore & Transactional<TaskStore & AuditStore>;

export class TaskService {
  constructor(
    private readonly store: TaskServiceStore,
    private readonly cipher: SecretCipher,
    private readonly opts: TaskServiceOptions,
  ) {}

  async create(p: Principal, body: unknown): Promise<TaskView> {
    requireWriter(p);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object');
    const input = parseInput(TaskInput, body);
    if (this.opts.requireManagedSide && input.source.clusterType !== 'tencent' && input.target.clusterType !== 'tencent') {
      throw new FerryError(
        'VALIDATION_FAILED',
        'at least one of the source and target clusters must be a Tencent Cloud cluster',
        'target.clusterType',
      );
    }
    refuseSameCluster(input);
    const spec: TaskSpec = {
      direction: input.direction,
      source: sealEndpoint(input.source, this.cipher),
      target: sealEndpoint(input.target, this.cipher),
      startOffset: input.startOffset,
      filter: input.filter,
      tpsLimit: input.tpsLimit,
      shards: input.shards,
      idempotentResume: input.idempotentResume,
    };
    const row = await this.store.withTransaction(async (tx) => {
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
  async update(p: Principal, id: string, body: unknown): Promise<TaskView> {
    requireWriter(p);
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new FerryError('VALIDATION_FAILED', 'body must be a JSON object');
    const patch = parseInput(TaskPatchInput, body);
    const row = await this.store.withTransaction(async (tx) => {
      const row = await this.current(tx, p, id, patch.version);
      const edit = planEdit(row, patch, this.cipher);
      if (edit.changed.length === 0) return row;
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

  async start(p: Principal, id: string): Promise<TaskView> {
    requireWriter(p);
    return this.change(p, id, 'start', undefined, (row) => {
      if (row.status !== 'stopped' && row.status !== 'start_failed') {
        throw new FerryError('INVALID_STATE', `a task can be started only when stopped or start_failed (it is ${row.status})`, 'status');
      }
      return { desiredState: 'running', status: 'initializing', statusReason: null };
    });
  }

  async stop(p: Principal, id: string): Promise<TaskView> {
    requireWriter(p);
    return this.change(p, id, 'stop', undefined, (row) => {
      if (row.status === 'stopped') throw new FerryError('INVALID_STATE', 'the task is already stopped', 'status');
      if (row.status === 'deleting') throw new FerryError('INVALID_STATE', 'the task is being deleted', 'status');
      // Replicators see the desired state change and exit within seconds; nothing is killed.
      return { desiredState: 'stopped', status: 'stopped', statusReason: null };
    });
  }

  async resetOffset(p: Principal, id: string, body: unknown): Promise<TaskView> {
    requireWriter(p);
    const input = parseInput(ResetOffsetInput, body);
    if (input.timestamp > Date.now() + 60_000)
      throw new FerryError('VALIDATION_FAILED', 'timestamp must not be in the future', 'timestamp');
    return this.change(p, id, 'reset-offset', undefined, (row) => {
      if (isActive(row)) throw running('reset to a new offset');
      const spec = row.spec;
      return { spec: { ...spec, pendingReset: { timestamp: input.timestamp, requestedAt: new Date().toISOString() } } };
    });
  }

  async remove(p: Principal, id: string): Promise<void> {
    requireWriter(p);
    await this.store.withTransaction(async (tx) => {
      const row = await tx.getTask(p.tenant, id);
      if (!row) throw notFound(id);
      if (isActive(row)) throw running('deleted');
      await tx.deleteTask(p.tenant, id);
      await tx.appendAudit({ taskId: id, tenant: p.tenant, actor: p.subject, action: 'delete', before: toView(row) });
    });
  }

  async events(p: Principal, id: string, limit = 100) {
    await this.row(p, id);
    const events = await this.store.listAudit(p.tenant, id, { limit });
    return events.map((e) => ({ id: e.id, actor: e.actor, action: e.action, at: e.at.toISOString(), before: e.before, after: e.after }));
  }

  /** Per-minute series for [from, to) (default: the last hour), one row per flow and minute. */
  async metrics(p: Principal, id: string, q: { from?: string; to?: string }) {
    await this.row(p, id);
    const to = q.to === undefined ? Date.now() : Number(q.to);
    const from = q.from === undefined ? to - 3_600_000 : Number(q.from);
    if (!Number.isFinite(from) || from < 0) throw new FerryError('VALIDATION_FAILED', 'from must be milliseconds since the epoch', 'from');
    if (!Number.isFinite(to) || to < from)
      throw new FerryError('VALIDATION_FAILED', 'to must be milliseconds since the epoch, not before from', 'to');
    if (to - from > 31 * 86_400_000) throw new FerryError('VALIDATION_FAILED', 'the range may span at most 31 days', 'from');
    const rows = await this.store.queryMetrics(id, from, to);
    return { from, to, stepMs: 60_000, points: rows.map(({ taskId: _t, ...r }) => r) };
  }

  /** The task with the latest minute of each flow: what the details page shows as "now". */
  async describe(p: Principal, id: string) {
    return { ...(await this.get(p, id)), summary: await this.summary(id) };
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

  async failures(p: Principal, id: string, q: { limit?: string; includePayload?: string }) {
    await this.row(p, id);
    const limit = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new FerryError('VALIDATION_FAILED', 'limit must be a whole number from 1 to 1000', 'limit');
    const items = await this.store.listParked(id, { limit, includePayload: q.includePayload === 'true' });
    return items.map((m) => ({ ...m, payload: m.payload ? Buffer.from(m.payload).toString('base64') : undefined }));
  }

  async retryFailures(p: Principal, id: string): Promise<{ requested: number }> {
    requireWriter(p);
    await this.row(p, id);
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
    decide: (row: TaskRow) => TaskPatch,
  ): Promise<TaskView> {
    const updated = await this.store.withTransaction(async (tx) => {
      const row = await this.current(tx, p, id, expectedVersion);
      const next = await tx.updateTask(p.tenant, id, row.version, decide(row));
      await tx.appendAudit({ taskId: id, tenant: p.tenant, actor: p.subject, action, before: toView(row), after: toView(next) });
      return next;
    });
    return toView(updated);
  }

  /** The task inside a transaction: NOT_FOUND, or CONFLICT when it is no longer the version the caller edits. */
  private async current(tx: TaskStore, p: Principal, id: string, expectedVersion: number | undefined): Promise<TaskRow> {
    const row = await tx.getTask(p.tenant, id);
    if (!row) throw notFound(id);
    if (expectedVersion !== undefined && expectedVersion !== row.version) {
      throw new FerryError(
        'CONFLICT',
        `the task changed since version ${expectedVersion} (now ${row.version}); reload and retry`,
        'version',
      );
    }
    return row;
  }
}

export function requireWriter(p: Principal): void {
  if (p.role !== 'admin') throw new FerryError('FORBIDDEN', 'this token may only read');
}

const notFound = (id: string) => new FerryError('NOT_FOUND', `task ${id} not found`);
const running = (what: string) => new FerryError('TASK_RUNNING', `a running task cannot be ${what}; stop it first`, 'status');

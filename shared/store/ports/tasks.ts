// The task port: task rows, keyset-paginated listings and optimistic updates. A row's spec is
// decoded with the tasks module's schema as it leaves the store, so readers get a typed TaskSpec.
import type { HealthRecord } from '../../tasks/health.ts';
import type { DesiredState, StoredTask, TaskSpec, TaskStatus } from '../../tasks/stored-task.ts';

export type { DesiredState, TaskStatus } from '../../tasks/stored-task.ts';

/** A task as the store hands it out; its spec decoded (secrets still sealed). */
export type TaskRow = StoredTask;

export interface NewTask {
  id: string;
  tenant: string;
  name: string;
  spec: TaskSpec;
  desiredState: DesiredState;
  status: TaskStatus;
  statusReason?: string | null;
  startOffsetsCaptured?: boolean;
  /** Defaults to the database clock; settable for imports and tests. */
  createdAt?: Date;
}

/** Fields an update may change; absent (undefined) fields are left as they are. */
export interface TaskPatch {
  name?: string;
  spec?: TaskSpec;
  desiredState?: DesiredState;
  status?: TaskStatus;
  statusReason?: string | null;
  startOffsetsCaptured?: boolean;
}

export interface ListTasksQuery {
  status?: TaskStatus;
  /** Case-insensitive substring of the name (taken literally: `%` and `_` are not wildcards). */
  name?: string;
  /** 1..1000. */
  limit: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Opaque; null when this is the last page. */
  nextCursor: string | null;
}

/**
 * Every read decodes the row; a row whose spec (or state) does not decode throws
 * FerryError('INTERNAL') naming the task and the field. Writes check the spec the same way first,
 * so no row is stored that could not be read back.
 */
export interface ListAllTasksOptions {
  /**
   * Given a row that does not decode (FerryError INTERNAL naming the task and field), which is then
   * left out, so one damaged row cannot stop the work for every other task. Without it, it throws.
   */
  onUndecodable?: (err: Error) => void;
}

export interface TaskStore {
  insertTask(task: NewTask): Promise<TaskRow>;
  /** null when absent or owned by another tenant. */
  getTask(tenant: string, id: string): Promise<TaskRow | null>;
  /** Newest first, keyset-paginated by (createdAt, id). */
  listTasks(tenant: string, query: ListTasksQuery): Promise<Page<TaskRow>>;
  /** How many tasks the tenant holds, counted up to `upTo` at most (a quota needs no more). */
  countTasks(tenant: string, upTo: number): Promise<number>;
  /** Every task of every tenant, oldest first (for the reconciler). */
  listAllTasks(opts?: ListAllTasksOptions): Promise<TaskRow[]>;
  /** Throws NOT_FOUND when absent, CONFLICT when the stored version is not expectedVersion. */
  updateTask(tenant: string, id: string, expectedVersion: number, patch: TaskPatch): Promise<TaskRow>;
  /**
   * Stores the reconciler's health record (spec.health) of a running task without bumping its
   * version or updatedAt: health is observed, not edited. false when the task is absent or not running.
   */
  setTaskHealth(id: string, health: HealthRecord): Promise<boolean>;
  /** Removes the task and everything hanging off it (audit events stay). false when absent. */
  deleteTask(tenant: string, id: string): Promise<boolean>;
}

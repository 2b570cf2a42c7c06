// The audit port: who changed which task how, kept after the task is gone.

export interface AuditEvent {
  id: number;
  taskId: string;
  tenant: string;
  /** `token:<id>` for a request made with an API token; a system name (`reconciler`, …) otherwise. */
  actor: string;
  /** The label of the token named by `actor` (`token:<id>`), read when the event is; null for system actors. */
  actorLabel: string | null;
  action: string;
  at: Date;
  before: unknown;
  after: unknown;
}

export interface NewAuditEvent {
  taskId: string;
  tenant: string;
  actor: string;
  action: string;
  /** null/undefined when there is no prior (create) or later (delete) state. */
  before?: unknown;
  after?: unknown;
}

export interface AuditStore {
  appendAudit(event: NewAuditEvent): Promise<AuditEvent>;
  /** Newest first. */
  listAudit(tenant: string, taskId: string, query: { limit: number }): Promise<AuditEvent[]>;
}

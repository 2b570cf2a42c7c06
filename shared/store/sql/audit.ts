// AuditStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type { AuditEvent, AuditStore, NewAuditEvent } from '../ports/audit.ts';
import { MAX_PAGE, json, requireCount } from './common.ts';

interface AuditDbRow {
  id: number;
  task_id: string;
  tenant: string;
  actor: string;
  action: string;
  at: Date;
  before: unknown;
  after: unknown;
}

const toAudit = (r: AuditDbRow): AuditEvent => ({
  id: r.id,
  taskId: r.task_id,
  tenant: r.tenant,
  actor: r.actor,
  action: r.action,
  at: r.at,
  before: r.before,
  after: r.after,
});

export const sqlAuditStore = (db: SqlExecutor): AuditStore => ({
  async appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    const [row] = await db.query<AuditDbRow>(
      `INSERT INTO audit_events (task_id, tenant, actor, action, before, after)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
       RETURNING *`,
      [event.taskId, event.tenant, event.actor, event.action, json(event.before ?? null), json(event.after ?? null)],
    );
    return toAudit(row!);
  },

  async listAudit(tenant: string, taskId: string, query: { limit: number }): Promise<AuditEvent[]> {
    const rows = await db.query<AuditDbRow>('SELECT * FROM audit_events WHERE task_id = $1 AND tenant = $2 ORDER BY id DESC LIMIT $3', [
      taskId,
      tenant,
      requireCount(query.limit, 'limit', MAX_PAGE),
    ]);
    return rows.map(toAudit);
  },
});

// AuditStore on SQL.
import type { SqlExecutor } from '../executor.ts';
import type { AuditEvent, AuditStore, NewAuditEvent } from '../ports/audit.ts';
import { MAX_PAGE, json, requireCount } from './common.ts';

interface AuditDbRow {
  id: number;
  task_id: string;
  tenant: string;
  actor: string;
  actor_label: string | null;
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
  actorLabel: r.actor_label,
  action: r.action,
  at: r.at,
  before: r.before,
  after: r.after,
});

// Token actors are `token:<id>` (the first 16 hex digits of the token's hash); the label is looked up
// beside it, within the tenant, so a token labelled like a system actor never reads as one.
const ACTOR_LABEL = `(SELECT t.label FROM api_tokens t
  WHERE t.tenant = a.tenant AND a.actor LIKE 'token:%' AND left(t.token_hash, 16) = substr(a.actor, 7) LIMIT 1) AS actor_label`;

export const sqlAuditStore = (db: SqlExecutor): AuditStore => ({
  async appendAudit(event: NewAuditEvent): Promise<AuditEvent> {
    const [row] = await db.query<AuditDbRow>(
      `WITH a AS (
         INSERT INTO audit_events (task_id, tenant, actor, action, before, after)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
         RETURNING *)
       SELECT a.*, ${ACTOR_LABEL} FROM a`,
      [event.taskId, event.tenant, event.actor, event.action, json(event.before ?? null), json(event.after ?? null)],
    );
    return toAudit(row!);
  },

  async listAudit(tenant: string, taskId: string, query: { limit: number }): Promise<AuditEvent[]> {
    const sql = `SELECT a.*, ${ACTOR_LABEL} FROM audit_events a WHERE a.task_id = $1 AND a.tenant = $2 ORDER BY a.id DESC LIMIT $3`;
    const rows = await db.query<AuditDbRow>(sql, [taskId, tenant, requireCount(query.limit, 'limit', MAX_PAGE)]);
    return rows.map(toAudit);
  },
});

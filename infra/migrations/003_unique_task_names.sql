-- Task names are unique per tenant: `ferry apply` finds a task by its name, and two tasks of one
-- name could not be told apart by the people who read them.
--
-- Tasks stored before this rule may share a name. Rather than fail (and stop Ferry from starting),
-- the oldest task of each name keeps it and every later one is renamed "<name>-<task id>" (the name
-- cut so the whole stays within 200 characters; task ids are unique, so the new names are too), its
-- version bumped, and the rename recorded in its audit trail with this migration as the actor.
WITH ranked AS (
  SELECT id, name, row_number() OVER (PARTITION BY tenant, name ORDER BY created_at, id) AS n
  FROM tasks
),
renamed AS (
  UPDATE tasks t
  SET name = left(r.name, greatest(0, 199 - length(t.id))) || '-' || t.id,
      version = t.version + 1,
      updated_at = clock_timestamp()
  FROM ranked r
  WHERE t.id = r.id AND r.n > 1
  RETURNING t.id, t.tenant, r.name AS old_name, t.name AS new_name
)
INSERT INTO audit_events (task_id, tenant, actor, action, before, after)
SELECT id, tenant, 'migration 003_unique_task_names', 'rename', jsonb_build_object('name', old_name), jsonb_build_object('name', new_name)
FROM renamed;

CREATE UNIQUE INDEX tasks_tenant_name_key ON tasks (tenant, name);

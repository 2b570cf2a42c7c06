-- Ferry's initial schema. Plain PostgreSQL that also runs on PGlite: the embedded store and the
-- deployed one share every statement, so there is exactly one schema to reason about.
-- Applied once, in a transaction, by shared/store/migrate.ts.

-- Tasks: the spec is stored whole (secrets already encrypted by the caller) because only the
-- name is editable; splitting it into columns would buy nothing but migrations.
CREATE TABLE tasks (
  id                      text        PRIMARY KEY,
  tenant                  text        NOT NULL,
  name                    text        NOT NULL,
  spec                    jsonb       NOT NULL,
  desired_state           text        NOT NULL,
  status                  text        NOT NULL,
  status_reason           text,
  version                 integer     NOT NULL DEFAULT 1,
  created_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at              timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- Start offsets are captured once, on first start (architecture §3); this says it happened.
  start_offsets_captured  boolean     NOT NULL DEFAULT false
);
-- Serves the per-tenant keyset pagination over (created_at, id).
CREATE INDEX tasks_tenant_created_idx ON tasks (tenant, created_at, id);

-- Audit trail. No foreign key to tasks on purpose: the trail outlives the task it describes.
CREATE TABLE audit_events (
  id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id  text        NOT NULL,
  tenant   text        NOT NULL,
  actor    text        NOT NULL,
  action   text        NOT NULL,
  at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  before   jsonb,
  after    jsonb
);
CREATE INDEX audit_events_task_idx ON audit_events (task_id, id);

-- Only a hash of each API token is kept, so a leaked table does not leak credentials.
CREATE TABLE api_tokens (
  token_hash  text        PRIMARY KEY,
  tenant      text        NOT NULL,
  role        text        NOT NULL,
  label       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at  timestamptz
);

-- The tables below hang off a task. Their foreign keys make a write for a task that no longer
-- exists fail (a straggling replicator cannot resurrect rows of a deleted task: the insert takes
-- a key-share lock on the task row, so it cannot race the delete), and ON DELETE CASCADE is a
-- safety net behind the explicit deletes in the store's deleteTask.

-- One lease per shard of a flow. The row is kept after release so the epoch only ever grows;
-- expires_at_ms is compared against the database clock, never a caller's.
CREATE TABLE leases (
  task_id        text    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow           text    NOT NULL,
  shard          integer NOT NULL,
  owner          text    NOT NULL,
  epoch          bigint  NOT NULL,
  expires_at_ms  bigint  NOT NULL,
  PRIMARY KEY (task_id, flow, shard)
);

-- Next offset to pull per source queue. epoch records the lease tenure that wrote the row
-- (0 for unfenced writes: start-offset capture and reset-offset).
CREATE TABLE checkpoints (
  task_id      text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow         text        NOT NULL,
  topic        text        NOT NULL,
  broker       text        NOT NULL,
  queue_id     integer     NOT NULL,
  next_offset  bigint      NOT NULL,
  epoch        bigint      NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, flow, topic, broker, queue_id)
);

-- Per-minute buckets. Counters are added to by every shard; lag and delays are gauges.
CREATE TABLE metrics (
  task_id       text             NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow          text             NOT NULL,
  minute_ms     bigint           NOT NULL,
  consumed      bigint           NOT NULL DEFAULT 0,
  replicated    bigint           NOT NULL DEFAULT 0,
  filtered      bigint           NOT NULL DEFAULT 0,
  loop_skipped  bigint           NOT NULL DEFAULT 0,
  failed        bigint           NOT NULL DEFAULT 0,
  throttled     bigint           NOT NULL DEFAULT 0,
  lag           bigint,
  delay_p50_ms  double precision,
  delay_p99_ms  double precision,
  delay_max_ms  double precision,
  PRIMARY KEY (task_id, flow, minute_ms)
);

-- Messages that exhausted their send retries: kept (never dropped) until retried successfully.
CREATE TABLE parked_messages (
  id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task_id             text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow                text        NOT NULL,
  topic               text        NOT NULL,
  broker              text        NOT NULL,
  queue_id            integer     NOT NULL,
  queue_offset        bigint      NOT NULL,
  reason              text        NOT NULL,
  payload             bytea       NOT NULL,
  properties          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  parked_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  retry_requested_at  timestamptz,
  resolved_at         timestamptz
);
CREATE INDEX parked_messages_task_idx ON parked_messages (task_id, id);

-- Last metadata snapshot of each side; the next sync diffs against it (architecture §4).
CREATE TABLE metadata_snapshots (
  task_id       text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  cluster_side  text        NOT NULL CHECK (cluster_side IN ('source', 'target')),
  taken_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  items         jsonb       NOT NULL,
  PRIMARY KEY (task_id, cluster_side)
);

-- Last outcome per metadata item and direction, shown on the task details page.
CREATE TABLE metadata_items (
  task_id    text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  kind       text        NOT NULL,
  name       text        NOT NULL,
  direction  text        NOT NULL,
  action     text        NOT NULL,
  status     text        NOT NULL CHECK (status IN ('synced', 'failed', 'unsupported')),
  error      text,
  synced_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, kind, name, direction)
);

-- Shards that scale: each flow's shard count lives in a plan with a generation. Changing the
-- count starts a new generation; leases carry the generation they were taken under, and a lease
-- of an older generation can neither be renewed nor write checkpoints, so two shard layouts never
-- copy the same queue at once. No plan row means generation 0 (a fixed single layout).
CREATE TABLE shard_plans (
  task_id        text    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow           text    NOT NULL,
  shard_count    integer NOT NULL CHECK (shard_count BETWEEN 1 AND 256),
  generation     bigint  NOT NULL,
  changed_at_ms  bigint  NOT NULL,
  PRIMARY KEY (task_id, flow)
);

-- What a shard's holder reported at its last renewal: the sizing inputs of the reconciler.
ALTER TABLE leases ADD COLUMN generation bigint NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN lag bigint;
ALTER TABLE leases ADD COLUMN rate double precision;

-- true when the writer stopped cleanly right after this offset: the target holds nothing past it,
-- so the next holder resumes without reading the target's tail.
ALTER TABLE checkpoints ADD COLUMN exact boolean NOT NULL DEFAULT false;

-- A parked message keeps its flag and born time, so a retry sends it exactly as it would have gone.
ALTER TABLE parked_messages ADD COLUMN flag integer NOT NULL DEFAULT 0;
ALTER TABLE parked_messages ADD COLUMN born_timestamp bigint;

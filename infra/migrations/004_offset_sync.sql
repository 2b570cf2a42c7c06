-- Consumer offset translation (issue 13).
--
-- offset_pairs: where replicas landed. A row says "the message at source_offset of this source queue
-- was stored at target_offset of that target queue"; replicators record them from send results, in the
-- same fenced transaction as their checkpoints. Kept sparse: roughly one row per few source offsets near
-- the newest, thinning out with distance (pruned by the offset-sync cycle), so a queue holds a bounded
-- number of rows whatever its traffic.
CREATE TABLE offset_pairs (
  task_id          text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow             text        NOT NULL,
  topic            text        NOT NULL,
  broker           text        NOT NULL,
  queue_id         integer     NOT NULL,
  source_offset    bigint      NOT NULL,
  target_broker    text        NOT NULL,
  target_queue_id  integer     NOT NULL,
  target_offset    bigint      NOT NULL,
  recorded_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, flow, topic, broker, queue_id, source_offset)
);

-- offset_syncs: the last translation of each (flow, group, source queue): what was committed on the
-- source, what the target group holds now, and why (synced, skipped-active-consumers, no-mapping-yet, failed).
CREATE TABLE offset_syncs (
  task_id          text        NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow             text        NOT NULL,
  consumer_group   text        NOT NULL,
  topic            text        NOT NULL,
  broker           text        NOT NULL,
  queue_id         integer     NOT NULL,
  source_offset    bigint      NOT NULL,
  target_broker    text,
  target_queue_id  integer,
  target_offset    bigint,
  status           text        NOT NULL CHECK (status IN ('synced', 'skipped-active-consumers', 'no-mapping-yet', 'failed')),
  error            text,
  synced_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (task_id, flow, consumer_group, topic, broker, queue_id)
);

-- Self-hosted runtimes (several `npm start` instances on one database) announce themselves at every
-- reconciler run, so each dispatches only its share of the shards (shared/replication/runtime-share.ts).
-- A lease's owner starts with its runtime's id and '-'.
CREATE TABLE runtimes (
  id          text   PRIMARY KEY,
  seen_at_ms  bigint NOT NULL
);

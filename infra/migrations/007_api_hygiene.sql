-- API hygiene (issue 14): tokens expire and record when they were last used (written at most once a
-- minute per token, not per request); mutating requests may carry an Idempotency-Key whose first
-- answer is kept for 24 hours per tenant, then pruned.
ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz;
ALTER TABLE api_tokens ADD COLUMN last_used_at timestamptz;

-- One row per (tenant, key). `fingerprint` is a hash of the method, path and body: the same key
-- with another request is a conflict. status/body are null while the first request is in flight.
CREATE TABLE idempotency_keys (
  tenant       text        NOT NULL,
  key          text        NOT NULL,
  fingerprint  text        NOT NULL,
  status       integer,
  headers      jsonb,
  body         text,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

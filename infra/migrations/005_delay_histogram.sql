-- Prometheus delay histogram and per-topic counters (issue 17).
--
-- metrics.delay_counts: how many delays of the minute fell in each fixed bucket (shared/replication/
-- delay-buckets.ts: le 0.005 … 60 s, then +Inf), not cumulative, so writers add them element-wise;
-- NULL when nothing was replicated. delay_sum_ms: their sum, for the histogram's _sum.
ALTER TABLE metrics ADD COLUMN delay_counts bigint[];
ALTER TABLE metrics ADD COLUMN delay_sum_ms double precision NOT NULL DEFAULT 0;

-- topic_metrics: per-minute counters by source topic, written only with FERRY_METRICS_PER_TOPIC=true.
CREATE TABLE topic_metrics (
  task_id     text    NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  flow        text    NOT NULL,
  topic       text    NOT NULL,
  minute_ms   bigint  NOT NULL,
  consumed    bigint  NOT NULL DEFAULT 0,
  replicated  bigint  NOT NULL DEFAULT 0,
  failed      bigint  NOT NULL DEFAULT 0,
  PRIMARY KEY (task_id, flow, topic, minute_ms)
);

-- Catch-up baseline (issue 17): when a task's start offsets are fixed (first start or a reset), each
-- queue's checkpoint also records where it started and where the queue ended at that moment. How far
-- the replicator is through that backlog then follows from checkpoints alone: messages that arrive
-- later, and messages read twice after a hand-over, do not move it.
ALTER TABLE checkpoints ADD COLUMN baseline_offset bigint;
ALTER TABLE checkpoints ADD COLUMN baseline_end bigint;
ALTER TABLE checkpoints ADD COLUMN baseline_at_ms bigint;

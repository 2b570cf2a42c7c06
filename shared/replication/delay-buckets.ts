// The fixed buckets of the Prometheus delay histogram. Replicators count every delay into them and
// the store adds the counts up element-wise, so the exporter can render real cumulative buckets
// that aggregate across tasks, shards and API instances (a precomputed p99 cannot be aggregated).

/** Upper bounds (`le`) in seconds; one more count follows for +Inf. Changing them needs a migration of stored counts. */
export const DELAY_BUCKETS_S: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Length of a counts array: one per bound plus +Inf. */
export const DELAY_BUCKET_COUNT = DELAY_BUCKETS_S.length + 1;

/** The bucket a delay falls in: the first bound it does not exceed (Prometheus `le`), else +Inf. */
export function delayBucket(ms: number): number {
  const s = Math.max(0, ms) / 1000;
  const i = DELAY_BUCKETS_S.findIndex((le) => s <= le);
  return i === -1 ? DELAY_BUCKETS_S.length : i;
}

export const emptyDelayCounts = (): number[] => new Array<number>(DELAY_BUCKET_COUNT).fill(0);

/** Adds `from` into `into` element-wise (a shorter array counts as zeros beyond its end). */
export function addDelayCounts(into: number[], from: readonly number[] | null | undefined): number[] {
  if (!from) return into;
  for (let i = 0; i < DELAY_BUCKET_COUNT; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/** Per-bucket counts as Prometheus wants them: cumulative, the last (+Inf) equal to the total count. */
export function cumulativeDelayCounts(counts: readonly number[]): number[] {
  let run = 0;
  return Array.from({ length: DELAY_BUCKET_COUNT }, (_, i) => (run += counts[i] ?? 0));
}

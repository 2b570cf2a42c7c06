// A Prometheus histogram written straight in the text exposition format. prom-client's Histogram
// only takes single observations; Ferry's buckets are already counted (by replicators, summed in
// the store), so they are written as they are: cumulative `_bucket` lines, `_sum` and `_count`.
import { DELAY_BUCKETS_S, cumulativeDelayCounts } from '../replication/delay-buckets.ts';

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Per bucket, not cumulative: one per bound of DELAY_BUCKETS_S, then +Inf. */
  counts: readonly number[];
  /** The sum of the observations, in the histogram's unit. */
  sum: number;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');

/** The histogram family over the delay buckets; the HELP and TYPE lines even with no series, as prom-client does. */
export function histogramText(name: string, help: string, series: readonly HistogramSeries[]): string {
  const lines = [`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} histogram`];
  const les = [...DELAY_BUCKETS_S.map(String), '+Inf'];
  for (const s of series) {
    const base = labelText(s.labels);
    const sep = base ? ',' : '';
    const cumulative = cumulativeDelayCounts(s.counts);
    for (const [i, n] of cumulative.entries()) lines.push(`${name}_bucket{${base}${sep}le="${les[i]}"} ${n}`);
    lines.push(`${name}_sum${base ? `{${base}}` : ''} ${s.sum}`);
    lines.push(`${name}_count${base ? `{${base}}` : ''} ${cumulative.at(-1)}`);
  }
  return `${lines.join('\n')}\n`;
}

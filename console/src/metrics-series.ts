// Turns the API's per-minute metric rows into chart series: one point per minute of the range,
// counters 0 where a minute has no row (nothing happened), gauges null (nothing measured).
import type { MetricsPoint, MetricsSeries as Metrics, TaskView as Task } from '../../shared/api/contract.ts';
import type { ChartSeries } from './components/chart.tsx';

const MINUTE = 60_000;

export type MetricKey = 'consumed' | 'replicated' | 'failed' | 'delayP99Ms' | 'lag';
const GAUGES: ReadonlySet<MetricKey> = new Set(['delayP99Ms', 'lag']);

/** x values in seconds (uPlot's unit), one per minute bucket of [from, to]. */
export function minutesOf(m: Pick<Metrics, 'from' | 'to'>): number[] {
  const out: number[] = [];
  for (let t = Math.floor(m.from / MINUTE) * MINUTE; t <= m.to; t += MINUTE) out.push(t / 1000);
  return out;
}

export function flowsOf(task: Pick<Task, 'direction' | 'source' | 'target'>, points: MetricsPoint[]): { id: string; label: string }[] {
  const ids = new Set(task.direction === 'two-way' ? ['forward', 'reverse'] : ['forward']);
  for (const p of points) ids.add(p.flow);
  const label = (id: string) =>
    id === 'forward'
      ? `${task.source.clusterId} → ${task.target.clusterId}`
      : id === 'reverse'
        ? `${task.target.clusterId} → ${task.source.clusterId}`
        : id;
  return [...ids].map((id) => ({ id, label: label(id) }));
}

export function seriesOf(metric: MetricKey, x: number[], flows: { id: string; label: string }[], points: MetricsPoint[]): ChartSeries[] {
  return flows.map((f) => {
    const byMinute = new Map(points.filter((p) => p.flow === f.id).map((p) => [p.minuteMs / 1000, p[metric]]));
    return { label: f.label, values: x.map((t) => byMinute.get(t) ?? (GAUGES.has(metric) ? null : 0)) };
  });
}

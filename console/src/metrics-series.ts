// Turns metric rows (per minute, or per display step: time-range.ts) into chart series: one point per x,
// counters 0 where a minute has no row (nothing happened), gauges null (nothing measured).
import type { MetricsPoint, TaskView as Task } from '../../shared/api/contract.ts';
import type { ChartSeries } from './components/chart.tsx';

export type MetricKey = 'consumed' | 'replicated' | 'failed' | 'delayP99Ms' | 'lag';
const GAUGES: ReadonlySet<MetricKey> = new Set(['delayP99Ms', 'lag']);

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

// One time-series chart (uPlot, canvas). What the chart holds — series labels and the exact arrays
// handed to uPlot — is mirrored in data-chart, for tests and for anyone inspecting the page.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

const COLORS = ['#2563eb', '#d97706', '#059669', '#dc2626'];

export function Chart(props: { title: string; metric: string; unit?: string; period?: string; x: number[]; series: ChartSeries[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = props.series.map((s) => s.label).join('|');

  // A new set of series (a flow appears) needs a new chart; new values only need setData.
  useEffect(() => {
    const el = box.current!;
    const u = new uPlot(
      {
        width: Math.max(280, el.clientWidth || 480),
        height: 170,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, (max ?? 1) * 1.1)] } },
        axes: [{}, { size: 56, label: props.unit ?? '' }],
        // Gauges (with a unit) are measured only in minutes with traffic: dots keep a lone minute visible.
        series: [
          {},
          ...props.series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length]!,
            width: 2,
            points: { show: props.unit !== undefined, size: 5 },
          })),
        ],
      },
      [[], ...props.series.map(() => [])],
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(280, el.clientWidth), height: 170 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt only when the series change
  }, [labels]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData([props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
    box.current!.parentElement!.dataset.chart = JSON.stringify({ series: u.series.slice(1).map((s) => s.label), data: u.data });
  });

  const total = props.series.reduce((sum, s) => sum + s.values.reduce<number>((a, v) => a + (v ?? 0), 0), 0);
  const latest = props.series.map((s) => [...s.values].reverse().find((v) => v !== null) ?? null);
  return (
    <figure class="chart" data-metric={props.metric}>
      <figcaption>
        {props.title}
        <span class="chart-figure">
          {props.unit
            ? `latest ${latest.map((v) => (v === null ? '–' : v)).join(' / ')} ${props.unit}`
            : `${total} in ${props.period ?? 'the last hour'}`}
        </span>
      </figcaption>
      <div ref={box} class="chart-canvas" />
    </figure>
  );
}

// Catch-up progress per flow (see catch-up.ts for what each number is computed from).
import type { CatchUp } from '../catch-up.ts';
import { formatDuration } from '../catch-up.ts';
import { formatTime } from '../time.ts';

const STATE: Record<CatchUp['state'], string> = {
  'caught-up': 'Caught up',
  'catching-up': 'Catching up',
  'not-catching-up': 'Not catching up',
  'no-data': 'No lag measured',
};

const num = (v: number | null, digits = 0) => (v === null ? '–' : v.toLocaleString(undefined, { maximumFractionDigits: digits }));

function estimate(c: CatchUp): string {
  if (c.state === 'caught-up') return 'caught up';
  if (c.state === 'not-catching-up') return 'not catching up (lag is not falling)';
  if (c.etaSec === null) return '–';
  return `about ${formatDuration(c.etaSec)}${c.netBasis === 'replicated' ? ' (from the drain rate)' : ''}`;
}

export function CatchUpTable({ items }: { items: (CatchUp & { label: string })[] }) {
  return (
    <table class="catch-up" aria-label="Catch-up progress">
      <thead>
        <tr>
          <th>Flow</th>
          <th>State</th>
          <th>Lag now</th>
          <th>Lag at start</th>
          <th>Done</th>
          <th>Drain rate</th>
          <th>Estimate</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr
            key={c.flow}
            data-flow={c.flow}
            data-state={c.state}
            data-basis={c.netBasis ?? ''}
            data-lag={c.lag ?? ''}
            data-left={c.left ?? ''}
            data-start-lag={c.startLag ?? ''}
            data-percent={c.percentDone ?? ''}
            data-rate={c.drainPerSec ?? ''}
            data-eta-sec={c.etaSec === null ? '' : Math.round(c.etaSec)}
          >
            <td>{c.label}</td>
            <td>{STATE[c.state]}</td>
            <td data-field="lag">
              {num(c.lag)}
              {c.left !== null && c.lag !== null && c.left > c.lag && <span class="muted"> ({num(c.left)} left to send)</span>}
            </td>
            <td data-field="start-lag" title={c.startMs === null ? undefined : `since ${formatTime(c.startMs)}`}>
              {num(c.startLag)}
            </td>
            <td data-field="percent">
              {c.percentDone === null ? '–' : <progress max={100} value={c.percentDone} aria-label={`${c.label} done`} />}{' '}
              {c.percentDone === null ? '' : `${num(c.percentDone, 1)} %`}
            </td>
            <td data-field="rate">{c.drainPerSec === null ? '–' : `${num(c.drainPerSec, 1)} msg/s`}</td>
            <td data-field="eta">{estimate(c)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

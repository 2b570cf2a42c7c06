// Catch-up progress per flow (see catch-up.ts for what each number is computed from).
import type { CatchUp } from '../catch-up.ts';
import { formatDuration } from '../catch-up.ts';
import { formatTime } from '../time.ts';

const STATE: Record<CatchUp['state'], string> = {
  'caught-up': 'Caught up',
  'catching-up': 'Catching up',
  stalled: 'Not draining',
};

const num = (v: number, digits = 0) => v.toLocaleString(undefined, { maximumFractionDigits: digits });

function estimate(c: CatchUp): string {
  if (c.state === 'caught-up') return 'caught up';
  if (c.state === 'stalled') return 'nothing replicated in the last minutes';
  return c.etaSec === null ? '–' : `about ${formatDuration(c.etaSec)}`;
}

export function CatchUpTable({ items }: { items: (CatchUp & { label: string })[] }) {
  return (
    <table class="catch-up" aria-label="Catch-up progress">
      <thead>
        <tr>
          <th>Flow</th>
          <th>State</th>
          <th>Backlog at start</th>
          <th>Done</th>
          <th>Left</th>
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
            data-backlog={c.backlog}
            data-left={c.left}
            data-percent={c.percentDone}
            data-rate={c.drainPerSec ?? ''}
            data-eta-sec={c.etaSec === null ? '' : Math.round(c.etaSec)}
          >
            <td>{c.label}</td>
            <td>{STATE[c.state]}</td>
            <td data-field="backlog" title={`start offsets fixed ${formatTime(c.sinceMs)}`}>
              {num(c.backlog)}
            </td>
            <td data-field="percent">
              <progress max={100} value={c.percentDone} aria-label={`${c.label} done`} /> {num(c.percentDone, 1)} %
            </td>
            <td data-field="left">{num(c.left)}</td>
            <td data-field="rate">{c.drainPerSec === null ? '–' : `${num(c.drainPerSec, 1)} msg/s`}</td>
            <td data-field="eta">{estimate(c)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// A task's health: ok, degraded or stalled. In the task list the reason shows on hover or focus;
// on the task page (`detailed`) it is written out under the badge, with the time the state began.
import type { TaskView as Task } from '../../../shared/api/contract.ts';
import { formatTime } from '../time.ts';

const LABELS: Record<Task['health']['state'], string> = { ok: 'OK', degraded: 'Degraded', stalled: 'Stalled' };

export function HealthBadge({ task, detailed = false }: { task: Pick<Task, 'id' | 'health'>; detailed?: boolean }) {
  const { state, reason, since } = task.health;
  const tipId = `health-reason-${task.id}`;
  const hover = reason !== null && !detailed;
  return (
    <span class="status health" data-health={state}>
      <span class={`badge badge-health-${state}`} tabIndex={hover ? 0 : undefined} aria-describedby={hover ? tipId : undefined}>
        {LABELS[state] ?? state}
      </span>
      {hover && (
        <span class="tooltip" role="tooltip" id={tipId}>
          {reason}
        </span>
      )}
      {detailed && since && <span class="muted"> since {formatTime(since)}</span>}
      {detailed && reason && <span class="reason health-reason">{reason}</span>}
    </span>
  );
}

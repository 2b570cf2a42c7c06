// A task's status; when there is a reason (start_failed says why), hovering or focusing the badge
// shows it in a tooltip, as the spec's console does.
import type { TaskView as Task } from '../../../shared/api/contract.ts';

const LABELS: Record<Task['status'], string> = {
  initializing: 'Initializing',
  running: 'Running',
  stopping: 'Stopping',
  stopped: 'Stopped',
  start_failed: 'Start failed',
  deleting: 'Deleting',
};

export function StatusBadge({ task }: { task: Pick<Task, 'id' | 'status' | 'statusReason'> }) {
  const tipId = `status-reason-${task.id}`;
  const reason = task.statusReason;
  return (
    <span class="status" data-status={task.status}>
      <span class={`badge badge-${task.status}`} tabIndex={reason ? 0 : undefined} aria-describedby={reason ? tipId : undefined}>
        {LABELS[task.status] ?? task.status}
      </span>
      {reason && (
        <span class="tooltip" role="tooltip" id={tipId}>
          {reason}
        </span>
      )}
    </span>
  );
}

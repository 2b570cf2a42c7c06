// Which buttons a task allows, with the API's own reasons for refusing (TaskService): a running
// task cannot be edited, deleted or reset; only a stopped or failed task starts.
import { isActive } from '../../shared/tasks/model.ts';
import type { TaskView as Task } from '../../shared/api/contract.ts';

export type TaskAction = 'start' | 'stop' | 'edit' | 'reset' | 'delete';

/** null when allowed, otherwise why not. */
export function refusal(task: Pick<Task, 'status'>, action: TaskAction): string | null {
  const { status } = task;
  switch (action) {
    case 'start':
      return status === 'stopped' || status === 'stopping' || status === 'start_failed'
        ? null
        : `a task can be started only when stopped, stopping or start_failed (it is ${status})`;
    case 'stop':
      if (status === 'stopped') return 'the task is already stopped';
      if (status === 'stopping') return 'the task is already stopping';
      if (status === 'deleting') return 'the task is being deleted';
      return null;
    case 'edit':
      return isActive(task) ? 'a running task cannot be edited; stop it first' : null;
    case 'reset':
      if (status === 'stopping') return 'the task is stopping: reset it once it is stopped';
      return isActive(task) ? 'a running task cannot be reset to a new offset; stop it first' : null;
    case 'delete':
      return isActive(task) ? 'a running task cannot be deleted; stop it first' : null;
  }
}

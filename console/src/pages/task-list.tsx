// The task list: name, direction, source → target, status and health (reasons on hover) and the actions.
import { useCallback, useState } from 'preact/hooks';
import type { TaskView as Task } from '../../../shared/api/contract.ts';
import { tasksApi } from '../api.ts';
import { endpointAddress, endpointLabel } from '../components/endpoint.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TaskActions } from '../components/task-actions.tsx';
import { usePolling } from '../poll.ts';
import { onLinkClick } from '../router.ts';
import { formatTime } from '../time.ts';

export function TaskList() {
  const [tasks, setTasks] = useState<Task[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setTasks((await tasksApi.listTasks({ limit: 1000 })).items);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);
  usePolling(load, []);

  return (
    <section class="page">
      <header class="page-head">
        <h1>Replication tasks</h1>
        <a class="button primary" href="/tasks/new" onClick={onLinkClick}>
          New task
        </a>
      </header>
      {error && (
        <p class="banner" role="alert">
          {error}
        </p>
      )}
      {tasks === null ? (
        <p class="muted">Loading…</p>
      ) : tasks.length === 0 ? (
        <p class="muted">No tasks yet. Create one to replicate messages and metadata between two clusters.</p>
      ) : (
        <table class="tasks" aria-label="Tasks">
          <thead>
            <tr>
              <th>Name</th>
              <th>Direction</th>
              <th>Source → target</th>
              <th>Status</th>
              <th>Health</th>
              <th>Created</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.id} data-task-id={t.id} data-task-name={t.name}>
                <td>
                  <a href={`/tasks/${t.id}`} onClick={onLinkClick}>
                    {t.name}
                  </a>
                </td>
                <td>{t.direction === 'two-way' ? 'Two-way' : 'One-way'}</td>
                <td>
                  <span title={endpointAddress(t.source)}>{endpointLabel(t.source)}</span>
                  {t.direction === 'two-way' ? ' ⇄ ' : ' → '}
                  <span title={endpointAddress(t.target)}>{endpointLabel(t.target)}</span>
                </td>
                <td>
                  <StatusBadge task={t} />
                </td>
                <td>
                  <HealthBadge task={t} />
                </td>
                <td>{formatTime(t.createdAt)}</td>
                <td>
                  <TaskActions task={t} onChanged={() => void load()} onDeleted={() => void load()} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

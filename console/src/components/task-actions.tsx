// Start / stop / edit (rename) / reset offset / delete for one task, enabled by the same guards as
// the API, with the API's refusal shown when a click races a status change.
import { useState } from 'preact/hooks';
import { RenameInput, ResetOffsetInput } from '../../../shared/tasks/schema.ts';
import { describeIssue } from '../../../shared/tasks/issue.ts';
import type { TaskView as Task } from '../../../shared/api/contract.ts';
import { ApiError, tasksApi } from '../api.ts';
import { refusal, type TaskAction } from '../guards.ts';
import { fromLocalInput, toLocalInput } from '../time.ts';
import { Dialog } from './dialog.tsx';

type Open = null | 'edit' | 'reset' | 'delete';

export function TaskActions(props: { task: Task; onChanged: () => void; onDeleted: () => void }) {
  const { task } = props;
  const [open, setOpen] = useState<Open>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (call: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await call();
      props.onChanged();
      return true;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const button = (action: TaskAction, label: string, onClick: () => void, cls = '') => {
    const why = refusal(task, action);
    return (
      <button type="button" class={cls} data-action={action} disabled={busy || why !== null} title={why ?? label} onClick={onClick}>
        {label}
      </button>
    );
  };

  return (
    <span class="actions">
      {button('start', 'Start', () => void run(() => tasksApi.startTask(task.id)))}
      {button('stop', 'Stop', () => void run(() => tasksApi.stopTask(task.id)))}
      {button('edit', 'Edit', () => setOpen('edit'))}
      {button('reset', 'Reset offset', () => setOpen('reset'))}
      {button('delete', 'Delete', () => setOpen('delete'), 'danger')}
      {error && (
        <span class="action-error" role="alert">
          {error}
        </span>
      )}
      {open === 'edit' && <RenameDialog task={task} onClose={() => setOpen(null)} onDone={props.onChanged} />}
      {open === 'reset' && <ResetDialog task={task} onClose={() => setOpen(null)} onDone={props.onChanged} />}
      {open === 'delete' && (
        <Dialog title={`Delete ${task.name}?`} onClose={() => setOpen(null)}>
          <p>
            Replication stops and the task's configuration is removed. Later metadata changes (topics, groups, users) in the source cluster
            are no longer copied to the target.
          </p>
          <div class="dialog-buttons">
            <button type="button" onClick={() => setOpen(null)}>
              Cancel
            </button>
            <button
              type="button"
              class="danger"
              data-action="confirm-delete"
              disabled={busy}
              onClick={async () => {
                setOpen(null);
                if (await run(() => tasksApi.deleteTask(task.id))) props.onDeleted();
              }}
            >
              Delete
            </button>
          </div>
        </Dialog>
      )}
    </span>
  );
}

/** One field's problem as the API words it: the schema's first issue, else the API's answer. */
function schemaProblem(schema: typeof RenameInput | typeof ResetOffsetInput, body: unknown): string | null {
  const r = schema.safeParse(body);
  return r.success ? null : describeIssue(r.error.issues[0]!).message;
}

function RenameDialog(props: { task: Task; onClose: () => void; onDone: () => void }) {
  const [name, setName] = useState(props.task.name);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const body = { name, version: props.task.version };
    const local = schemaProblem(RenameInput, body);
    if (local) return setProblem(local);
    setBusy(true);
    try {
      await tasksApi.renameTask(props.task.id, name, props.task.version);
      props.onClose();
      props.onDone();
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Edit task" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <p class="hint">Only the name can be changed after creation.</p>
        <label for="rename-name">Task name</label>
        <input
          id="rename-name"
          name="name"
          value={name}
          onInput={(e) => {
            setName(e.currentTarget.value);
            setProblem(null);
          }}
          aria-invalid={problem !== null}
        />
        {problem && (
          <p class="field-error" role="alert" data-field="name">
            {problem}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ResetDialog(props: { task: Task; onClose: () => void; onDone: () => void }) {
  const [value, setValue] = useState(toLocalInput(Date.now() - 3_600_000));
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const timestamp = fromLocalInput(value);
    const local = schemaProblem(ResetOffsetInput, { timestamp });
    if (local || timestamp === undefined) return setProblem(local ?? 'timestamp: timestamp must be milliseconds since the epoch');
    setBusy(true);
    try {
      await tasksApi.resetOffset(props.task.id, timestamp);
      props.onClose();
      props.onDone();
    } catch (err) {
      setProblem(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title="Reset consumer offset" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <p class="hint">When the task starts again, replication restarts from the first message stored at or after this time.</p>
        <label for="reset-time">Replicate again from</label>
        <input
          id="reset-time"
          name="timestamp"
          type="datetime-local"
          step={1}
          value={value}
          onInput={(e) => {
            setValue(e.currentTarget.value);
            setProblem(null);
          }}
        />
        {problem && (
          <p class="field-error" role="alert" data-field="timestamp">
            {problem}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy} data-action="confirm-reset">
            Reset offset
          </button>
        </div>
      </form>
    </Dialog>
  );
}

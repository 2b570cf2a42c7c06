// The task page's failover card: the action (with a confirmation that says what each mode does) and
// the last failover's progress as GET /v1/tasks/{id} reports it (the reconciler carries it out).
import { useState } from 'preact/hooks';
import type { TaskView as Task } from '../../../shared/api/contract.ts';
import { tasksApi } from '../api.ts';
import { onLinkClick } from '../router.ts';
import { formatTime } from '../time.ts';
import { Dialog } from './dialog.tsx';

type Mode = 'planned' | 'unplanned';

const MODES: Record<Mode, string> = {
  planned:
    'Waits until every queue is copied (lag 0 against the source ends at this moment; stop your producers first), ' +
    'translates consumer offsets a last time, then stops the task.',
  unplanned:
    'Stops the task now, translates consumer offsets from what is known, and reports per queue how many messages may be ' +
    'missing on the target.',
};

/** Why the action is not offered now, or null. */
function refusal(task: Task, mode: Mode): string | null {
  const f = task.failover;
  if (f && f.state !== 'done' && f.state !== 'failed') return `a ${f.mode} failover is already ${f.state}`;
  if (task.status === 'deleting') return 'the task is being deleted';
  if (mode === 'planned' && task.status !== 'running') return `a planned failover needs a running task (it is ${task.status})`;
  return null;
}

type View = NonNullable<Task['failover']>;
const delayedText = (d: NonNullable<View['delayed']>) =>
  `${d.carried} carried${d.failed ? `, ${d.failed} not carried` : ''}${d.note ? ` (${d.note})` : ''}`;
const lossText = (l: NonNullable<View['possibleLoss']>) => `${l.total} messages${l.queues.length ? ` in ${l.queues.length} queues` : ''}`;
const offsetsText = (o: NonNullable<View['offsets']>) =>
  `${o.synced} synced, ${o.skipped} skipped, ${o.noMapping} without mapping, ${o.failed} failed`;

export function Failover({ task, onChanged }: { task: Task; onChanged: () => void }) {
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<Mode>(task.status === 'running' ? 'planned' : 'unplanned');
  const [reverse, setReverse] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const f = task.failover;
  const twoWay = task.direction === 'two-way';
  const why = refusal(task, 'unplanned');

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await tasksApi.failover(task.id, { mode, reverse: reverse && !twoWay });
      setOpen(false);
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="failover">
      <header class="card-head">
        <h2 id="failover">Failover</h2>
        <button
          type="button"
          class="danger"
          data-action="failover"
          disabled={busy || why !== null}
          title={why ?? 'Fail over'}
          onClick={() => setOpen(true)}
        >
          Fail over…
        </button>
      </header>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
      {f ? (
        <dl class="failover" data-failover-state={f.state}>
          <dt>Mode</dt>
          <dd>{`${f.mode}${f.reverse ? ', with the reverse task' : ''}`}</dd>
          <dt>State</dt>
          <dd>{f.state}</dd>
          <dt>Started</dt>
          <dd>{formatTime(f.startedAt)}</dd>
          <dt>Finished</dt>
          <dd>{f.finishedAt ? formatTime(f.finishedAt) : '-'}</dd>
          {f.mode === 'planned' && (
            <>
              <dt>Lag</dt>
              <dd>{f.lag === null ? '-' : `${f.lag} of ${f.lagAtStart ?? '?'} at the start`}</dd>
            </>
          )}
          {f.possibleLoss && (
            <>
              <dt>Possibly missing on the target</dt>
              <dd>{lossText(f.possibleLoss)}</dd>
            </>
          )}
          {f.offsets && (
            <>
              <dt>Consumer offsets</dt>
              <dd>{offsetsText(f.offsets)}</dd>
            </>
          )}
          {f.delayed && (
            <>
              <dt>Delayed messages carried</dt>
              <dd>{delayedText(f.delayed)}</dd>
            </>
          )}
          {f.reverseTaskId && (
            <>
              <dt>Reverse task</dt>
              <dd>
                <a href={`/tasks/${f.reverseTaskId}`} onClick={onLinkClick}>
                  {f.reverseTaskId}
                </a>
              </dd>
            </>
          )}
          {f.reason && (
            <>
              <dt>Reason</dt>
              <dd>{f.reason}</dd>
            </>
          )}
        </dl>
      ) : (
        <p class="muted">This task has not failed over.</p>
      )}
      {f?.possibleLoss && f.possibleLoss.queues.length > 0 && (
        <table class="metadata" aria-label="Possibly missing messages">
          <thead>
            <tr>
              <th>Flow</th>
              <th>Topic</th>
              <th>Queue</th>
              <th>Source end</th>
              <th>Replicated</th>
              <th>Missing</th>
            </tr>
          </thead>
          <tbody>
            {f.possibleLoss.queues.slice(0, 500).map((q) => (
              <tr key={`${q.flow}/${q.topic}/${q.broker}/${q.queueId}`}>
                <td>{q.flow}</td>
                <td>{q.topic}</td>
                <td>{`${q.broker}/${q.queueId}`}</td>
                <td>{q.sourceEnd}</td>
                <td>{q.replicated}</td>
                <td>{q.missing}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && (
        <Dialog title={`Fail over ${task.name}?`} onClose={() => setOpen(false)}>
          <fieldset>
            <legend>Mode</legend>
            {(['planned', 'unplanned'] as const).map((m) => (
              <label key={m}>
                <input
                  type="radio"
                  name="failover-mode"
                  value={m}
                  checked={mode === m}
                  disabled={refusal(task, m) !== null}
                  onChange={() => setMode(m)}
                />{' '}
                {m}: {MODES[m]}
              </label>
            ))}
          </fieldset>
          <label>
            <input
              type="checkbox"
              name="reverse"
              checked={reverse && !twoWay}
              disabled={twoWay}
              onChange={(e) => setReverse(e.currentTarget.checked)}
            />{' '}
            {twoWay
              ? 'Reverse: not for a two-way task (it already copies both ways)'
              : 'Then create and start the task that copies the target back to the source (failback), from the target’s end'}
          </label>
          <div class="dialog-buttons">
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button
              type="button"
              class="danger"
              data-action="confirm-failover"
              disabled={busy || refusal(task, mode) !== null}
              onClick={() => void submit()}
            >
              Fail over
            </button>
          </div>
        </Dialog>
      )}
    </section>
  );
}

// What a task would take, shown in the create form before it is submitted (POST /v1/tasks/preview):
// per flow, the topics selected and not selected with the reason, then the consumer groups.
import type { TaskPreview } from '../../../shared/api/contract.ts';

type Flow = TaskPreview['flows'][number];

export function TaskPreviewPanel(props: { preview: TaskPreview }) {
  return (
    <section class="task-preview" aria-label="Preview">
      <h2>Preview</h2>
      {props.preview.flows.map((f) => (
        <FlowPreview flow={f} />
      ))}
    </section>
  );
}

function FlowPreview({ flow }: { flow: Flow }) {
  const selected = flow.topics.filter((t) => t.selected);
  const skipped = flow.topics.filter((t) => !t.selected);
  const groups = flow.groups.filter((g) => g.selected).length;
  return (
    <div class="preview-flow" data-flow={flow.flow}>
      <h3>{flow.flow}</h3>
      <p class="preview-counts">
        {selected.length} of {flow.topics.length} topics selected · {groups} of {flow.groups.length} consumer groups selected
      </p>
      <table class="preview-topics">
        <thead>
          <tr>
            <th>Topic</th>
            <th>Queues</th>
            <th>Selected</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {[...selected, ...skipped].map((t) => (
            <tr data-topic={t.name} data-selected={String(t.selected)} class={t.selected ? 'selected' : 'unselected'}>
              <td>{t.name}</td>
              <td>{t.queues}</td>
              <td>{t.selected ? 'yes' : 'no'}</td>
              <td>{t.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {flow.groupsError ? (
        <p class="hint">Consumer groups: {flow.groupsError}</p>
      ) : (
        <details class="preview-groups">
          <summary>Consumer groups</summary>
          <ul>
            {flow.groups.map((g) => (
              <li data-group={g.name} data-selected={String(g.selected)}>
                {g.name}: {g.selected ? 'selected' : 'not selected'} ({g.reason})
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

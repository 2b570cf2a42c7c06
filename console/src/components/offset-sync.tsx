// The task page's consumer offset table: per flow, group and source queue, the group's commit on the
// source and where it stands on the target, with why (synced, skipped-active-consumers, no-mapping-yet, failed).
import { useState } from 'preact/hooks';
import type { OffsetSyncItemView } from '../../../shared/api/contract.ts';
import { formatTime } from '../time.ts';

const SHOWN = 500;

export function OffsetSync({ items }: { items: OffsetSyncItemView[] }) {
  const [filter, setFilter] = useState('');
  const shown = items.filter((i) => i.group.toLowerCase().includes(filter.toLowerCase()));
  const groups = new Set(items.map((i) => i.group)).size;
  const count = (s: OffsetSyncItemView['status']) => items.filter((i) => i.status === s).length;
  return (
    <section class="card" aria-labelledby="offsets">
      <header class="card-head">
        <h2 id="offsets">Consumer offsets</h2>
        <input
          type="search"
          placeholder="Filter by group"
          aria-label="Filter consumer offsets by group"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      </header>
      <p class="muted">
        Committed offsets translated to the target: {groups} group{groups === 1 ? '' : 's'}, {count('synced')} queues synced,{' '}
        {count('skipped-active-consumers')} skipped (consumers online on the target), {count('no-mapping-yet')} without a mapping yet,{' '}
        {count('failed')} failed.
      </p>
      <table class="metadata" aria-label="Consumer offsets">
        <thead>
          <tr>
            <th>Flow</th>
            <th>Group</th>
            <th>Topic</th>
            <th>Source queue</th>
            <th>Source offset</th>
            <th>Target queue</th>
            <th>Target offset</th>
            <th>Status</th>
            <th>Synced</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, SHOWN).map((i) => (
            <tr
              key={`${i.flow}/${i.group}/${i.topic}/${i.broker}/${i.queueId}`}
              data-group={i.group}
              data-status={i.status}
              title={i.error ?? undefined}
            >
              <td>{i.flow}</td>
              <td>{i.group}</td>
              <td>{i.topic}</td>
              <td>
                {i.broker}/{i.queueId}
              </td>
              <td>{i.sourceOffset}</td>
              <td>{i.targetBroker === null ? '' : `${i.targetBroker}/${i.targetQueueId}`}</td>
              <td>{i.targetOffset ?? ''}</td>
              <td class={i.status === 'failed' ? 'md-failed' : undefined}>{i.status}</td>
              <td>{formatTime(i.syncedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length > SHOWN && (
        <p class="muted">
          Showing {SHOWN} of {shown.length}; filter by group to narrow.
        </p>
      )}
    </section>
  );
}

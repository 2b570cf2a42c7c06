// One task: basic information with the actions, the configuration (secrets masked as the API
// returns them), charts per flow, the metadata sync items, consumer offsets, parked failures with retry, the audit trail.
import { useCallback, useRef, useState } from 'preact/hooks';
import type {
  AuditEventView,
  TaskDetails as Details,
  MetadataItemView,
  MetricsPoint,
  MetricsSeries,
  OffsetSyncItemView,
  ParkedMessageView,
} from '../../../shared/api/contract.ts';
import { ApiError, tasksApi } from '../api.ts';
import { catchUpOf } from '../catch-up.ts';
import { CatchUpTable } from '../components/catch-up.tsx';
import { Chart } from '../components/chart.tsx';
import { EndpointDetails } from '../components/endpoint.tsx';
import { HealthBadge } from '../components/health-badge.tsx';
import { Failover } from '../components/failover.tsx';
import { OffsetSync } from '../components/offset-sync.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { TaskActions } from '../components/task-actions.tsx';
import { flowsOf, seriesOf, type MetricKey } from '../metrics-series.ts';
import { usePolling } from '../poll.ts';
import { navigate, onLinkClick } from '../router.ts';
import { formatTime } from '../time.ts';
import { bucketed, DEFAULT_RANGE, mergeTail, RANGES, rangeOf, requestFor, stepsOf, type TimeRange } from '../time-range.ts';

const CHARTS: { metric: MetricKey; title: string; unit?: string }[] = [
  { metric: 'consumed', title: 'Source messages consumed' },
  { metric: 'replicated', title: 'Messages replicated' },
  { metric: 'failed', title: 'Replication failures' },
  { metric: 'delayP99Ms', title: 'Sync delay p99', unit: 'ms' },
  { metric: 'lag', title: 'Lag (messages behind)', unit: 'msgs' },
];

export function TaskDetails({ id }: { id: string }) {
  const [task, setTask] = useState<Details | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [metrics, setMetrics] = useState<MetricsSeries | null>(null);
  const [metadata, setMetadata] = useState<MetadataItemView[]>([]);
  const [offsets, setOffsets] = useState<OffsetSyncItemView[]>([]);
  const [failures, setFailures] = useState<ParkedMessageView[]>([]);
  const [events, setEvents] = useState<AuditEventView[]>([]);
  const [rangeKey, setRangeKey] = useState(DEFAULT_RANGE.key);
  // Rows of the selected range fetched so far: a refresh asks only for the newest minutes.
  const cache = useRef<{ id: string; key: string; fetchedTo: number; points: MetricsPoint[] } | null>(null);
  const shownRange = useRef(rangeKey);
  shownRange.current = rangeKey;

  const loadMetrics = useCallback(async (): Promise<MetricsSeries | null> => {
    const now = Date.now();
    const range = rangeOf(rangeKey);
    const q = requestFor(range, now, cache.current?.id === id ? cache.current : null);
    const m = await tasksApi.metrics(id, { from: q.from, to: q.to });
    if (shownRange.current !== range.key) return null; // the range changed meanwhile
    const points = q.tail && cache.current ? mergeTail(cache.current.points, m.points, q.from, now - range.ms) : m.points;
    cache.current = { id, key: range.key, fetchedTo: m.to, points };
    return { from: now - range.ms, to: now, stepMs: range.stepMs, points };
  }, [id, rangeKey]);

  const load = useCallback(async () => {
    const [t, m, md, f, ev, os] = await Promise.allSettled([
      tasksApi.getTask(id),
      loadMetrics(),
      tasksApi.metadata(id),
      tasksApi.failures(id),
      tasksApi.events(id),
      tasksApi.offsets(id),
    ]);
    if (t.status === 'rejected') {
      if (t.reason instanceof ApiError && t.reason.status === 404) setMissing(true);
      else setError(t.reason instanceof Error ? t.reason.message : String(t.reason));
      return;
    }
    setTask(t.value);
    setError(null);
    if (m.status === 'fulfilled' && m.value) setMetrics(m.value);
    if (md.status === 'fulfilled') setMetadata(md.value.items);
    if (f.status === 'fulfilled') setFailures(f.value.items);
    if (ev.status === 'fulfilled') setEvents(ev.value.items);
    if (os.status === 'fulfilled') setOffsets(os.value.items);
  }, [id, loadMetrics]);
  usePolling(load, [id, rangeKey]);

  if (missing) {
    return (
      <section class="page">
        <h1>Task not found</h1>
        <p>
          <a href="/" onClick={onLinkClick}>
            Back to tasks
          </a>
        </p>
      </section>
    );
  }
  if (!task)
    return (
      <section class="page">
        {error ? (
          <p class="banner" role="alert">
            {error}
          </p>
        ) : (
          <p class="muted">Loading…</p>
        )}
      </section>
    );

  return (
    <section class="page" data-task-id={task.id}>
      <header class="page-head">
        <h1>{task.name}</h1>
        <a href="/" onClick={onLinkClick}>
          Back to tasks
        </a>
      </header>
      {error && (
        <p class="banner" role="alert">
          {error}
        </p>
      )}
      <BasicInfo task={task} onChanged={() => void load()} />
      <Configuration task={task} />
      <Monitoring task={task} metrics={metrics} range={rangeOf(rangeKey)} onRange={setRangeKey} />
      <MetadataSync items={metadata} />
      <OffsetSync items={offsets} />
      <Failover task={task} onChanged={() => void load()} />
      <Failures taskId={task.id} items={failures} onChanged={() => void load()} />
      <AuditTrail items={events} />
    </section>
  );
}

function BasicInfo({ task, onChanged }: { task: Details; onChanged: () => void }) {
  return (
    <section class="card" aria-labelledby="basic-info">
      <header class="card-head">
        <h2 id="basic-info">Basic information</h2>
        <TaskActions task={task} onChanged={onChanged} onDeleted={() => navigate('/')} />
      </header>
      <dl class="kv">
        <dt>Task ID</dt>
        <dd>
          <code>{task.id}</code>
        </dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge task={task} />
          {task.statusReason && <span class="reason status-reason">{task.statusReason}</span>}
        </dd>
        <dt>Health</dt>
        <dd>
          <HealthBadge task={task} detailed />
        </dd>
        <dt>Direction</dt>
        <dd>{task.direction === 'two-way' ? 'Two-way' : 'One-way'}</dd>
        <dt>Created</dt>
        <dd>{formatTime(task.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(task.updatedAt)}</dd>
        {task.pendingReset && (
          <>
            <dt>Pending offset reset</dt>
            <dd data-pending-reset={task.pendingReset.timestamp}>
              from {formatTime(task.pendingReset.timestamp)}, applied at the next start
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

function Configuration({ task }: { task: Details }) {
  const so = task.startOffset;
  const { topics, expression } = task.filter;
  return (
    <section class="card" aria-labelledby="configuration">
      <h2 id="configuration">Configuration</h2>
      <div class="sides">
        <div>
          <h3>Source cluster</h3>
          <EndpointDetails e={task.source} />
        </div>
        <div>
          <h3>Target cluster</h3>
          <EndpointDetails e={task.target} />
        </div>
      </div>
      <h3>Replication</h3>
      <dl class="kv">
        <dt>Start offset</dt>
        <dd>{so.type === 'timestamp' ? `from ${formatTime(so.timestamp)}` : so.type}</dd>
        <dt>Topics included</dt>
        <dd>
          <code>{topics.include.join('  ') || '(none)'}</code>
        </dd>
        <dt>Topics excluded</dt>
        <dd>
          <code>{topics.exclude.join('  ') || '(none)'}</code>
        </dd>
        <dt>{expression.type === 'SQL92' ? 'SQL92 filter' : 'Tag filter'}</dt>
        <dd>
          <code>{expression.value}</code>
        </dd>
        <dt>TPS limit</dt>
        <dd>{task.tpsLimit ?? 'none'}</dd>
        <dt>Idempotent resume</dt>
        <dd>{task.idempotentResume ? 'on' : 'off'}</dd>
      </dl>
    </section>
  );
}

function Monitoring(props: { task: Details; metrics: MetricsSeries | null; range: TimeRange; onRange: (key: string) => void }) {
  const { task, metrics, range } = props;
  const points = metrics?.points ?? [];
  const flows = flowsOf(task, points);
  const x = metrics ? stepsOf(metrics.from, metrics.to, metrics.stepMs) : [];
  const shown = metrics ? bucketed(points, metrics.stepMs) : [];
  const now = metrics?.to ?? Date.now();
  const labels = new Map(flows.map((f) => [f.id, f.label]));
  // Shown while a flow drains the backlog of its last start or reset, and after one within the range.
  const catchUp = task.catchUp
    .filter((c) => c.backlog > 0 && (c.left > 0 || c.sinceMs >= now - range.ms))
    .map((c) => ({ ...catchUpOf(c, points, { now }), label: labels.get(c.flow) ?? c.flow }));
  const step = range.stepMs === 60_000 ? 'minute' : range.stepMs === 3_600_000 ? 'hour' : `${range.stepMs / 60_000} minutes`;
  return (
    <section class="card" aria-labelledby="monitoring">
      <header class="card-head">
        <h2 id="monitoring">Monitoring</h2>
        <fieldset class="range" aria-label="Time range">
          {RANGES.map((r) => (
            <button type="button" key={r.key} data-range={r.key} aria-pressed={r.key === range.key} onClick={() => props.onRange(r.key)}>
              {r.label}
            </button>
          ))}
        </fieldset>
      </header>
      <p class="muted">
        Per {step} over the last {range.label}, one line per flow; refreshed every few seconds.
      </p>
      {catchUp.length > 0 && <CatchUpTable items={catchUp} />}
      {task.summary.length > 0 && (
        <table class="summary">
          <thead>
            <tr>
              <th>Flow</th>
              <th>Replicated (latest minute)</th>
              <th>Failures</th>
              <th>Lag</th>
              <th>Delay p99</th>
            </tr>
          </thead>
          <tbody>
            {task.summary.map((s) => (
              <tr>
                <td>{flows.find((f) => f.id === s.flow)?.label ?? s.flow}</td>
                <td>{s.replicated}</td>
                <td>{s.failed}</td>
                <td>{s.lag ?? '–'}</td>
                <td>{s.delayP99Ms === null ? '–' : `${s.delayP99Ms} ms`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="charts">
        {CHARTS.map((c) => (
          <Chart
            key={c.metric}
            metric={c.metric}
            title={c.title}
            unit={c.unit}
            period={`the last ${range.label}`}
            x={x}
            series={seriesOf(c.metric, x, flows, shown)}
          />
        ))}
      </div>
    </section>
  );
}

function MetadataSync({ items }: { items: MetadataItemView[] }) {
  const [filter, setFilter] = useState('');
  const shown = items.filter((i) => i.name.toLowerCase().includes(filter.toLowerCase()));
  return (
    <section class="card" aria-labelledby="metadata">
      <header class="card-head">
        <h2 id="metadata">Metadata sync</h2>
        <input
          type="search"
          placeholder="Filter by name"
          aria-label="Filter metadata by name"
          value={filter}
          onInput={(e) => setFilter(e.currentTarget.value)}
        />
      </header>
      <p class="muted">
        Topics, consumer groups and ACL users/accounts copied between the clusters: {items.length} item{items.length === 1 ? '' : 's'},{' '}
        {items.filter((i) => i.status === 'failed').length} failed.
      </p>
      <table class="metadata" aria-label="Metadata sync items">
        <thead>
          <tr>
            <th>Kind</th>
            <th>Name</th>
            <th>Direction</th>
            <th>Action</th>
            <th>Status</th>
            <th>Error</th>
            <th>Synced</th>
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, 500).map((i) => (
            <tr key={`${i.kind}/${i.name}/${i.direction}`} data-kind={i.kind} data-name={i.name} data-status={i.status}>
              <td>{i.kind}</td>
              <td>{i.name}</td>
              <td>{i.direction === 'source_to_target' ? 'source → target' : 'target → source'}</td>
              <td>{i.action}</td>
              <td class={`md-${i.status}`}>{i.status}</td>
              <td>{i.error ?? ''}</td>
              <td>{formatTime(i.syncedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length > 500 && <p class="muted">Showing 500 of {shown.length}; filter by name to narrow.</p>}
    </section>
  );
}

function Failures({ taskId, items, onChanged }: { taskId: string; items: ParkedMessageView[]; onChanged: () => void }) {
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const retry = async () => {
    setBusy(true);
    try {
      const r = await tasksApi.retryFailures(taskId);
      setNote(`${r.requested} message${r.requested === 1 ? '' : 's'} queued to be sent again`);
      onChanged();
    } catch (err) {
      setNote(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="failures">
      <header class="card-head">
        <h2 id="failures">Parked failures</h2>
        <button type="button" data-action="retry-failures" disabled={busy || items.length === 0} onClick={() => void retry()}>
          Retry
        </button>
      </header>
      {note && <p role="status">{note}</p>}
      {items.length === 0 ? (
        <p class="muted">No parked messages.</p>
      ) : (
        <table aria-label="Parked messages">
          <thead>
            <tr>
              <th>Topic</th>
              <th>Queue</th>
              <th>Offset</th>
              <th>Reason</th>
              <th>Size</th>
              <th>Parked</th>
              <th>Retry</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.id}>
                <td>{m.topic}</td>
                <td>
                  {m.broker}/{m.queueId}
                </td>
                <td>{m.queueOffset}</td>
                <td>{m.reason}</td>
                <td>{m.payloadSize} B</td>
                <td>{formatTime(m.parkedAt)}</td>
                <td>{m.retryRequestedAt ? `requested ${formatTime(m.retryRequestedAt)}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** What an audit event changed, in a line: "status: running → stopped". */
function changes(before: unknown, after: unknown): string {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const keys = ['name', 'status', 'statusReason', 'desiredState', 'pendingReset', 'requested'];
  const show = (v: unknown) => (v === null || v === undefined ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const shown = keys
    .filter((k) => (k in a || k in b) && JSON.stringify(a[k]) !== JSON.stringify(b[k]) && !(a[k] === null && !(k in b)))
    .map((k) => (k in b ? `${k}: ${show(b[k])} → ${show(a[k])}` : `${k}: ${show(a[k])}`));
  // An edit names the fields it changed (secrets by name only).
  const edited = Array.isArray(a.changedFields) ? a.changedFields.filter((f) => typeof f === 'string' && !keys.includes(f)) : [];
  return [...shown, ...(edited.length ? [`changed: ${edited.join(', ')}`] : [])].join('; ');
}

function AuditTrail({ items }: { items: AuditEventView[] }) {
  return (
    <section class="card" aria-labelledby="audit">
      <h2 id="audit">Audit trail</h2>
      <table aria-label="Audit trail">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>What</th>
            <th>Change</th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-action={e.action}>
              <td>{formatTime(e.at)}</td>
              <td>{e.actorLabel ? `${e.actor} (${e.actorLabel})` : e.actor}</td>
              <td>{e.action}</td>
              <td>{changes(e.before, e.after)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

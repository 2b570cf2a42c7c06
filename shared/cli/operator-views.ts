// What `ferry` prints for failures, metadata, events and tokens, and the wide task table
// (`-o wide`): tables for people; -o json / yaml print the API objects instead.
import type { AuditEventView, MetadataItemView, ParkedMessageView, TaskView, TokenIssued, TokenView } from '../api/contract.ts';
import { dash, table, time } from './format.ts';

/** One line of free text in a table cell: the first line, cut at `max` characters. */
const cell = (s: string | null, max = 80): string => {
  if (s === null || s === '') return '-';
  const line = s.split('\n')[0]!;
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export function failuresTable(items: ParkedMessageView[], wide = false): string {
  if (items.length === 0) return 'No parked messages.\n';
  const state = (m: ParkedMessageView) => (m.resolvedAt ? 'resolved' : m.retryRequestedAt ? 'retry requested' : 'parked');
  const base = (m: ParkedMessageView) => [
    String(m.id),
    m.flow,
    m.topic,
    String(m.queueId),
    String(m.queueOffset),
    state(m),
    time(m.parkedAt),
  ];
  if (!wide)
    return table(
      ['ID', 'FLOW', 'TOPIC', 'QUEUE', 'OFFSET', 'STATE', 'PARKED', 'REASON'],
      items.map((m) => [...base(m), cell(m.reason, 60)]),
    );
  return table(
    [
      'ID',
      'FLOW',
      'TOPIC',
      'QUEUE',
      'OFFSET',
      'STATE',
      'PARKED',
      'BROKER',
      'BYTES',
      'KEYS',
      'TAGS',
      'RETRY REQUESTED',
      'RESOLVED',
      'REASON',
    ],
    items.map((m) => [
      ...base(m),
      m.broker,
      String(m.payloadSize),
      dash(m.properties.KEYS),
      dash(m.properties.TAGS),
      m.retryRequestedAt ? time(m.retryRequestedAt) : '-',
      m.resolvedAt ? time(m.resolvedAt) : '-',
      cell(m.reason, 200),
    ]),
  );
}

export function metadataTable(items: MetadataItemView[]): string {
  if (items.length === 0) return 'No metadata synced yet.\n';
  return table(
    ['KIND', 'NAME', 'DIRECTION', 'ACTION', 'STATUS', 'SYNCED', 'ERROR'],
    items.map((i) => [i.kind, i.name, i.direction, i.action, i.status, time(i.syncedAt), cell(i.error)]),
  );
}

/**
 * The fields an event changed: what an edit lists in `after.changedFields` (secrets named, never
 * shown), otherwise the top-level keys whose values differ between before and after.
 */
function changedFields(e: AuditEventView): string {
  const obj = (v: unknown): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const before = obj(e.before);
  const after = obj(e.after);
  const listed = after.changedFields;
  if (Array.isArray(listed) && listed.every((f) => typeof f === 'string')) return listed.length ? listed.join(', ') : '-';
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]) && !['updatedAt', 'version'].includes(k),
  );
  return keys.length ? keys.join(', ') : '-';
}

export function eventsTable(items: AuditEventView[], wide = false): string {
  if (items.length === 0) return 'No events.\n';
  if (!wide)
    return table(
      ['AT', 'ACTOR', 'ACTION'],
      items.map((e) => [time(e.at), actorName(e), e.action]),
    );
  return table(
    ['ID', 'AT', 'ACTOR', 'ACTION', 'CHANGED'],
    items.map((e) => [String(e.id), time(e.at), actorName(e), e.action, changedFields(e)]),
  );
}

/** `token:<id> (label)` for a token, the system name otherwise. */
const actorName = (e: AuditEventView): string => (e.actorLabel ? `${e.actor} (${e.actorLabel})` : e.actor);

export function tokensTable(items: TokenView[]): string {
  if (items.length === 0) return 'No tokens.\n';
  return table(
    ['ID', 'LABEL', 'ROLE', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'],
    items.map((t) => [
      t.id,
      t.label,
      t.role,
      time(t.createdAt),
      t.expiresAt ? time(t.expiresAt) : '-',
      t.lastUsedAt ? time(t.lastUsedAt) : '-',
      t.revokedAt ? time(t.revokedAt) : '-',
    ]),
  );
}

/** The new token, shown this once: on its own line so it can be copied (or read by `-o json`). */
export function tokenIssued(t: TokenIssued): string {
  return `Created ${t.role} token ${t.id} (${t.label}) in tenant ${t.tenant}. It is shown only now:\n${t.token}\n`;
}

/** `tasks list -o wide`: the table plus sizing, filter and version columns. */
export function taskWideTable(tasks: TaskView[]): string {
  return table(
    [
      'ID',
      'NAME',
      'STATUS',
      'HEALTH',
      'DESIRED',
      'DIRECTION',
      'SOURCE',
      'TARGET',
      'TOPICS',
      'SHARDS',
      'TPS',
      'VERSION',
      'CREATED',
      'UPDATED',
      'REASON',
    ],
    tasks.map((t) => [
      t.id,
      t.name,
      t.status,
      t.health.state,
      t.desiredState,
      t.direction,
      t.source.clusterId,
      t.target.clusterId,
      t.filter.topics.include.join(',') + (t.filter.topics.exclude.length ? ` -${t.filter.topics.exclude.join(',-')}` : ''),
      String(t.shards),
      t.tpsLimit === null ? '-' : String(t.tpsLimit),
      String(t.version),
      time(t.createdAt),
      time(t.updatedAt),
      dash(t.statusReason ?? t.health.reason),
    ]),
  );
}

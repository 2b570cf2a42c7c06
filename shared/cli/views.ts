// What `ferry` prints for people. Scripts use --json instead, which prints the API's objects as they are.
import type { EndpointView, MetricsPoint, MetricsSeries, OffsetSyncItemView, TaskDetails, TaskPreview, TaskView } from '../api/contract.ts';
import { failoverText } from './failover-command.ts';
import { dash, keyValues, ms, table, time } from './format.ts';

export function taskTable(tasks: TaskView[]): string {
  return table(
    ['ID', 'NAME', 'STATUS', 'DIRECTION', 'SOURCE', 'TARGET', 'UPDATED', 'HEALTH', 'REASON'],
    tasks.map((t) => [
      t.id,
      t.name,
      t.status,
      t.direction,
      t.source.clusterId,
      t.target.clusterId,
      time(t.updatedAt),
      t.health.state,
      // The status reason first (start_failed says why); otherwise why a running task is not ok.
      dash(t.statusReason ?? t.health.reason),
    ]),
  );
}

function endpoint(e: EndpointView): string {
  const acl = e.acl?.enabled ? `ACL ${e.acl.accessKey ?? 'on'}` : 'ACL off';
  if (e.clusterType === 'tencent') return `tencent ${e.region}/${e.clusterId} (${e.protocol}, ${acl})`;
  const net = e.networkType === 'vpc' && e.vpc ? `vpc ${e.vpc.region}/${e.vpc.vpcId}/${e.vpc.subnetId}` : e.networkType;
  return `self-built ${e.clusterId} ${e.nameServer} (${e.protocol}, ${net}, ${acl})`;
}

function startOffset(t: TaskView): string {
  const o = t.startOffset;
  return o.type === 'timestamp' ? `timestamp ${time(o.timestamp)} (${o.timestamp})` : o.type;
}

export function taskDetails(t: TaskDetails): string {
  const list = (xs: string[]) => (xs.length ? xs.join(', ') : 'none');
  let out = keyValues([
    ['ID', t.id],
    ['Name', t.name],
    ['Status', t.status],
    ['Reason', dash(t.statusReason)],
    ['Health', t.health.since ? `${t.health.state} since ${time(t.health.since)}` : t.health.state],
    ['Health reason', dash(t.health.reason)],
    ['Desired state', t.desiredState],
    ['Direction', t.direction],
    ['Source', endpoint(t.source)],
    ['Target', endpoint(t.target)],
    ['Start offset', startOffset(t)],
    ['Topics', `include ${list(t.filter.topics.include)}; exclude ${list(t.filter.topics.exclude)}`],
    ['Expression', `${t.filter.expression.type} ${t.filter.expression.value}`],
    ['TPS limit', t.tpsLimit === null ? 'unlimited' : String(t.tpsLimit)],
    ['Idempotent resume', t.idempotentResume ? 'yes' : 'no'],
    [
      'Pending reset',
      t.pendingReset ? `to ${time(t.pendingReset.timestamp)} (${t.pendingReset.timestamp}), applied at the next start` : '-',
    ],
    ['Created', time(t.createdAt)],
    ['Updated', time(t.updatedAt)],
    ['Version', String(t.version)],
  ]);
  if (t.summary?.length) {
    out += '\nLatest minute per flow:\n';
    out += table(
      ['FLOW', 'MINUTE', 'REPLICATED', 'FAILED', 'LAG', 'DELAY P99'],
      t.summary.map((s) => [s.flow, time(s.minuteMs), String(s.replicated), String(s.failed), dash(s.lag), ms(s.delayP99Ms)]),
    );
  }
  return out + failoverText(t.failover ?? null);
}

const COUNTERS = ['consumed', 'replicated', 'filtered', 'loopSkipped', 'failed', 'throttled'] as const;

export function metricsView(id: string, m: MetricsSeries): string {
  let out = `Metrics of ${id} from ${time(m.from)} to ${time(m.to)} (per minute)\n`;
  if (m.points.length === 0) return `${out}\nNo metrics in this range (a task reports once it runs and sees its queues).\n`;
  const flows = new Map<string, MetricsPoint[]>();
  for (const p of [...m.points].sort((a, b) => a.minuteMs - b.minuteMs)) flows.set(p.flow, [...(flows.get(p.flow) ?? []), p]);
  const latest = [...flows.entries()].map(([flow, ps]) => ({ flow, p: ps[ps.length - 1]! }));
  out += '\nLatest minute per flow:\n';
  out += table(
    ['FLOW', 'MINUTE', 'CONSUMED', 'REPLICATED', 'FAILED', 'THROTTLED', 'LAG', 'DELAY P99', 'DELAY MAX'],
    latest.map(({ flow, p }) => [
      flow,
      time(p.minuteMs),
      String(p.consumed),
      String(p.replicated),
      String(p.failed),
      String(p.throttled),
      dash(p.lag),
      ms(p.delayP99Ms),
      ms(p.delayMaxMs),
    ]),
  );
  out += '\nTotals over the range:\n';
  out += table(
    ['FLOW', 'MINUTES', 'CONSUMED', 'REPLICATED', 'FILTERED', 'LOOP-SKIPPED', 'FAILED', 'THROTTLED'],
    [...flows.entries()].map(([flow, ps]) => [flow, String(ps.length), ...COUNTERS.map((c) => String(ps.reduce((s, p) => s + p[c], 0)))]),
  );
  return out;
}

/** A task preview per flow: every topic (selected or not, and why), then the consumer groups. */
export function previewView(p: TaskPreview): string {
  return p.flows
    .map((f) => {
      const taken = f.topics.filter((t) => t.selected).length;
      const groups = f.groups.filter((g) => g.selected).length;
      const head = `Flow ${f.flow}: ${taken} of ${f.topics.length} topics selected, ${groups} of ${f.groups.length} groups selected\n`;
      const topics = f.topics.length
        ? table(
            ['TOPIC', 'QUEUES', 'SELECTED', 'REASON'],
            f.topics.map((t) => [t.name, String(t.queues), t.selected ? 'yes' : 'no', t.reason]),
          )
        : 'No topics.\n';
      const groupLines = f.groupsError
        ? `Groups: ${f.groupsError}\n`
        : f.groups.length
          ? table(
              ['GROUP', 'SELECTED', 'REASON'],
              f.groups.map((g) => [g.name, g.selected ? 'yes' : 'no', g.reason]),
            )
          : 'No groups.\n';
      return `${head}${topics}\n${groupLines}`;
    })
    .join('\n');
}

/** Consumer offset translation: one row per flow, group and source queue. */
export function offsetsView(items: OffsetSyncItemView[]): string {
  if (items.length === 0) return 'No consumer offsets translated yet (a group appears once it has committed on a replicated topic).\n';
  return table(
    ['FLOW', 'GROUP', 'TOPIC', 'QUEUE', 'SOURCE OFFSET', 'TARGET QUEUE', 'TARGET OFFSET', 'STATUS', 'SYNCED', 'ERROR'],
    items.map((i) => [
      i.flow,
      i.group,
      i.topic,
      `${i.broker}/${i.queueId}`,
      String(i.sourceOffset),
      i.targetBroker === null ? '-' : `${i.targetBroker}/${i.targetQueueId}`,
      dash(i.targetOffset),
      i.status,
      time(i.syncedAt),
      dash(i.error),
    ]),
  );
}

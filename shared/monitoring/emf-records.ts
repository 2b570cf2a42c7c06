// What each function reports to CloudWatch, as plain records: one record becomes one
// embedded-metric-format line (namespace Ferry). Pure, so the numbers are testable without stdout.
import type { MetadataSyncSummary } from '../metadata/run.ts';
import type { ReconcileSummary } from '../replication/reconciler.ts';
import type { DelayDistribution } from '../replication/delay-distribution.ts';
import type { InvocationReport } from '../replication/replicator.ts';

export type EmfUnit = 'Count' | 'Milliseconds';

export interface EmfRecord {
  /** Dimension sets; `[{}]` is one set without dimensions (a total over everything). */
  dimensions: Record<string, string>[];
  metrics: { name: string; value: number; unit: EmfUnit }[];
  /** Metrics given as a distribution (Values/Counts), from which CloudWatch computes percentiles. */
  distributions?: { name: string; unit: EmfUnit; value: DelayDistribution }[];
  /** Searchable in CloudWatch Logs Insights; not metrics. */
  properties: Record<string, string | number | boolean>;
}

const count = (name: string, value: number) => ({ name, value, unit: 'Count' as const });
const ms = (name: string, value: number) => ({ name, value, unit: 'Milliseconds' as const });

/** One line per replicator invocation that ran its shard, dimensions TaskId and Flow (`A->B`). */
export function replicatorRecords(r: InvocationReport): EmfRecord[] {
  if (!r.totals || !r.task) return [];
  const t = r.totals;
  const metrics = [
    count('MessagesConsumed', t.consumed),
    count('MessagesReplicated', t.replicated),
    count('MessagesFiltered', t.filtered),
    count('MessagesLoopSkipped', t.loopSkipped),
    count('MessagesFailed', t.failed),
    count('MessagesThrottled', t.throttled),
    ms('InvocationDuration', r.durationMs),
  ];
  // Delay and lag exist only when something was replicated / pulled; a 0 would be a false reading.
  if (t.lag !== null) metrics.push(count('Lag', t.lag));
  return [
    {
      dimensions: [{ TaskId: r.job.taskId, Flow: r.task.route }],
      metrics,
      // Every delay of the invocation, so p50/p99/max (any percentile) hold across invocations and shards.
      ...(t.delay ? { distributions: [{ name: 'SyncDelay', unit: 'Milliseconds' as const, value: t.delay }] } : {}),
      properties: {
        Function: 'replicator',
        TaskName: r.task.name,
        Tenant: r.job.tenant,
        FlowId: r.job.flow,
        Shard: r.job.shard,
        Exit: r.exit,
      },
    },
  ];
}

/** A run total, then one line per status (dimension Status) so an alarm can watch start_failed. */
export function reconcilerRecords(s: ReconcileSummary, durationMs: number): EmfRecord[] {
  return [
    {
      dimensions: [{}],
      metrics: [
        count('Tasks', s.tasks),
        count('TasksStarted', s.started),
        count('TasksStartFailed', s.failed),
        count('ReplicatorsDispatched', s.dispatched),
        ms('ReconcileDuration', durationMs),
      ],
      properties: { Function: 'reconciler' },
    },
    ...Object.entries(s.byStatus).map(([status, n]) => ({
      dimensions: [{ Status: status }],
      metrics: [count('Tasks', n)],
      properties: { Function: 'reconciler' },
    })),
  ];
}

/** A run total, then one line per task synced (dimension TaskId) with its items by outcome. */
export function metadataSyncRecords(s: MetadataSyncSummary): EmfRecord[] {
  const sum = (k: 'created' | 'updated' | 'deleted' | 'failed') => s.results.reduce((n, r) => n + r[k], 0);
  return [
    {
      dimensions: [{}],
      metrics: [
        count('MetadataSyncTasks', s.eligible),
        count('MetadataItemsApplied', sum('created') + sum('updated') + sum('deleted')),
        count('MetadataItemsFailed', sum('failed')),
        count('MetadataSyncDeferred', s.deferred),
        count('MetadataSyncErrors', s.errors.length),
        ms('MetadataSyncDuration', s.durationMs),
      ],
      properties: { Function: 'metadata-sync' },
    },
    ...s.results.map((r) => ({
      dimensions: [{ TaskId: r.taskId }],
      metrics: [
        count('MetadataItemsCreated', r.created),
        count('MetadataItemsUpdated', r.updated),
        count('MetadataItemsDeleted', r.deleted),
        count('MetadataItemsFailed', r.failed),
        count('MetadataConflicts', r.conflicts),
        ms('MetadataSyncDuration', r.durationMs),
      ],
      properties: { Function: 'metadata-sync', Outcome: r.outcome },
    })),
  ];
}

/** One line per API request: totals and per status class (2xx, 4xx, 5xx). */
export function apiRequestRecords(r: { method: string; path: string; status: number; durationMs: number }): EmfRecord[] {
  return [
    {
      dimensions: [{}, { StatusClass: `${Math.floor(r.status / 100)}xx` }],
      metrics: [count('Requests', 1), ms('RequestLatency', r.durationMs)],
      properties: { Function: 'api', Method: r.method, Path: r.path, Status: r.status },
    },
  ];
}

/**
 * One record as one EMF line (the specification's document: `_aws` metadata, then dimension values,
 * properties and metric values as top-level members). For records with distributions, which the
 * aws-embedded-metrics library cannot write: a distribution is `{Values, Counts, Min, Max, Sum, Count}`.
 */
export function emfLine(r: EmfRecord, namespace: string, timestampMs: number): string {
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: namespace,
          Dimensions: r.dimensions.map((d) => Object.keys(d)),
          Metrics: [...r.metrics, ...(r.distributions ?? [])].map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
  };
  for (const d of r.dimensions) Object.assign(doc, d);
  Object.assign(doc, r.properties);
  for (const m of r.metrics) doc[m.name] = m.value;
  for (const { name, value: v } of r.distributions ?? [])
    doc[name] = { Values: v.values, Counts: v.counts, Min: v.min, Max: v.max, Sum: v.sum, Count: v.count };
  return JSON.stringify(doc);
}

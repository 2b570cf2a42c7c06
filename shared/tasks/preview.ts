// Pure: what a task would take from a cluster, before it exists (POST /v1/tasks/preview). The
// caller reads each flow's source cluster (metadata/cluster-listing.ts); this decides, item by
// item, whether the task's topic filter and groups filter take it and says why.
import type { z } from 'zod';
import { anchorTopicPattern, type TopicPatternSpec } from '../filter/topic-match.ts';
import { TaskInput } from './schema.ts';

/** A task body as POST /v1/tasks takes it, with the name optional: nothing is created. */
export const TaskPreviewInput = TaskInput.extend({ name: TaskInput.shape.name.optional() });
export type TaskPreviewInput = z.output<typeof TaskPreviewInput>;

/** What a cluster holds, as far as a preview needs it. `system`: RocketMQ's or Ferry's own, never taken. */
export interface ClusterListing {
  topics: { name: string; queues: number; system: boolean }[];
  groups: { name: string; system: boolean }[];
  /** Why the groups could not be listed (then `groups` is empty). */
  groupsError?: string;
}

export interface TopicPreview {
  name: string;
  /** Readable queues on the source cluster (all brokers). */
  queues: number;
  selected: boolean;
  /** What selected it, or why not. */
  reason: string;
}

export interface GroupPreview {
  name: string;
  selected: boolean;
  reason: string;
}

export interface FlowPreview {
  /** `sourceClusterId->targetClusterId`. */
  flow: string;
  topics: TopicPreview[];
  groups: GroupPreview[];
  groupsError?: string;
}

export interface TaskPreview {
  flows: FlowPreview[];
}

/** Decides one item against include/exclude patterns already checked by the schema. */
export function patternVerdict(spec: TopicPatternSpec): (name: string) => { selected: boolean; reason: string } {
  const compile = (ps: readonly string[]) => ps.map((p) => ({ p, re: new RegExp(anchorTopicPattern(p)) }));
  const include = compile(spec.include);
  const exclude = compile(spec.exclude);
  return (name) => {
    const inc = include.find((x) => x.re.test(name));
    if (!inc) return { selected: false, reason: 'not matched by any include pattern' };
    const exc = exclude.find((x) => x.re.test(name));
    if (exc) return { selected: false, reason: `excluded by pattern "${exc.p}"` };
    return { selected: true, reason: `included by pattern "${inc.p}"` };
  };
}

export function previewFlow(
  flow: string,
  listing: ClusterListing,
  filters: { topics: TopicPatternSpec; groups: TopicPatternSpec },
): FlowPreview {
  const topicVerdict = patternVerdict(filters.topics);
  const groupVerdict = patternVerdict(filters.groups);
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const topics = listing.topics
    .map((t): TopicPreview => {
      const v = t.system ? { selected: false, reason: 'system topic (never replicated)' } : topicVerdict(t.name);
      return { name: t.name, queues: t.queues, ...v };
    })
    .sort(byName);
  const groups = listing.groups
    .map(
      (g): GroupPreview => ({
        name: g.name,
        ...(g.system ? { selected: false, reason: 'system group (never synced)' } : groupVerdict(g.name)),
      }),
    )
    .sort(byName);
  return { flow, topics, groups, ...(listing.groupsError ? { groupsError: listing.groupsError } : {}) };
}

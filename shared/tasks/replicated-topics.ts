// Which source topics a task replicates: its topic filter's, never RocketMQ's own — except, with
// offsetSync.nothingLeftBehind (default on), the retry and dead-letter topics (%RETRY%<group>,
// %DLQ%<group>) of the groups the task syncs. Messages a consumer put back with reconsumeLater, or
// gave up on, are then on the other cluster too when the consumers move there; their offsets are
// translated with the group's other topics.
import { matchTopicPatterns } from '../filter/topic-match.ts';
import { isSystemGroup, isSystemTopic } from '../filter/system-resources.ts';
import { taskOptions, type TaskSpec } from './model.ts';

const RETRY_OR_DLQ = /^%(?:RETRY|DLQ)%(.+)$/;

type Spec = Pick<TaskSpec, 'filter' | 'groups' | 'metadataSync' | 'offsetSync'>;

/** The group whose retry or dead-letter topic this is; undefined for any other topic. */
export const groupOfRetryTopic = (topic: string): string | undefined => RETRY_OR_DLQ.exec(topic)?.[1];

/** The retry and dead-letter topics the task carries although their names are RocketMQ's. */
export function carriedRetryTopics(spec: Spec): (topic: string) => boolean {
  const { groups, offsetSync } = taskOptions(spec);
  if (!offsetSync.nothingLeftBehind) return () => false;
  const synced = matchTopicPatterns(groups);
  return (topic) => {
    const group = groupOfRetryTopic(topic);
    return group !== undefined && !isSystemGroup(group) && synced(group);
  };
}

/** Whether the task replicates `topic`; `systemNames`: the source cluster's own name and its brokers' (topics brokers make). */
export function replicatedTopics(spec: Spec, systemNames: ReadonlySet<string>): (topic: string) => boolean {
  const filter = matchTopicPatterns(spec.filter.topics);
  const carried = carriedRetryTopics(spec);
  return (topic) => carried(topic) || (filter(topic) && !isSystemTopic(topic, systemNames));
}

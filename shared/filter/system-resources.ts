// RocketMQ's own topics and groups: never replicated, never synchronised.
const SYSTEM_TOPICS = new Set([
  'TBW102',
  'SCHEDULE_TOPIC_XXXX',
  'OFFSET_MOVED_EVENT',
  'BenchmarkTest',
  'SELF_TEST_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'RMQ_SYS_TRACE_TOPIC',
  'DefaultHeartBeatSyncerTopic',
  'SCHEDULE_TOPIC_XXXX_V2',
  'CHECKPOINT_TOPIC',
]);
const SYSTEM_GROUPS = new Set([
  'TOOLS_CONSUMER',
  'FILTERSRV_CONSUMER',
  'DEFAULT_CONSUMER',
  'DEFAULT_PRODUCER',
  'CLIENT_INNER_PRODUCER',
  'SELF_TEST_C_GROUP',
  'SELF_TEST_P_GROUP',
  'SCHEDULE_CONSUMER',
  '__MONITOR_CONSUMER',
  'CID_ONS-HTTP-PROXY',
  'FERRY_REPLICATOR',
  'FERRY_PRODUCER',
]);

/**
 * `clusterAndBrokerNames` are the cluster's own name and its brokers' names: brokers create a topic
 * for each (clusterTopicEnable / brokerTopicEnable).
 */
export function isSystemTopic(topic: string, clusterAndBrokerNames: ReadonlySet<string> = new Set()): boolean {
  return (
    SYSTEM_TOPICS.has(topic) ||
    clusterAndBrokerNames.has(topic) ||
    /^(RMQ_SYS_|rmq_sys_|%RETRY%|%DLQ%|%SYS%|%LMQ%)/.test(topic) ||
    topic.endsWith('_REPLY_TOPIC')
  );
}

export function isSystemGroup(group: string): boolean {
  return SYSTEM_GROUPS.has(group) || /^(CID_RMQ_SYS_|CID_ONSAPI_|FERRY_|rmq_sys_|RMQ_SYS_)/.test(group);
}

// The CloudWatch dashboard's body (a JSON string) for serverless.yml: the EMF metrics the functions
// write (namespace Ferry, shared/monitoring/emf-records.ts) beside the platform's own for the replicator.
// Built here rather than in YAML because CloudFormation's ${AWS::Region} clashes with Serverless variables.

const NS = 'Ferry';
const flows = '{Ferry,Flow,TaskId}';

module.exports = async ({ resolveVariable }) => {
  const region = await resolveVariable('self:provider.region');
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const fn = (name) => `${service}-${stage}-${name}`;
  const search = (metric, stat, period, schema = flows) => ({
    expression: `SEARCH('${schema} MetricName="${metric}"', '${stat}', ${period})`,
  });
  let y = 0;
  const widgets = [];
  const row = (...cells) => {
    cells.forEach((w, i) => {
      widgets.push({ type: 'metric', x: i * 8, y, width: 8, height: 6, properties: { region, view: 'timeSeries', ...w } });
    });
    y += 6;
  };
  row(
    { title: 'Lag per flow (messages)', metrics: [[search('Lag', 'Maximum', 60)]] },
    { title: 'Replication delay p99 per flow (ms)', metrics: [[search('SyncDelay', 'p99', 300)]] },
    { title: 'Replication delay max per flow (ms)', metrics: [[search('SyncDelay', 'Maximum', 300)]] },
  );
  row(
    { title: 'Messages replicated per minute', metrics: [[search('MessagesReplicated', 'Sum', 60)]] },
    { title: 'Messages failed (parked) per minute', metrics: [[search('MessagesFailed', 'Sum', 60)]] },
    { title: 'Messages throttled per minute', metrics: [[search('MessagesThrottled', 'Sum', 60)]] },
  );
  row(
    {
      title: 'Replicator invocations',
      stat: 'Sum',
      period: 60,
      metrics: [
        ['AWS/Lambda', 'Invocations', 'FunctionName', fn('replicator')],
        ['.', 'Errors', '.', '.'],
        ['.', 'Throttles', '.', '.'],
        ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `${fn('replicator')}-dlq`, { stat: 'Maximum' }],
      ],
    },
    { title: 'Tasks by status', metrics: [[search('Tasks', 'Maximum', 60, `{${NS},Status}`)]] },
    {
      title: 'Reconciler',
      period: 60,
      metrics: [
        [NS, 'ReconcileDuration', { stat: 'Maximum' }],
        ['.', 'ReplicatorsDispatched', { stat: 'Sum' }],
        ['.', 'TasksStartFailed', { stat: 'Sum' }],
      ],
    },
  );
  row(
    {
      title: 'API requests by status class',
      metrics: [[search('Requests', 'Sum', 60, `{${NS},StatusClass}`)]],
    },
    { title: 'API latency p99 (ms)', metrics: [[NS, 'RequestLatency', { stat: 'p99' }]], period: 60 },
    {
      title: 'Metadata sync',
      stat: 'Sum',
      period: 300,
      metrics: [
        [NS, 'MetadataItemsApplied'],
        ['.', 'MetadataItemsFailed'],
        ['.', 'MetadataSyncErrors'],
      ],
    },
  );
  return JSON.stringify({ widgets });
};

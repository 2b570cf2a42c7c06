// What the functions report as EMF records, and when EMF is on. The lines themselves (the
// library's serialisation to stdout) are checked on real invocations in test/e2e/monitoring.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import type { MetadataSyncResult } from '../../shared/metadata/sync.ts';
import { apiRequestRecords, metadataSyncRecords, replicatorRecords, type EmfRecord } from '../../shared/monitoring/emf-records.ts';

const values = (r: EmfRecord) => Object.fromEntries(r.metrics.map((m) => [m.name, m.value]));
const job = { tenant: 'default', taskId: 'task-1', flow: 'forward' as const, shard: 0 };

describe('EMF records', () => {
  it('is on as a Lambda function or with FERRY_EMF, off otherwise; FERRY_EMF=0 turns it off on Lambda', () => {
    assert.equal(loadConfig({}).emf, false);
    const lambda = {
      AWS_LAMBDA_FUNCTION_NAME: 'ferry-dev-replicator',
      DATABASE_URL: 'postgres://db/ferry',
      FERRY_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
    };
    assert.equal(loadConfig(lambda).emf, true);
    assert.equal(loadConfig({ FERRY_EMF: '1' }).emf, true);
    assert.equal(loadConfig({ FERRY_EMF: 'true' }).emf, true);
    assert.equal(loadConfig({ ...lambda, FERRY_EMF: '0' }).emf, false);
    assert.throws(() => loadConfig({ FERRY_EMF: 'yes' }), /FERRY_EMF/);
  });

  it('reports a replicator invocation only when it ran its shard; delay and lag only when measured', () => {
    assert.deepEqual(replicatorRecords({ exit: 'lease-held', job, durationMs: 12, task: { name: 't', route: 'A->B' } }), []);
    const totals = {
      consumed: 5,
      replicated: 3,
      filtered: 1,
      loopSkipped: 1,
      failed: 0,
      throttled: 0,
      delay: null,
      lag: null,
    };
    const [r] = replicatorRecords({ exit: 'task-stopped', job, durationMs: 900, task: { name: 't', route: 'A->B' }, totals });
    assert.deepEqual(r!.dimensions, [{ TaskId: 'task-1', Flow: 'A->B' }]);
    assert.deepEqual(values(r!), {
      MessagesConsumed: 5,
      MessagesReplicated: 3,
      MessagesFiltered: 1,
      MessagesLoopSkipped: 1,
      MessagesFailed: 0,
      MessagesThrottled: 0,
      InvocationDuration: 900,
    });
    assert.equal(r!.properties.Exit, 'task-stopped');
  });

  it('sums metadata sync items across tasks and gives each task its own line', () => {
    const result = (taskId: string, created: number, updated: number, deleted: number, failed: number): MetadataSyncResult => ({
      taskId,
      outcome: failed ? 'partial' : 'ok',
      first: false,
      created,
      updated,
      deleted,
      failed,
      unsupported: 0,
      conflicts: 0,
      stored: true,
      durationMs: 40,
    });
    const records = metadataSyncRecords({
      tasks: 3,
      eligible: 2,
      results: [result('t1', 2, 1, 0, 0), result('t2', 0, 0, 1, 2)],
      deferred: 0,
      errors: [],
      durationMs: 95,
    });
    assert.equal(records.length, 3);
    assert.deepEqual(records[0]!.dimensions, [{}]);
    assert.deepEqual(values(records[0]!), {
      MetadataSyncTasks: 2,
      MetadataItemsApplied: 4,
      MetadataItemsFailed: 2,
      MetadataSyncDeferred: 0,
      MetadataSyncErrors: 0,
      MetadataSyncDuration: 95,
    });
    assert.deepEqual(records[2]!.dimensions, [{ TaskId: 't2' }]);
    assert.equal(values(records[2]!).MetadataItemsFailed, 2);
  });

  it('counts an API request overall and by status class', () => {
    const [r] = apiRequestRecords({ method: 'GET', path: '/v1/tasks', status: 404, durationMs: 7 });
    assert.deepEqual(r!.dimensions, [{}, { StatusClass: '4xx' }]);
    assert.deepEqual(values(r!), { Requests: 1, RequestLatency: 7 });
  });
});

// Monitoring outputs on real clusters: the local runtime's Prometheus /metrics after a task
// replicated messages between two test-bed clusters, and the functions' CloudWatch EMF lines
// (reconciler and replicator handlers, each in its own process as a platform runs it).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import type { OutgoingMessage } from '../../shared/rocketmq/message.ts';
import { aesGcmCipher, parseKey } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { sealEndpoint, type TaskSpec } from '../../shared/tasks/model.ts';
import { TaskInput } from '../../shared/tasks/schema.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { find, one, parseExposition } from '../support/prometheus-text.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const root = join(import.meta.dirname, '..', '..');
const QUEUES = 2;
const KEPT = 100;
const DROPPED = 20;

/** KEPT messages tagged `keep` and DROPPED tagged `drop` (the task filter drops those), over QUEUES queues. */
async function produce(s: Side, topic: string): Promise<void> {
  const batch = (tag: string, n: number, from: number): OutgoingMessage[] =>
    Array.from({ length: n }, (_, i) => ({
      body: Buffer.from(`monitoring ${from + i}`),
      tags: tag,
      properties: { seq: String(from + i) },
    }));
  for (let q = 0; q < QUEUES; q++) {
    await s.broker.sendBatch(s.addr, topic, q, batch('keep', KEPT / QUEUES, q * KEPT));
    await s.broker.sendBatch(s.addr, topic, q, batch('drop', DROPPED / QUEUES, 10_000 + q * DROPPED));
  }
}

/** Messages stored in the topic's queues on a cluster (every queue started empty). */
async function stored(s: Side, topic: string): Promise<number> {
  let n = 0;
  for (let q = 0; q < QUEUES; q++) n += await s.broker.maxOffset(s.addr, topic, q);
  return n;
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  return last;
}

describe('Prometheus /metrics on the local runtime', () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const topic = `mon_prom_${Date.now()}_${randomBytes(3).toString('hex')}`;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v4'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_RECONCILE_INTERVAL_MS: '500', FERRY_REPLICATOR_BUDGET_MS: '8000', LOG_LEVEL: 'info' },
    });
  });
  after(async () => {
    await rt?.stop();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('counts what the task replicated, per task and flow, with the task status; a scrape sees its own tenant only', async () => {
    const api = client(rt);
    // The messages wait for the task (it starts from the earliest offset): each one's delay is at
    // least the time from the end of producing to the task's creation, and at most the time from
    // the start of producing to the scrape that counted them all.
    const producedFrom = Date.now();
    await produce(a, topic);
    const producedBy = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const createdAt = Date.now();
    const created = await api('POST', '/v1/tasks', {
      name: 'monitoring-prom',
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'earliest' },
      filter: { topics: { include: [topic], exclude: [] }, expression: { type: 'TAG', value: 'keep' } },
      // Exact counts: the retry topics other tests leave on the test bed (carried by default) stay out.
      offsetSync: { nothingLeftBehind: false },
    });
    assert.equal(created.status, 201, created.text);
    const id: string = created.body.id;
    await waitForStatus(api, id, 'running');
    await eventually(
      'messages on the target',
      () => stored(b, topic),
      (n) => n >= KEPT,
    );

    const scrape = async (token: string | null = rt.readerToken) => {
      const res = await fetch(`${rt.baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
    };
    const flow = { task_id: id, task_name: 'monitoring-prom', tenant: 'default', flow: `${a.c.name}->${b.c.name}` };
    // Replicators flush their counts every few seconds and when an invocation hands over.
    const { samples, types } = await eventually(
      'ferry_messages_replicated_total and lag',
      async () => {
        const r = await scrape();
        assert.equal(r.status, 200, r.text);
        assert.equal(r.contentType, 'text/plain; version=0.0.4; charset=utf-8');
        return parseExposition(r.text);
      },
      (p) =>
        find(p.samples, 'ferry_messages_replicated_total', flow)[0]?.value === KEPT &&
        find(p.samples, 'ferry_replication_lag_messages', flow)[0]?.value === 0,
    );
    const scrapedBy = Date.now();

    assert.equal(await stored(b, topic), KEPT, 'the target holds exactly the kept messages');
    assert.equal(one(samples, 'ferry_messages_replicated_total', flow), KEPT);
    assert.equal(one(samples, 'ferry_messages_consumed_total', flow), KEPT + DROPPED);
    assert.equal(one(samples, 'ferry_messages_filtered_total', flow), DROPPED);
    assert.equal(one(samples, 'ferry_messages_loop_skipped_total', flow), 0);
    assert.equal(one(samples, 'ferry_messages_failed_total', flow), 0);
    assert.equal(one(samples, 'ferry_parked_messages', flow), 0);
    assert.equal(one(samples, 'ferry_replication_lag_messages', flow), 0);
    const p99 = one(samples, 'ferry_replication_delay_p99_seconds', flow);
    const max = one(samples, 'ferry_replication_delay_max_seconds', flow);
    const waited = (createdAt - producedBy) / 1000;
    const span = (scrapedBy - producedFrom) / 1000;
    console.log(`# prometheus delay: p99 ${p99} s, max ${max} s; messages waited ≥ ${waited} s, span ${span} s`);
    assert.ok(p99 >= waited, `delay p99 ${p99} s ≥ ${waited} s, the least any message waited for the task`);
    assert.ok(p99 <= max, `delay p99 ${p99} s ≤ max ${max} s`);
    assert.ok(max <= span + 0.002, `delay max ${max} s ≤ ${span} s, from the first send to the scrape`);
    for (const [name, type] of [
      ['ferry_messages_replicated_total', 'counter'],
      ['ferry_messages_throttled_total', 'counter'],
      ['ferry_replication_delay_p99_seconds', 'gauge'],
      ['ferry_task_status', 'gauge'],
      ['process_cpu_seconds_total', 'counter'],
      ['nodejs_heap_size_used_bytes', 'gauge'],
    ]) {
      assert.equal(types.get(name!), type, `${name} is a ${type}`);
    }

    // The API's per-minute series agree with the counters.
    const points = (await api('GET', `/v1/tasks/${id}/metrics`)).body.points as { replicated: number }[];
    assert.equal(
      points.reduce((n, p) => n + p.replicated, 0),
      KEPT,
    );

    const status = (s: string) => one(samples, 'ferry_task_status', { task_id: id, status: s });
    assert.equal(status('running'), 1);
    for (const s of ['initializing', 'stopping', 'stopped', 'start_failed', 'deleting']) assert.equal(status(s), 0, s);
    assert.equal(one(samples, 'ferry_tasks', { tenant: 'default', status: 'running' }), 1);
    // Metadata sync ran when the task started: the topic is among the items it recorded.
    assert.ok(find(samples, 'ferry_metadata_items', { task_id: id, kind: 'topic' }).length > 0);

    // After a stop the status follows: `stopping` while the replicator still holds its lease, then `stopped`.
    const answer = await api('POST', `/v1/tasks/${id}/stop`);
    assert.equal(answer.status, 202);
    const stopping = parseExposition((await scrape()).text).samples;
    const now = (await api('GET', `/v1/tasks/${id}`)).body.status as string;
    assert.ok(['stopping', 'stopped'].includes(now), now);
    assert.equal(one(stopping, 'ferry_task_status', { task_id: id, status: 'running' }), 0);
    assert.equal(
      one(stopping, 'ferry_task_status', { task_id: id, status: 'stopping' }) +
        one(stopping, 'ferry_task_status', { task_id: id, status: 'stopped' }),
      1,
    );
    await waitForStatus(api, id, 'stopped');
    const stopped = parseExposition((await scrape()).text).samples;
    assert.equal(one(stopped, 'ferry_task_status', { task_id: id, status: 'stopped' }), 1);
    assert.equal(one(stopped, 'ferry_task_status', { task_id: id, status: 'stopping' }), 0);
    assert.equal(one(stopped, 'ferry_task_status', { task_id: id, status: 'running' }), 0);

    // Same tokens as the API; another tenant sees none of this tenant's tasks.
    const anonymous = await scrape(null);
    assert.equal(anonymous.status, 401);
    assert.equal(JSON.parse(anonymous.text).error.code, 'UNAUTHENTICATED');
    const other = parseExposition((await scrape(rt.otherTenantToken)).text).samples;
    assert.equal(find(other, 'ferry_task_status', { task_id: id }).length, 0);
    assert.equal(find(other, 'ferry_messages_replicated_total', { task_id: id }).length, 0);
    assert.equal(one(other, 'ferry_tasks', { tenant: 'other', status: 'running' }), 0);
  });
});

// ── CloudWatch embedded metric format from the function handlers ──

interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** A function invocation in its own process; stdout is its log stream. */
function runFunction(
  name: string,
  event: unknown,
  remainingMs: number,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/support/function-child.ts'), name, JSON.stringify(event), String(remainingMs)],
      {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const emfLines = (stdout: string): EmfLine[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o): o is EmfLine => '_aws' in o);

/** Each metric of the line with its value and unit. */
const metricsOf = (l: EmfLine) =>
  Object.fromEntries(l._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, { value: l[m.Name], unit: m.Unit }]));

describe('CloudWatch EMF lines from the functions', () => {
  let db: Throwaway<string>;
  let store: Store;
  let a: Side;
  let b: Side;
  const invokes: { url: string; body: string }[] = [];
  const fakeLambda = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      invokes.push({ url: req.url ?? '', body });
      res.writeHead(202, { 'content-type': 'application/json' }).end();
    });
  });
  const secretKey = randomBytes(32).toString('base64');
  const topic = `mon_emf_${Date.now()}_${randomBytes(3).toString('hex')}`;
  let env: Record<string, string>;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v4'));
    for (const s of [a, b])
      await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    db = await throwawayPostgres();
    store = await openStore({ databaseUrl: db.value, dataDir: '' });
    await new Promise<void>((ok) => fakeLambda.listen(0, '127.0.0.1', ok));
    const addr = fakeLambda.address();
    assert.ok(addr && typeof addr === 'object');
    env = {
      DATABASE_URL: db.value,
      FERRY_DATA_DIR: '',
      FERRY_SECRET_KEY: secretKey,
      LOG_LEVEL: 'info',
      // Hand-overs and dispatches go to a fake Lambda Invoke endpoint that queues nothing.
      FERRY_INVOKER: 'aws-lambda',
      FERRY_REPLICATOR_FUNCTION: 'ferry-test-replicator',
      FERRY_INVOKER_REGION: 'us-east-1',
      FERRY_INVOKER_ENDPOINT: `http://127.0.0.1:${addr.port}`,
      AWS_ACCESS_KEY_ID: 'AKIDTESTMONITORING',
      AWS_SECRET_ACCESS_KEY: 'monitoring-test-secret',
      AWS_LAMBDA_FUNCTION_NAME: '',
      AWS_EMF_ENVIRONMENT: '',
      FERRY_EMF: '',
    };
  });
  after(async () => {
    await store?.close();
    await db?.drop();
    fakeLambda.close();
    a?.remoting.close();
    b?.remoting.close();
  });

  it('the reconciler (as on Lambda) and the replicator (FERRY_EMF=1) print their real counts as EMF in namespace Ferry', async () => {
    const input = TaskInput.parse({
      name: 'monitoring-emf',
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      filter: { topics: { include: [topic], exclude: [] }, expression: { type: 'TAG', value: 'keep' } },
    });
    const cipher = aesGcmCipher(parseKey(secretKey));
    const spec: TaskSpec = {
      direction: input.direction,
      source: sealEndpoint(input.source, cipher),
      target: sealEndpoint(input.target, cipher),
      startOffset: input.startOffset,
      filter: input.filter,
      tpsLimit: input.tpsLimit,
      idempotentResume: input.idempotentResume,
      // Exact counts: the retry topics other tests leave on the test bed (carried by default) stay out.
      offsetSync: { enabled: true, nothingLeftBehind: false },
    };
    // Running with no checkpoints: the replicator takes the (new) topic's queues from the beginning.
    const task = await store.insertTask({
      id: `task-${randomUUID()}`,
      tenant: 'default',
      name: 'monitoring-emf',
      spec,
      desiredState: 'running',
      status: 'running',
      startOffsetsCaptured: true,
    });
    const producedFrom = Date.now();
    await produce(a, topic);
    const producedBy = Date.now();

    // The reconciler, as Lambda runs it: EMF on because AWS_LAMBDA_FUNCTION_NAME is set.
    const rec = await runFunction('reconciler', {}, 60_000, { ...env, AWS_LAMBDA_FUNCTION_NAME: 'ferry-test-reconciler' });
    assert.equal(rec.code, 0, rec.stderr + rec.stdout);
    const recLines = emfLines(rec.stdout);
    const total = recLines.find((l) => l._aws.CloudWatchMetrics[0]!.Dimensions[0]!.length === 0);
    assert.ok(total, rec.stdout);
    assert.equal(total._aws.CloudWatchMetrics[0]!.Namespace, 'Ferry');
    assert.deepEqual(metricsOf(total).Tasks, { value: 1, unit: 'Count' });
    assert.deepEqual(metricsOf(total).ReplicatorsDispatched, { value: 1, unit: 'Count' });
    assert.equal(metricsOf(total).ReconcileDuration!.unit, 'Milliseconds');
    const running = recLines.find((l) => l.Status === 'running');
    assert.ok(running);
    assert.deepEqual(running._aws.CloudWatchMetrics[0]!.Dimensions, [['Status']]);
    assert.equal(running.Tasks, 1);
    assert.equal(recLines.find((l) => l.Status === 'start_failed')?.Tasks, 0);
    // What it dispatched is the replicator's event.
    assert.equal(invokes.length, 1);
    assert.equal(invokes[0]!.url, '/2015-03-31/functions/ferry-test-replicator/invocations');
    const job = JSON.parse(invokes[0]!.body) as ReplicatorJob;
    assert.deepEqual(job, { tenant: 'default', taskId: task.id, flow: 'forward', shard: 0, shards: 1, generation: 1 });

    // The replicator with FERRY_EMF=1 off Lambda: one line at the end of the invocation.
    const replicatorFrom = Date.now();
    const rep = await runFunction('replicator', job, 15_000, { ...env, FERRY_EMF: '1' });
    const replicatorBy = Date.now();
    assert.equal(rep.code, 0, rep.stderr + rep.stdout);
    assert.deepEqual(JSON.parse(rep.stderr.trim().split('\n').at(-1)!), { result: { exit: 'budget' } });
    const lines = emfLines(rep.stdout);
    assert.equal(lines.length, 1, rep.stdout);
    const line = lines[0]!;
    const cw = line._aws.CloudWatchMetrics[0]!;
    assert.equal(cw.Namespace, 'Ferry');
    assert.deepEqual(cw.Dimensions, [['TaskId', 'Flow']]);
    assert.equal(line.TaskId, task.id);
    assert.equal(line.Flow, `${a.c.name}->${b.c.name}`);
    assert.equal(line.TaskName, 'monitoring-emf');
    assert.equal(line.Exit, 'budget');
    assert.ok(Math.abs(line._aws.Timestamp - Date.now()) < 120_000, 'timestamped now');

    // The real counts: what arrived on the target and what the replicator stored as metrics.
    const onTarget = await stored(b, topic);
    assert.equal(onTarget, KEPT);
    const rows = await store.queryMetrics(task.id, 0, Number.MAX_SAFE_INTEGER);
    const sum = (k: 'consumed' | 'replicated' | 'filtered' | 'failed') => rows.reduce((n, r) => n + r[k], 0);
    const m = metricsOf(line);
    assert.deepEqual(m.MessagesReplicated, { value: onTarget, unit: 'Count' });
    assert.equal(m.MessagesReplicated!.value, sum('replicated'));
    assert.deepEqual(m.MessagesConsumed, { value: KEPT + DROPPED, unit: 'Count' });
    assert.equal(m.MessagesConsumed!.value, sum('consumed'));
    assert.deepEqual(m.MessagesFiltered, { value: DROPPED, unit: 'Count' });
    assert.deepEqual(m.MessagesFailed, { value: 0, unit: 'Count' });
    assert.deepEqual(m.MessagesLoopSkipped, { value: 0, unit: 'Count' });
    assert.deepEqual(m.Lag, { value: 0, unit: 'Count' });
    // Every message was stored before the replicator process started and sent before it ended.
    // Every delay as a distribution (Values/Counts), from which CloudWatch computes the percentiles.
    assert.equal(m.SyncDelay?.unit, 'Milliseconds');
    const delay = m.SyncDelay!.value as { Values: number[]; Counts: number[]; Min: number; Max: number; Sum: number; Count: number };
    assert.equal(delay.Count, onTarget, 'one delay per replicated message');
    assert.equal(
      delay.Counts.reduce((x, y) => x + y, 0),
      onTarget,
    );
    assert.equal(delay.Values.length, delay.Counts.length);
    const [min, max] = [delay.Min, delay.Max];
    console.log(
      `# EMF delay: min ${min} ms, max ${max} ms, ${delay.Values.length} values; ` +
        `bounds ${replicatorFrom - producedBy}..${replicatorBy - producedFrom} ms`,
    );
    assert.ok(min >= replicatorFrom - producedBy, `delay min ${min} ms ≥ ${replicatorFrom - producedBy} ms, stored to replicator start`);
    for (const v of delay.Values) assert.ok(v >= min && v <= max, `value ${v} within ${min}..${max}`);
    assert.ok(
      max <= replicatorBy - producedFrom + 2,
      `delay max ${max} ms ≤ ${replicatorBy - producedFrom} ms, first send to replicator end`,
    );
    // Its hand-over went to the (fake) platform as the same job, for its successor.
    assert.deepEqual(JSON.parse(invokes.at(-1)!.body), { ...job, successor: true });
  });
});

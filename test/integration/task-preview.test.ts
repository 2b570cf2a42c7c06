// POST /v1/tasks/preview on real clusters, through the local runtime over HTTP and through the CLI
// (`ferry tasks preview -f`): uniquely named topics and groups are created on the test-bed clusters
// first, then the preview must list them selected or not with the reason, read both sides of a
// two-way task (one with ACL), store nothing, and never print or log the secret key.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'ferry.mjs');
const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

interface TopicRow {
  name: string;
  queues: number;
  selected: boolean;
  reason: string;
}

describe('task preview on real clusters', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let a: Side;
  let b: Side;
  let dir: string;

  const ORDERS = `pv_orders_${stamp}`;
  const DLQ = `pv_orders_dlq_${stamp}`;
  const OTHER = `other_${stamp}`;
  const ON_B = `pv_b_${stamp}`;
  const APP = `pv_app_${stamp}`;
  const TMP = `pv_tmp_${stamp}`;

  const body = (over: Record<string, unknown> = {}) => ({
    direction: 'one-way',
    source: endpointOf(a.c),
    target: endpointOf(b.c),
    filter: { topics: { include: [`pv_.*_${stamp}`], exclude: [`pv_orders_dlq_.*`] } },
    groups: { include: [`pv_app_.*`], exclude: [] },
    ...over,
  });
  const secret = () => b.c.acl!.secretKey;

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const t of [ORDERS, DLQ, OTHER])
      await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: t, readQueueNums: 3, writeQueueNums: 3, perm: 6 });
    // Readable queues are what a preview counts: a write-only topic has none.
    await b.admin.createOrUpdateTopicInCluster(b.c.name, { topicName: ON_B, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    for (const g of [APP, TMP]) await a.admin.createOrUpdateGroupInCluster(a.c.name, { groupName: g });
    rt = await startRuntime({ store: 'embedded', env: { LOG_LEVEL: 'debug' } });
    api = client(rt);
    dir = await mkdtemp(join(tmpdir(), 'ferry-preview-'));
  });
  after(async () => {
    await rt?.stop();
    // Best effort: leave the shared clusters without this run's names.
    for (const t of [ORDERS, DLQ, OTHER]) await a?.admin.deleteTopic(a.c.name, t).catch(() => undefined);
    for (const g of [APP, TMP]) await a?.admin.deleteGroup(a.c.name, g).catch(() => undefined);
    await b?.admin.deleteTopic(b.c.name, ON_B).catch(() => undefined);
    a?.remoting.close();
    b?.remoting.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const topicOf = (flow: { topics: TopicRow[] }, name: string) => {
    const t = flow.topics.find((x) => x.name === name);
    assert.ok(t, `${name} is listed`);
    return t;
  };

  it('one-way: every topic of the source with queues, selected or not and why; groups by the groups filter', async () => {
    const r = await api('POST', '/v1/tasks/preview', body());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.flows.length, 1);
    const f = r.body.flows[0];
    assert.equal(f.flow, `${a.c.name}->${b.c.name}`);
    const masters = a.c.brokers.length;
    assert.deepEqual(topicOf(f, ORDERS), {
      name: ORDERS,
      queues: 3 * masters,
      selected: true,
      reason: `included by pattern "pv_.*_${stamp}"`,
    });
    assert.deepEqual(topicOf(f, DLQ), {
      name: DLQ,
      queues: 3 * masters,
      selected: false,
      reason: 'excluded by pattern "pv_orders_dlq_.*"',
    });
    assert.deepEqual(topicOf(f, OTHER), {
      name: OTHER,
      queues: 3 * masters,
      selected: false,
      reason: 'not matched by any include pattern',
    });
    assert.equal(
      f.topics.some((t: TopicRow) => t.name === ON_B),
      false,
      'a one-way preview reads the source only',
    );
    // RocketMQ's own topics are listed and never selected, even by ".*".
    const all = await api('POST', '/v1/tasks/preview', body({ filter: { topics: { include: ['.*'] } } }));
    const system = all.body.flows[0].topics.filter((t: TopicRow) => t.reason === 'system topic (never replicated)');
    assert.ok(system.length > 0, 'system topics are listed');
    assert.ok(
      system.some((t: TopicRow) => t.name === 'SCHEDULE_TOPIC_XXXX' || t.name.startsWith('rmq_sys_') || t.name.startsWith('RMQ_SYS_')),
      system.map((t: TopicRow) => t.name).join(', '),
    );
    assert.ok(system.every((t: TopicRow) => !t.selected));

    const groups = new Map<string, { selected: boolean; reason: string }>(f.groups.map((g: { name: string }) => [g.name, g]));
    assert.equal(groups.get(APP)?.selected, true);
    assert.equal(groups.get(TMP)?.selected, false);
    assert.equal(groups.get(TMP)?.reason, 'not matched by any include pattern');
    const systemGroups = f.groups.filter((g: { reason: string }) => g.reason === 'system group (never synced)');
    assert.ok(systemGroups.length > 0, "RocketMQ's own groups are listed");
    assert.ok(systemGroups.every((g: { selected: boolean }) => !g.selected));
    assert.equal(f.groupsError, undefined);

    // Nothing was created.
    assert.deepEqual((await api('GET', '/v1/tasks')).body.items, []);
  });

  it('two-way: both sides are read, the ACL side with the body credentials; the secret is neither answered nor logged', async () => {
    const r = await api('POST', '/v1/tasks/preview', body({ direction: 'two-way', name: 'pv-two-way' }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.flows.map((f: { flow: string }) => f.flow),
      [`${a.c.name}->${b.c.name}`, `${b.c.name}->${a.c.name}`],
    );
    const reverse = r.body.flows[1];
    assert.deepEqual(topicOf(reverse, ON_B), {
      name: ON_B,
      queues: 2 * b.c.brokers.length,
      selected: true,
      reason: `included by pattern "pv_.*_${stamp}"`,
    });
    assert.ok(!r.text.includes(secret()), 'the secret is not in the answer');
    assert.ok(!rt.output().includes(secret()), 'the secret is not in the runtime log');
  });

  it('refusals name the field: a bad pattern, an unreachable name server, a reader token', async () => {
    const bad = await api('POST', '/v1/tasks/preview', body({ groups: { include: ['(x'] } }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'groups.include.0');
    const down = await api('POST', '/v1/tasks/preview', body({ source: { ...endpointOf(a.c), nameServer: '127.0.0.1:1' } }));
    assert.equal(down.status, 400, down.text);
    assert.deepEqual([down.body.error.code, down.body.error.field], ['VALIDATION_FAILED', 'source.nameServer']);
    assert.match(down.body.error.message, new RegExp(`^the source cluster ${a.c.name} could not be read: `));
    const reader = await client(rt, rt.readerToken)('POST', '/v1/tasks/preview', body());
    assert.equal(reader.status, 403);
  });

  it('ferry tasks preview -f: a table per flow, --json the API answer; exit 1 with the field on a refusal', async () => {
    const file = join(dir, 'task.json');
    await writeFile(file, JSON.stringify(body({ direction: 'two-way' })));
    const human = await ferry(['tasks', 'preview', '-f', file]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      new RegExp(`^Flow ${a.c.name}->${b.c.name}: \\d+ of \\d+ topics selected, \\d+ of \\d+ groups selected$`, 'm'),
    );
    assert.match(human.stdout, /^TOPIC\s+QUEUES\s+SELECTED\s+REASON$/m);
    assert.match(human.stdout, new RegExp(`^${ORDERS}\\s+\\d+\\s+yes\\s+included by pattern "pv_\\.\\*_${stamp}"$`, 'm'));
    assert.match(human.stdout, new RegExp(`^${DLQ}\\s+\\d+\\s+no\\s+excluded by pattern "pv_orders_dlq_\\.\\*"$`, 'm'));
    assert.match(human.stdout, new RegExp(`^Flow ${b.c.name}->${a.c.name}: `, 'm'));
    assert.ok(!human.stdout.includes(secret()) && !human.stderr.includes(secret()));

    const json = await ferry(['--json', 'tasks', 'preview', '-f', file]);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout);
    assert.equal(topicOf(parsed.flows[0], ORDERS).selected, true);

    await writeFile(file, JSON.stringify(body({ filter: { topics: { include: ['[oops'] } } })));
    const refused = await ferry(['tasks', 'preview', '-f', file]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^ferry: VALIDATION_FAILED: .*\(field: filter\.topics\.include\.0\)/m);
  });

  function ferry(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }
});

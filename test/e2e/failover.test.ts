// Failover and failback end to end on real 5.3.3 clusters (A = v5, B = v5acl), through the local
// runtime's HTTP API, with Apache's Java client (FerryPeer group-consume) as the consumer on A.
//
// Planned with reverse: messages still being copied (a low tpsLimit keeps a backlog) when it is asked;
// lag 0 before the stop (the audit trail's order, and B holds every message); the group's offsets on B
// are the translated ones; the B→A task created by the failover copies what B receives afterwards to
// A (and nothing of before); then back again (a planned failover of that task).
// Unplanned (asked through the CLI): a flow stopped mid-stream; the possible loss reported per queue
// equals what the test finds missing on B by message body.
// Nothing left behind: a retry a Java push consumer asked for (reconsumeLater), a delayed message and
// a timer message, all still pending on A at the failover, reach the group on B once, at their time:
// within 2 s of when A itself delivers them (A's own copies, due meanwhile, are the clock).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ConsumerOffsetClient } from '../../shared/rocketmq/remoting/consumer-offsets.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { javaPeer } from '../testbed/java-peer.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, readUntilQuiet, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 4;
/** Offset pairs are kept every 16 source offsets: a translation errs toward redelivery by fewer than that. */
const PAIR_SPACING = 16;

const ferry = (args: string[], env: NodeJS.ProcessEnv) =>
  promisify(execFile)(process.execPath, [join(import.meta.dirname, '..', '..', 'bin', 'ferry.mjs'), ...args], { env });

const creds = (c: ClusterInfo) => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

/** Sends `count` messages (bodies `${tag} ${n}`) to the topic's queues round-robin, 100 a batch; body → queue. */
async function produce(s: Side, topic: string, count: number, tag: string): Promise<Map<string, number>> {
  const sent = new Map<string, number>();
  for (let n = 0, i = 0; n < count; i++) {
    const bodies = Array.from({ length: Math.min(100, count - n) }, (_, k) => `${tag} ${n + k}`);
    await s.broker.sendBatch(
      s.addr,
      topic,
      i % QUEUES,
      bodies.map((b) => ({ body: Buffer.from(b) })),
    );
    for (const b of bodies) sent.set(b, i % QUEUES);
    n += bodies.length;
  }
  return sent;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const total = async (s: Side, topic: string) => {
  let n = 0;
  for (let q = 0; q < QUEUES; q++) n += await s.broker.maxOffset(s.addr, topic, q);
  return n;
};

interface FailoverView {
  mode: string;
  state: string;
  lagAtStart: number | null;
  lag: number | null;
  possibleLoss: {
    total: number;
    queues: { topic: string; queueId: number; missing: number; sourceEnd: number; replicated: number }[];
  } | null;
  offsets: { synced: number } | null;
  reverseTaskId: string | null;
  reason: string | null;
  delayed: { carried: number; failed: number; note: string | null } | null;
}

describe('failover and failback v5 → v5acl', () => {
  let rt: Runtime;
  let a: Side;
  let b: Side;
  const prefix = `e2efo${Date.now().toString(36)}`;
  const api = () => client(rt);

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    for (const s of [a, b]) {
      for (const t of [`${prefix}_planned`, `${prefix}_unplanned`, `${prefix}_gone`, `${prefix}_later`])
        await s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: t, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 });
    }
    for (const g of ['g', 'g2', 'g3']) await a.admin.createOrUpdateGroupInCluster(a.c.name, { groupName: `${prefix}_${g}` });
    rt = await startRuntime({
      store: 'embedded',
      env: {
        FERRY_RECONCILE_INTERVAL_MS: '500',
        FERRY_METADATA_SYNC_INTERVAL_MS: '3000',
        FERRY_REPLICATOR_BUDGET_MS: '20000',
        LOG_LEVEL: 'info',
      },
    });
  });
  after(async () => {
    await rt?.stop();
    // The retry topic the push consumer made holds the fired retry: other files' tasks would carry it.
    for (const s of [a, b]) await s?.admin.deleteTopic(s.c.name, `%RETRY%${prefix}_g3`).catch(() => undefined);
    a?.remoting.close();
    b?.remoting.close();
  });

  async function createTask(name: string, topic: string, tpsLimit: number): Promise<string> {
    const created = await api()('POST', '/v1/tasks', {
      name,
      direction: 'one-way',
      source: endpointOf(a.c),
      target: endpointOf(b.c),
      startOffset: { type: 'earliest' },
      filter: { topics: { include: [topic], exclude: [] } },
      groups: { include: [`${prefix}_.*`], exclude: [] },
      tpsLimit,
    });
    assert.equal(created.status, 201, created.text);
    await waitForStatus(api(), created.body.id, 'running');
    return created.body.id as string;
  }

  const failoverOf = async (id: string) => (await api()('GET', `/v1/tasks/${id}`)).body.failover as FailoverView | null;
  const finished = (id: string) =>
    until(`the failover of ${id} to finish`, 150_000, async () => {
      const f = await failoverOf(id);
      return f && (f.state === 'done' || f.state === 'failed') ? f : undefined;
    });

  it('refuses bad bodies naming the field, and planned on a task that is not running', async () => {
    const id = await createTask(`${prefix}-refusals`, `${prefix}_unplanned`, 1);
    await api()('POST', `/v1/tasks/${id}/stop`);
    const bad = await api()('POST', `/v1/tasks/${id}/failover`, { mode: 'sometime' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'mode');
    const badReverse = await api()('POST', `/v1/tasks/${id}/failover`, { mode: 'planned', reverse: 'yes' });
    assert.equal(badReverse.body.error.field, 'reverse');
    const stopped = await api()('POST', `/v1/tasks/${id}/failover`, { mode: 'planned' });
    assert.equal(stopped.status, 409);
    assert.equal(stopped.body.error.code, 'INVALID_STATE');
    assert.equal((await api()('DELETE', `/v1/tasks/${id}`)).status, 204);
  });

  it('planned with reverse: lag 0 before the stop, offsets on B as translated, B→A carries what B receives, and back', async () => {
    const topic = `${prefix}_planned`;
    const group = `${prefix}_g`;
    const taskId = await createTask(`${prefix}-planned`, topic, 400);
    await produce(a, topic, 2000, 'first');
    // The group consumes 1,500 of them on A with Apache's Java client and commits.
    const consumed = await javaPeer(
      '5.3.3',
      [
        'group-consume',
        '--namesrv',
        a.c.nameServer,
        '--topic',
        topic,
        '--group',
        group,
        '--count',
        '1500',
        '--quiet-ms',
        '0',
        '--pull-batch',
        '32',
        '--timeout-ms',
        '120000',
        ...creds(a.c),
      ],
      { timeoutMs: 180_000 },
    );
    assert.equal(consumed.exitCode, 0, consumed.stderr.slice(-2000));
    const committed = Object.entries((consumed.lines.at(-1) as { committed: Record<string, string> }).committed).map(([k, v]) => ({
      queueId: Number(k.split('/')[1]),
      offset: Number(v),
    }));
    const onA = new ConsumerOffsetClient(a.remoting);
    await until('the commit on A', 30_000, async () => {
      for (const c of committed) if ((await onA.queryOffset(a.addr, group, topic, c.queueId)) !== c.offset) return undefined;
      return true;
    });
    // More messages, so the 400/s limit leaves a backlog when the failover is asked; then producers "stop".
    await produce(a, topic, 3000, 'second');
    const asked = await api()('POST', `/v1/tasks/${taskId}/failover`, { mode: 'planned', reverse: true });
    assert.equal(asked.status, 202, asked.text);
    assert.equal(asked.body.failover.state, 'waiting-for-lag');
    assert.equal(asked.body.status, 'running');
    const again = await api()('POST', `/v1/tasks/${taskId}/failover`, { mode: 'unplanned' });
    assert.equal(again.status, 409, 'one failover at a time');

    const f = await finished(taskId);
    console.log(`# planned failover: ${JSON.stringify({ ...f, possibleLoss: undefined })}`);
    assert.equal(f.state, 'done', f.reason ?? '');
    assert.ok(f.lagAtStart !== null && f.lagAtStart > 0, `a backlog at the start (${f.lagAtStart})`);
    assert.equal(f.lag, 0);
    const task = (await api()('GET', `/v1/tasks/${taskId}`)).body;
    assert.equal(task.status, 'stopped');
    // Lag 0 before the stop: drained, then translated (the step that stops the task), the pending delayed
    // messages carried once the replicators are gone (none here), then done.
    const events = ((await api()('GET', `/v1/tasks/${taskId}/events`)).body.items as { action: string; after: Record<string, unknown> }[])
      .filter((e) => e.action.startsWith('failover'))
      .reverse();
    assert.deepEqual(
      events.map((e) => e.action),
      ['failover', 'failover-lag-snapshot', 'failover-drained', 'failover-translated', 'failover-delayed-carried', 'failover-done'],
    );
    assert.equal(events[2]!.after.lag, 0);
    assert.equal(events[2]!.after.status, 'running');
    assert.equal(events[3]!.after.status, 'stopped');
    assert.equal(await total(b, topic), 5000, 'every message on B');

    // The group's offsets on B are the translated ones: at most one pair spacing before its commit on A.
    assert.ok(f.offsets && f.offsets.synced >= QUEUES, JSON.stringify(f.offsets));
    const items = ((await api()('GET', `/v1/tasks/${taskId}/offsets`)).body.items as Record<string, unknown>[]).filter(
      (i) => i.group === group,
    );
    const onB = new ConsumerOffsetClient(b.remoting);
    for (const c of committed) {
      const item = items.find((i) => i.queueId === c.queueId && i.status === 'synced');
      assert.ok(item, `queue ${c.queueId} translated`);
      const target = item.targetOffset as number;
      assert.equal(await onB.queryOffset(b.addr, group, topic, item.targetQueueId as number), target);
      assert.ok(target <= c.offset && target > c.offset - PAIR_SPACING, `queue ${c.queueId}: ${target} for commit ${c.offset}`);
    }

    // Failback: the B→A task runs from B's ends at the failover; what B receives now reaches A, nothing before.
    assert.ok(f.reverseTaskId);
    const reverse = await waitForStatus(api(), f.reverseTaskId, 'running', 90_000);
    assert.deepEqual([reverse.source.clusterId, reverse.target.clusterId, reverse.direction], [b.c.name, a.c.name, 'one-way']);
    await produce(b, topic, 500, 'on B');
    await until('B’s new messages on A', 120_000, async () => ((await total(a, topic)) >= 5500 ? true : undefined));
    const onAll = (await readUntilQuiet(a, topic, QUEUES, { expect: 5500, quietMs: 3000 })).flat().map((m) => m.body.toString());
    assert.equal(onAll.length, 5500, 'the 500 written to B, once each, and no replica copied back');
    assert.equal(onAll.filter((x) => x.startsWith('on B ')).length, 500);

    // The group goes on consuming on B (still below B's ends at the failover): the B→A task translates its
    // commits back to A through the forward pairs it was seeded with.
    const onB2 = await javaPeer(
      '5.3.3',
      [
        'group-consume',
        '--namesrv',
        b.c.nameServer,
        '--topic',
        topic,
        '--group',
        group,
        '--count',
        '1000',
        '--quiet-ms',
        '0',
        ...creds(b.c),
      ],
      { timeoutMs: 180_000 },
    );
    assert.equal(onB2.exitCode, 0, onB2.stderr.slice(-2000));
    const committedOnB = Object.entries((onB2.lines.at(-1) as { committed: Record<string, string> }).committed).map(([k, v]) => ({
      queueId: Number(k.split('/')[1]),
      offset: Number(v),
    }));
    const back2 = await until('the commits on B translated back to A', 90_000, async () => {
      const items = ((await api()('GET', `/v1/tasks/${f.reverseTaskId}/offsets`)).body.items as Record<string, unknown>[]).filter(
        (i) => i.group === group && i.status === 'synced',
      );
      return committedOnB.every((c) => items.some((i) => i.queueId === c.queueId && i.sourceOffset === c.offset)) ? items : undefined;
    });
    for (const c of committedOnB) {
      const item = back2.find((i) => i.queueId === c.queueId && i.sourceOffset === c.offset)!;
      const target = item.targetOffset as number;
      assert.ok(c.offset < 5000 / QUEUES, `queue ${c.queueId}: the commit on B (${c.offset}) is below B's end at the failover`);
      assert.equal(await onA.queryOffset(a.addr, group, topic, item.targetQueueId as number), target);
      assert.ok(target <= c.offset && target > c.offset - PAIR_SPACING, `queue ${c.queueId}: ${target} on A for commit ${c.offset} on B`);
    }

    // And back again: a planned failover of the B→A task.
    const back = await api()('POST', `/v1/tasks/${f.reverseTaskId}/failover`, { mode: 'planned' });
    assert.equal(back.status, 202, back.text);
    const fb = await finished(f.reverseTaskId);
    assert.equal(fb.state, 'done', fb.reason ?? '');
    assert.equal(fb.lag, 0);
    assert.equal(fb.reverseTaskId, null);
  });

  it('nothing left behind: a reconsumeLater retry, a delayed and a timer message pending on A reach B once, on time', async () => {
    const topic = `${prefix}_later`;
    const group = `${prefix}_g3`;
    const retryTopic = `%RETRY%${group}`;
    const taskId = await createTask(`${prefix}-later`, topic, 10_000);
    const [normal] = (await a.broker.send(a.addr, topic, 0, { body: Buffer.from('put back') })).msgIds;
    // Apache's push consumer answers RECONSUME_LATER with delay level 5 (1 min): the retry waits on A.
    const putBack = await javaPeer(
      '5.3.3',
      ['push-consume', '--namesrv', a.c.nameServer, '--topic', topic, '--group', group, '--expect', '1', '--later', '--delay-level', '5'],
      { timeoutMs: 120_000 },
    );
    assert.equal(putBack.exitCode, 0, putBack.stderr.slice(-2000));
    assert.equal((putBack.lines[0] as { uniqKey: string }).uniqKey, normal);
    // Metadata sync has made the group's retry topic on B (the carried retry goes there).
    const routesOfB = new NameServerClient(b.remoting, b.c.nameServer);
    await until(`${retryTopic} on B`, 60_000, async () => (await routesOfB.topicRoute(retryTopic).catch(() => undefined)) && true);
    const now = Date.now();
    const [delayed] = (await a.broker.send(a.addr, topic, 1, { body: Buffer.from('delayed 30 s'), delayLevel: 4 })).msgIds;
    const [timer] = (await a.broker.send(a.addr, topic, 2, { body: Buffer.from('timer 45 s'), deliverAtMs: now + 45_000 })).msgIds;
    const asked = await api()('POST', `/v1/tasks/${taskId}/failover`, { mode: 'planned' });
    assert.equal(asked.status, 202, asked.text);
    const f = await finished(taskId);
    console.log(`# failover with pending delayed messages: ${JSON.stringify(f.delayed)} in ${Date.now() - now} ms`);
    assert.equal(f.state, 'done', f.reason ?? '');
    assert.deepEqual(f.delayed, { carried: 3, failed: 0, note: null }, 'the retry, the delayed and the timer message were carried');

    // The group on B (its offsets translated past the message it consumed on A) gets the three, each once.
    const onB = await javaPeer(
      '5.3.3',
      [
        'push-consume',
        '--namesrv',
        b.c.nameServer,
        '--topic',
        topic,
        '--group',
        group,
        '--expect',
        '3',
        '--timeout-ms',
        '150000',
        ...creds(b.c),
      ],
      { timeoutMs: 200_000 },
    );
    assert.equal(onB.exitCode, 0, onB.stderr.slice(-2000));
    const deliveries = onB.lines as { uniqKey: string; reconsumeTimes: number; deliveredAt: number }[];
    assert.deepEqual(deliveries.map((d) => d.uniqKey).sort(), [normal, delayed, timer].sort(), JSON.stringify(deliveries));
    // A delivered its own copies meanwhile (the task had stopped, so they stayed on A): its store times are the clock.
    const firedOnA = async (id: string, where: string, queueId: number) => {
      const got = await until(`A's own delivery of ${id}`, 60_000, async () => {
        const r = await a.broker.pull(a.addr, { topic: where, queueId, offset: 0, maxMessages: 32 });
        return r.messages.find((m) => m.uniqKey === id && m.topic === where);
      });
      return got.storeTimestamp;
    };
    const retryQueue = 0; // a retry topic has one queue
    for (const [id, where, queueId] of [
      [delayed, topic, 1],
      [timer, topic, 2],
      [normal, retryTopic, retryQueue],
    ] as const) {
      const atA = await firedOnA(id!, where, queueId);
      const atB = deliveries.find((d) => d.uniqKey === id)!.deliveredAt;
      console.log(`# ${where} ${id}: A delivered it at ${atA}, the group on B got it at ${atB} (${atB - atA} ms)`);
      assert.ok(Math.abs(atB - atA) <= 2000, `${id} on B within 2 s of A: ${atB - atA} ms`);
    }
    // Once on B: each sits in B's real topic (or the group's retry topic) once.
    const copies = async (t: string, queues: number) =>
      (await readUntilQuiet(b, t, queues, { expect: 0, quietMs: 1000 })).flat().map((m) => m.uniqKey);
    const onBTopic = await copies(topic, QUEUES);
    for (const id of [delayed, timer]) assert.equal(onBTopic.filter((k) => k === id).length, 1, `${id} once in ${topic} on B`);
    assert.equal((await copies(retryTopic, 1)).filter((k) => k === normal).length, 1, 'the retry once in the retry topic on B');
  });

  it('unplanned: stops mid-stream; the possible loss per queue equals what is missing on B', async () => {
    const topic = `${prefix}_unplanned`;
    const taskId = await createTask(`${prefix}-unplanned`, topic, 300);
    const sent = await produce(a, topic, 5000, 'm');
    await until('copying under way', 60_000, async () => ((await total(b, topic)) >= 600 ? true : undefined));
    // Through the CLI: without a terminal it refuses unless --yes.
    const env = { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken };
    const refusedCli = await ferry(['tasks', 'failover', taskId, '--mode', 'unplanned'], env).catch(
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok('code' in refusedCli && refusedCli.code === 2, 'refused without --yes');
    assert.match(refusedCli.stderr, /refusing without --yes/);
    const asked = JSON.parse((await ferry(['tasks', 'failover', taskId, '--mode', 'unplanned', '--yes', '-o', 'json'], env)).stdout);
    assert.equal(asked.status, 'stopped');
    assert.deepEqual([asked.failover.mode, asked.failover.state], ['unplanned', 'stopping']);
    const f = await finished(taskId);
    assert.equal(f.state, 'done', f.reason ?? '');
    assert.ok(f.possibleLoss, f.reason ?? 'possible loss reported');
    const shown = await ferry(['tasks', 'get', taskId], env);
    assert.match(shown.stdout, new RegExp(`Failover:[\\s\\S]*State:\\s+done[\\s\\S]*Possible loss:\\s+${f.possibleLoss.total}\\n`));

    const onB = (await readUntilQuiet(b, topic, QUEUES, { expect: 0, quietMs: 3000 })).flat().map((m) => m.body.toString());
    const seen = new Set(onB);
    const missing = [...sent.keys()].filter((k) => !seen.has(k));
    const missingByQueue = [0, 1, 2, 3].map((q) => missing.filter((k) => sent.get(k) === q).length);
    console.log(
      `# unplanned failover: on B ${onB.length} (${seen.size} distinct), missing ${missing.length} ${JSON.stringify(missingByQueue)}, ` +
        `reported ${f.possibleLoss.total} ${JSON.stringify(f.possibleLoss.queues.map((q) => [q.queueId, q.missing]))}`,
    );
    assert.ok(missing.length > 0 && missing.length < 5000, 'stopped mid-stream');
    assert.equal(f.possibleLoss.total, missing.length);
    for (let q = 0; q < QUEUES; q++) {
      const reported: number = f.possibleLoss.queues.find((x) => x.queueId === q)?.missing ?? 0;
      assert.equal(reported, missingByQueue[q], `queue ${q}`);
    }
  });

  it('unplanned with the source gone: offsets translated from the last commits read, the possible loss unknown', async () => {
    const topic = `${prefix}_gone`;
    const group = `${prefix}_g2`;
    const taskId = await createTask(`${prefix}-gone`, topic, 10_000);
    await produce(a, topic, 1000, 'gone');
    await until('1,000 on B', 60_000, async () => ((await total(b, topic)) >= 1000 ? true : undefined));
    const consumed = await javaPeer(
      '5.3.3',
      ['group-consume', '--namesrv', a.c.nameServer, '--topic', topic, '--group', group, '--count', '600', '--quiet-ms', '0'],
      { timeoutMs: 180_000 },
    );
    assert.equal(consumed.exitCode, 0, consumed.stderr.slice(-2000));
    const committed = Object.entries((consumed.lines.at(-1) as { committed: Record<string, string> }).committed).map(([k, v]) => ({
      queueId: Number(k.split('/')[1]),
      offset: Number(v),
    }));
    type Item = { group: string; queueId: number; sourceOffset: number; targetQueueId: number; targetOffset: number; status: string };
    const synced = await until('the periodic cycle to translate the commit', 90_000, async () => {
      const items = ((await api()('GET', `/v1/tasks/${taskId}/offsets`)).body.items as Item[]).filter((i) => i.group === group);
      const all = committed.every((c) =>
        items.some((i) => i.queueId === c.queueId && i.sourceOffset === c.offset && i.status === 'synced'),
      );
      return all ? items : undefined;
    });
    // The source "goes away": the stopped task now points at a name server nobody listens on.
    await api()('POST', `/v1/tasks/${taskId}/stop`);
    await waitForStatus(api(), taskId, 'stopped');
    const patched = await api()('PATCH', `/v1/tasks/${taskId}`, { source: { nameServer: '127.0.0.1:1' } });
    assert.equal(patched.status, 200, patched.text);
    // B's offsets lowered behind Ferry's back: only the failover's translation can put them back.
    const onB = new ConsumerOffsetClient(b.remoting);
    for (const i of synced) await onB.updateOffset(b.addr, group, topic, i.targetQueueId, 0);

    const asked = await api()('POST', `/v1/tasks/${taskId}/failover`, { mode: 'unplanned' });
    assert.equal(asked.status, 202, asked.text);
    const f = await finished(taskId);
    console.log(`# unplanned failover, source gone: ${JSON.stringify(f)}`);
    assert.equal(f.state, 'done', f.reason ?? '');
    assert.equal(f.possibleLoss, null);
    assert.match(f.reason ?? '', /possible loss is unknown/);
    assert.match(f.reason ?? '', /translated from the last ones read/);
    assert.ok(f.offsets && f.offsets.synced >= committed.length, JSON.stringify(f.offsets));
    for (const i of synced)
      assert.equal(await onB.queryOffset(b.addr, group, topic, i.targetQueueId), i.targetOffset, `queue ${i.queueId}`);
  });
});

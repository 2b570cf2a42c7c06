// Filters and access on REAL clusters, through tasks created over the API of one local runtime:
// - a SQL92 filter (user properties and TAGS) and topic exclude patterns let exactly the selected
//   messages and topics through, and the metrics count the rest as filtered (or never read them);
// - a topic made on the source while a task runs is created on the target by the replicator's
//   on-demand metadata sync (the timer is off here) and every message written to it arrives once;
// - a two-way task between two 4.9.7 clusters (one with ACL 1.0) delivers every message once per
//   side, no loop, as Apache's Java client reads them;
// - the task's own key on an ACL target (an ACL 2.0 user disabled, an ACL 1.0 account deleted)
//   revoked mid-stream: the refused messages are parked with the broker's reason, the stream
//   resumes by itself once the key is back, a retry request delivers the parked ones, nothing is
//   lost or doubled, and the secret shows in no log line and no API answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { ORIGIN } from '../../shared/replication/origin.ts';
import { TopicNotFoundError } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { javaConsume, javaPeer, type JavaPeerResult } from '../testbed/java-peer.ts';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf, side, waitForStatus, type Side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v).slice(0, 600)}`);
    await sleep(500);
    v = await fn();
  }
  return v;
}

/** Every message of the topic's queues 0..queues-1 on that side, read from the start. */
async function readTopic(s: Side, topic: string, queues: number): Promise<StoredMessage[]> {
  const out: StoredMessage[] = [];
  for (let q = 0; q < queues; q++) {
    let offset = 0;
    for (;;) {
      const r = await s.broker.pull(s.addr, { topic, queueId: q, offset, maxMessages: 32 });
      if (r.messages.length === 0) break;
      out.push(...r.messages);
      offset = r.nextBeginOffset;
    }
  }
  return out;
}

const ids = (ms: readonly StoredMessage[]) => ms.map((m) => m.uniqKey!).sort();

const creds = (c: ClusterInfo): string[] => (c.acl ? ['--ak', c.acl.accessKey, '--sk', c.acl.secretKey] : []);

function ok(r: JavaPeerResult, what: string): void {
  assert.equal(r.exitCode, 0, `${what} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
}

type Totals = { consumed: number; replicated: number; filtered: number; loopSkipped: number; failed: number };

describe('filters and access on real clusters', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let v4: Side;
  let v4acl: Side;
  let v5: Side;
  let v5acl: Side;
  const run = `fa${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

  before(async () => {
    [v4, v4acl, v5, v5acl] = (await Promise.all([testCluster('v4'), testCluster('v4acl'), testCluster('v5'), testCluster('v5acl')])).map(
      side,
    ) as [Side, Side, Side, Side];
    rt = await startRuntime({
      store: 'embedded',
      env: {
        FERRY_RECONCILE_INTERVAL_MS: '500',
        FERRY_REPLICATOR_BUDGET_MS: '12000',
        // Metadata sync on its timer is off: what a task gets beyond its start's sync comes from the
        // replicator's on-demand request.
        FERRY_METADATA_SYNC_INTERVAL_MS: '3600000',
      },
    });
    api = client(rt);
  });
  after(async () => {
    await rt?.stop();
    for (const s of [v4, v4acl, v5, v5acl]) s?.remoting.close();
  });

  const topicOn = async (s: Side, topic: string, queues: number) =>
    s.admin.createOrUpdateTopicInCluster(s.c.name, { topicName: topic, readQueueNums: queues, writeQueueNums: queues, perm: 6 });

  const startTask = async (body: Record<string, unknown>): Promise<string> => {
    const r = await api('POST', '/v1/tasks', { direction: 'one-way', startOffset: { type: 'latest' }, ...body });
    assert.equal(r.status, 201, r.text);
    await waitForStatus(api, r.body.id, 'running', 120_000);
    return r.body.id as string;
  };

  const totals = async (id: string, flow?: string): Promise<Totals> => {
    const points = (await api('GET', `/v1/tasks/${id}/metrics`)).body.points as (Totals & { flow: string })[];
    const t: Totals = { consumed: 0, replicated: 0, filtered: 0, loopSkipped: 0, failed: 0 };
    for (const p of points) {
      if (flow && p.flow !== flow) continue;
      for (const k of Object.keys(t) as (keyof Totals)[]) t[k] += p[k];
    }
    return t;
  };

  it('SQL92 filter on user properties and TAGS: exactly the matching messages arrive, the rest are counted as filtered', async () => {
    const topic = `${run}_sql`;
    for (const s of [v5, v4]) await topicOn(s, topic, 2);
    const expression = "(region = 'eu' AND amount > 100) OR TAGS = 'vip'";
    const id = await startTask({
      name: `${run}-sql92`,
      source: endpointOf(v5.c),
      target: endpointOf(v4.c),
      filter: { topics: { include: [topic], exclude: [] }, expression: { type: 'SQL92', value: expression } },
    });

    // 120 messages: every fifth tagged vip; region eu/us/ap, missing on every seventh (SQL's
    // unknown: only the TAGS branch can select those); amounts 0..199.
    const sent = new Map<string, OutgoingMessage>();
    const expected = new Set<string>();
    for (let n = 0; n < 120; n += 10) {
      const batch: OutgoingMessage[] = Array.from({ length: 10 }, (_, j) => {
        const i = n + j;
        const region = i % 7 === 0 ? undefined : ['eu', 'us', 'ap'][i % 3]!;
        return {
          body: Buffer.from(`sql92 message ${i}`),
          tags: i % 5 === 0 ? 'vip' : 'std',
          keys: [`sql-${i}`],
          properties: { seq: String(i), amount: String((i * 37) % 200), ...(region ? { region } : {}) },
        };
      });
      const r = await v5.broker.sendBatch(v5.addr, topic, (n / 10) % 2, batch);
      batch.forEach((m, j) => {
        const key = r.msgIds[j]!;
        sent.set(key, m);
        const p = m.properties!;
        if ((p.region === 'eu' && Number(p.amount) > 100) || m.tags === 'vip') expected.add(key);
      });
    }
    assert.ok(expected.size > 20 && expected.size < 100, `a real selection: ${expected.size} of 120`);
    // The source broker's own SQL92 filter picks the same messages (the selection is RocketMQ's, not just ours).
    const brokerPicked: string[] = [];
    for (let q = 0; q < 2; q++) {
      for (let offset = 0; ; ) {
        const r = await v5.broker.pull(v5.addr, {
          topic,
          queueId: q,
          offset,
          maxMessages: 32,
          expression: { type: 'SQL92', value: expression },
        });
        brokerPicked.push(...r.messages.map((m) => m.uniqKey!));
        if (r.nextBeginOffset <= offset) break;
        offset = r.nextBeginOffset;
      }
    }
    assert.deepEqual(brokerPicked.sort(), [...expected].sort(), 'precondition: the broker selects the same messages');

    // Every message read and judged, then the target holds the selection and nothing else.
    const t = await until(
      'all 120 consumed and judged',
      () => totals(id),
      (x) => x.consumed >= 120 && x.filtered + x.replicated >= 120,
    );
    assert.deepEqual(
      { consumed: t.consumed, replicated: t.replicated, filtered: t.filtered, failed: t.failed },
      { consumed: 120, replicated: expected.size, filtered: 120 - expected.size, failed: 0 },
      'metrics: every message consumed once, the non-matching ones counted as filtered',
    );
    const got = await readTopic(v4, topic, 2);
    assert.deepEqual(ids(got), [...expected].sort(), 'the target holds exactly the matching messages, once each');
    for (const m of got) {
      const s = sent.get(m.uniqKey!)!;
      assert.deepEqual(m.body, s.body);
      assert.equal(m.tags, s.tags);
      assert.deepEqual(m.keys, s.keys);
      for (const [k, v] of Object.entries(s.properties!)) assert.equal(m.properties[k], v, `property ${k}`);
      assert.equal(m.properties.region === undefined, s.properties!.region === undefined, 'no property invented');
      assert.equal(m.properties[ORIGIN.cluster], v5.c.name);
    }
    await api('POST', `/v1/tasks/${id}/stop`);
  });

  it('topic exclude patterns: excluded topics are never read or written, included ones arrive whole', async () => {
    const keep = [`${run}_ex_a`, `${run}_ex_b`];
    const skip = [`${run}_ex_skip1`, `${run}_ex_c_audit`];
    for (const s of [v4, v5]) for (const t of [...keep, ...skip]) await topicOn(s, t, 2);
    const id = await startTask({
      name: `${run}-exclude`,
      source: endpointOf(v4.c),
      target: endpointOf(v5.c),
      filter: { topics: { include: [`${run}_ex_.*`], exclude: [`${run}_ex_skip.*`, '.*_audit'] } },
    });
    const sent = new Map<string, string[]>();
    for (const t of [...keep, ...skip]) {
      const list: string[] = [];
      for (let q = 0; q < 2; q++) {
        const batch = Array.from({ length: 15 }, (_, i) => ({ body: Buffer.from(`${t} ${q}/${i}`), tags: 'x' }));
        list.push(...(await v4.broker.sendBatch(v4.addr, t, q, batch)).msgIds);
      }
      sent.set(t, list);
    }
    const t = await until(
      'the included topics replicated',
      () => totals(id),
      (x) => x.replicated >= 60,
    );
    for (const topic of keep) {
      const got = await readTopic(v5, topic, 2);
      assert.deepEqual(ids(got), [...sent.get(topic)!].sort(), `${topic}: all 30, once each`);
    }
    // Replicated and consumed agree: the excluded topics' 60 messages were never even read.
    assert.deepEqual(
      { consumed: t.consumed, replicated: t.replicated, filtered: t.filtered },
      { consumed: 60, replicated: 60, filtered: 0 },
    );
    // One more discovery round (a hand-over lists the source's queues again) changes nothing.
    await sleep(13_000);
    for (const topic of skip) assert.deepEqual(await readTopic(v5, topic, 2), [], `${topic} is excluded: nothing reaches the target`);
    assert.equal((await totals(id)).consumed, 60, 'still nothing read from the excluded topics');
    await api('POST', `/v1/tasks/${id}/stop`);
  });

  it('a topic created on the source while the task runs is created on the target on demand; every message arrives once', async () => {
    // Target v4acl: other test bed tasks sync into it from v4 only, so what creates this v5 topic there is this task.
    const topic = `${run}_od_new`;
    const id = await startTask({
      name: `${run}-on-demand`,
      source: endpointOf(v5.c),
      target: endpointOf(v4acl.c),
      filter: { topics: { include: [`${run}_od_.*`], exclude: [] } },
    });
    await topicOn(v5, topic, 4);
    const targetNames = new NameServerClient(v4acl.remoting, v4acl.c.nameServer);
    await assert.rejects(targetNames.topicRoute(topic), TopicNotFoundError, 'precondition: not on the target');
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const batch = Array.from({ length: 10 }, (_, j) => ({ body: Buffer.from(`on demand ${i}/${j}`), keys: [`od-${i}-${j}`] }));
      sent.push(...(await v5.broker.sendBatch(v5.addr, topic, i % 4, batch)).msgIds);
      await sleep(150);
    }
    const t = await until(
      '400 replicated',
      () => totals(id),
      (x) => x.replicated >= 400,
      120_000,
    );
    assert.equal(t.replicated, 400);
    assert.equal(t.failed, 0, 'nothing parked while the topic was missing');
    const route = await targetNames.topicRoute(topic);
    assert.equal(
      route.queueDatas.reduce((n, q) => n + q.writeQueueNums, 0),
      4,
      'created with the source queue count',
    );
    const got = await readTopic(v4acl, topic, 4);
    assert.deepEqual(ids(got), [...sent].sort(), 'every message once');
    const items = (await api('GET', `/v1/tasks/${id}/metadata`)).body.items as {
      kind: string;
      name: string;
      action: string;
      status: string;
    }[];
    const item = items.find((x) => x.kind === 'topic' && x.name === topic);
    assert.deepEqual(item && { action: item.action, status: item.status }, { action: 'create', status: 'synced' }, 'this task created it');
    await api('POST', `/v1/tasks/${id}/stop`);
  });
  it('two-way between two 4.9.7 clusters (one with ACL 1.0): every message once on each side, as the Java client reads them', async () => {
    const topic = `${run}_tw`;
    for (const s of [v4, v4acl]) await topicOn(s, topic, 4);
    const id = await startTask({
      name: `${run}-two-way`,
      direction: 'two-way',
      source: endpointOf(v4.c),
      target: endpointOf(v4acl.c),
      filter: { topics: { include: [topic], exclude: [] } },
    });
    const N = 100;
    // Apache's producer writes N messages on each side (queues round-robin), `seq` telling them apart.
    const produced = await Promise.all(
      [
        { s: v4, from: 0 },
        { s: v4acl, from: 1000 },
      ].map(async ({ s, from }) => {
        const r = await javaPeer(
          s.c.version,
          [
            'produce',
            '--namesrv',
            s.c.nameServer,
            '--topic',
            topic,
            ...creds(s.c),
            '--count',
            String(N),
            '--index-from',
            String(from),
            '--body-text',
            `two-way {i} from ${s.c.name}`,
            '--tags',
            'tw',
            '--keys',
            'tw-{i}',
            '--prop',
            'seq={i}',
            '--prop',
            `written=${s.c.name}`,
            '--interval-ms',
            '5',
          ],
          { timeoutMs: 180_000 },
        );
        ok(r, `produce on ${s.c.name}`);
        return (r.lines as { msgId: string; sendStatus: string }[]).map((l, i) => ({ seq: String(from + i), cluster: s.c.name, ...l }));
      }),
    );
    const originals = new Map(produced.flat().map((o) => [o.seq, o]));
    assert.equal(originals.size, 2 * N);
    for (const o of originals.values()) assert.equal(o.sendStatus, 'SEND_OK');

    // Java's consumer reads each side until it has 2N and nothing new came for 8 s: a message
    // bouncing back or copied twice would be read as an extra.
    const reads = await Promise.all(
      [v4, v4acl].map(async (s) => {
        const r = await javaConsume(
          s.c.version,
          ['--namesrv', s.c.nameServer, '--topic', topic, '--expect', String(2 * N), ...creds(s.c)].concat([
            '--timeout-ms',
            '60000',
            '--quiet-ms',
            '8000',
          ]),
          2 * N,
          { timeoutMs: 120_000 },
        );
        return { s, r, lines: r.lines as { msgId: string; properties: Record<string, string>; bodyBase64: string; keys: string }[] };
      }),
    );
    for (const { s, r, lines } of reads) {
      const other = s === v4 ? v4acl : v4;
      const bySeq = new Map<string, number>();
      for (const m of lines) bySeq.set(m.properties.seq ?? '?', (bySeq.get(m.properties.seq ?? '?') ?? 0) + 1);
      const missing = [...originals.keys()].filter((seq) => !bySeq.has(seq));
      const extra = [...bySeq].filter(([seq, n]) => n > 1 || !originals.has(seq)).map(([seq, n]) => `${seq}×${n}`);
      assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${s.c.name}: every message once (${r.stderr.slice(-400)})`);
      assert.equal(lines.length, 2 * N);
      for (const m of lines) {
        const o = originals.get(m.properties.seq!)!;
        assert.equal(m.msgId, o.msgId, `${s.c.name} seq ${o.seq}: the producer's message id`);
        assert.equal(Buffer.from(m.bodyBase64, 'base64').toString(), `two-way ${o.seq} from ${o.cluster}`);
        assert.equal(m.keys, `tw-${o.seq}`);
        if (o.cluster === s.c.name) assert.equal(m.properties[ORIGIN.cluster], undefined, 'an original, not a replica');
        else {
          assert.equal(m.properties[ORIGIN.cluster], other.c.name, 'a replica of the other side');
          assert.equal(m.properties[ORIGIN.path], `${other.c.name},${s.c.name}`);
        }
      }
    }
    // Each flow read its side's N originals and N replicas, copied the originals, skipped the replicas.
    for (const flow of ['forward', 'reverse']) {
      const t = await until(
        `${flow} totals`,
        () => totals(id, flow),
        (x) => x.consumed >= 2 * N && x.replicated + x.loopSkipped >= 2 * N,
      );
      assert.deepEqual(
        { consumed: t.consumed, replicated: t.replicated, loopSkipped: t.loopSkipped },
        { consumed: 2 * N, replicated: N, loopSkipped: N },
        flow,
      );
    }
    await api('POST', `/v1/tasks/${id}/stop`);
  });

  // A dedicated key for the task on an ACL target, revoked while messages flow, restored later.
  interface Key {
    accessKey: string;
    secretKey: string;
  }
  const revocations = [
    {
      what: 'the task user disabled on the ACL 2.0 target (5.3.3)',
      source: () => v5,
      target: () => v5acl,
      key: { accessKey: `${run}_task`, secretKey: `pw-${randomBytes(12).toString('hex')}` },
      grant: (k: Key) => v5acl.admin.createUser(v5acl.addr, { username: k.accessKey, password: k.secretKey, userType: 'Super' }),
      revoke: (k: Key) => v5acl.admin.updateUser(v5acl.addr, { username: k.accessKey, userStatus: 'disable' }),
      restore: (k: Key) => v5acl.admin.updateUser(v5acl.addr, { username: k.accessKey, userStatus: 'enable' }),
      remove: (k: Key) => v5acl.admin.deleteUser(v5acl.addr, k.accessKey),
      reason: (k: Key) => [/NO_PERMISSION/, new RegExp(`User:${k.accessKey} is disabled`)],
    },
    {
      what: 'the task account deleted on the ACL 1.0 target (4.9.7)',
      source: () => v4,
      target: () => v4acl,
      key: { accessKey: `${run}ak`, secretKey: `sk${randomBytes(12).toString('hex')}` },
      grant: (k: Key) => v4acl.admin.createOrUpdateAclAccount(v4acl.addr, { ...k, admin: true, topicPerms: [], groupPerms: [] }),
      revoke: (k: Key) => v4acl.admin.deleteAclAccount(v4acl.addr, k.accessKey),
      restore: (k: Key) => v4acl.admin.createOrUpdateAclAccount(v4acl.addr, { ...k, admin: true, topicPerms: [], groupPerms: [] }),
      remove: (k: Key) => v4acl.admin.deleteAclAccount(v4acl.addr, k.accessKey).catch(() => undefined),
      reason: (k: Key) => [/AclException/, new RegExp(`No acl config for ${k.accessKey}`)],
    },
  ];
  for (const [n, c] of revocations.entries()) {
    it(`${c.what} mid-stream: refusals parked with the reason, nothing lost or doubled once restored, no secret shown`, async () => {
      const [src, dst, k] = [c.source(), c.target(), c.key];
      const topic = `${run}_revoked${n}`;
      for (const s of [src, dst]) await topicOn(s, topic, 2);
      await c.grant(k);
      try {
        const id = await startTask({
          name: `${run}-revoked${n}`,
          source: endpointOf(src.c),
          target: endpointOf(dst.c, k),
          filter: { topics: { include: [topic], exclude: [] } },
        });
        const sent: string[] = [];
        const produce = async (label: string, batches: number) => {
          for (let i = 0; i < batches; i++) {
            const batch = Array.from({ length: 10 }, (_, j) => ({ body: Buffer.from(`${label} ${i}/${j}`), keys: [`${label}-${i}-${j}`] }));
            sent.push(...(await src.broker.sendBatch(src.addr, topic, i % 2, batch)).msgIds);
            await sleep(200);
          }
        };
        const failures = async () => (await api('GET', `/v1/tasks/${id}/failures`)).body.items as { reason: string; topic: string }[];

        await produce('before', 10);
        await until(
          'the first 100 on the target',
          () => readTopic(dst, topic, 2),
          (ms) => ms.length >= 100,
        );

        await c.revoke(k);
        await produce('revoked', 20);
        const parked = await until('refused messages parked', failures, (items) => items.length > 0, 90_000);
        for (const p of parked) {
          assert.equal(p.topic, topic);
          for (const re of c.reason(k)) assert.match(p.reason, re, 'the reason names the permission problem');
        }
        assert.equal((await readTopic(dst, topic, 2)).length, 100, 'nothing written with the revoked key');
        assert.equal((await api('GET', `/v1/tasks/${id}`)).body.status, 'running', 'the task keeps running');

        await c.restore(k);
        await produce('restored', 10);
        // The stream resumes by itself (what was still being retried goes through); the parked
        // messages come back on a retry request, the designed path for them.
        await until(
          'every message on the target',
          async () => {
            if ((await failures()).length > 0) await api('POST', `/v1/tasks/${id}/failures/retry`);
            return readTopic(dst, topic, 2);
          },
          (ms) => new Set(ms.map((m) => m.uniqKey)).size >= sent.length,
          150_000,
        );
        const t = await until(
          'metrics',
          () => totals(id),
          (x) => x.replicated >= sent.length,
        );
        await sleep(3000); // a late duplicate would land now
        assert.deepEqual(ids(await readTopic(dst, topic, 2)), [...sent].sort(), `all ${sent.length} exactly once`);
        assert.deepEqual(await failures(), [], 'no parked message left');
        assert.equal(t.replicated, sent.length, 'each message replicated once, the parked ones by the retry');
        assert.ok(t.failed >= parked.length, `parked messages count as failures (${t.failed})`);

        // The secret appears nowhere: not in the runtime's logs, not in any answer about the task.
        const answers = await Promise.all(
          ['', '/failures?includePayload=true', '/metadata', '/events', '/metrics'].map(
            async (p) => (await api('GET', `/v1/tasks/${id}${p}`)).text,
          ),
        );
        for (const text of [rt.output(), ...answers]) assert.ok(!text.includes(k.secretKey), 'the secret key never appears');
        await api('POST', `/v1/tasks/${id}/stop`);
      } finally {
        await c.remove(k);
      }
    });
  }
});

// Metadata sync on real clusters: two ACL-enabled 5.3.3 clusters of this file's own (A with two
// brokers, B with one), a task row in a throwaway embedded store, one syncTaskMetadata call per
// cycle. Results are checked on the clusters with Apache's mqadmin and with RemotingAdmin reads.
// A last part reads the shared 4.9.7 ACL 1.0 cluster as a source.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { RocketMQCluster, type ClusterInfo } from '../testbed/cluster.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import { runMetadataSync, type MetadataSyncRunDeps } from '../../shared/metadata/run.ts';
import { syncTaskMetadata, type MetadataSyncResult } from '../../shared/metadata/sync.ts';
import { RemotingAdmin, type AclInfo, type TopicConfig } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { parseLenientJson } from '../../shared/rocketmq/remoting/codec.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RemotingResponseError, ResponseCode } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { RequestCode } from '../../shared/rocketmq/remoting/request-codes.ts';
import { isSystemTopic } from '../../shared/filter/system-resources.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { MetadataItem, Store, TaskRow } from '../../shared/store/store.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';
import { testCluster } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const log = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });

async function mq(c: ClusterInfo, args: string[]): Promise<string> {
  const r = await mqadmin(c.version, [...args, '-n', c.nameServer], { credentials: c.acl });
  return r.stdout + r.stderr;
}

async function eventually(check: () => Promise<string | undefined>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problem: string | undefined;
  do {
    problem = await check();
    if (problem === undefined) return;
    await new Promise((r) => setTimeout(r, 500));
  } while (Date.now() < deadline);
  assert.fail(problem);
}

/** The value mqadmin getConsumerConfig prints for a field (`name  =  value`). */
const consumerConfigField = (out: string, field: string) => new RegExp(`^\\s*${field}\\s+=\\s+(\\S*)`, 'm').exec(out)?.[1];

/** What mqadmin topicRoute says about a topic: queue data per broker. */
async function route(
  c: ClusterInfo,
  topic: string,
): Promise<{ brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }[]> {
  const out = await mq(c, ['topicRoute', '-t', topic]);
  const json = out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1);
  try {
    // The route JSON keys brokerAddrs by bare integers ({0:"host:port"}).
    return (
      parseLenientJson(json) as { queueDatas: { brokerName: string; readQueueNums: number; writeQueueNums: number; perm: number }[] }
    ).queueDatas
      .map(({ brokerName, readQueueNums, writeQueueNums, perm }) => ({ brokerName, readQueueNums, writeQueueNums, perm }))
      .sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  } catch {
    return [];
  }
}

interface Side {
  info: ClusterInfo;
  remoting: RemotingClient;
  admin: RemotingAdmin;
  masters: string[];
}

function side(info: ClusterInfo): Side {
  const remoting = new RemotingClient({ credentials: info.acl, requestTimeoutMs: 10_000 });
  return {
    info,
    remoting,
    admin: new RemotingAdmin(remoting, new NameServerClient(remoting, info.nameServer)),
    masters: info.brokers.map((b) => b.address),
  };
}

const topicsOf = async (s: Side, i = 0): Promise<Map<string, TopicConfig>> => s.admin.getAllTopicConfigs(s.masters[i]!);
const groupOf = async (s: Side, name: string, i = 0) => (await s.admin.getAllGroups(s.masters[i]!)).get(name);

describe('metadata sync on real 5.3.3 clusters (A: 2 brokers, B: 1 broker, both ACL 2.0)', () => {
  let clusterA: RocketMQCluster;
  let clusterB: RocketMQCluster;
  let A: Side;
  let B: Side;
  let db: Throwaway<string>;
  let store: Store;
  const cipher = aesGcmCipher(randomBytes(32));
  let deps: MetadataSyncRunDeps;
  const clients: RemotingClient[] = [];

  const T1 = `md_t1_${stamp}`;
  const T2 = `md_t2_${stamp}`;
  const B_ONLY = `md_bonly_${stamp}`;
  const G1 = `md_g1_${stamp}`;

  const endpoint = (s: Side) => selfBuilt({ clusterId: s.info.name, nameServer: s.info.nameServer, acl: s.info.acl });
  const sync = async (task: TaskRow, expect: MetadataSyncResult['outcome'] = 'ok'): Promise<MetadataSyncResult> => {
    const r = await syncTaskMetadata(task, deps);
    assert.equal(r.outcome, expect, JSON.stringify(r));
    return r;
  };
  const items = async (task: TaskRow) =>
    new Map((await store.listMetadataItems(task.id)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}/${r.direction}`, r]));

  before(async () => {
    // Both starts are waited for, so after() stops whichever came up when the other did not.
    // Generous start timeouts: the test machine is shared and often busy.
    const started = await Promise.allSettled([
      RocketMQCluster.start({ version: '5.3.3', name: `md-a-${process.pid}`, acl: true, brokers: 2, startTimeoutMs: 180_000 }).then(
        (c) => (clusterA = c),
      ),
      RocketMQCluster.start({ version: '5.3.3', name: `md-b-${process.pid}`, acl: true, startTimeoutMs: 180_000 }).then(
        (c) => (clusterB = c),
      ),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    A = side(clusterA.info);
    B = side(clusterB.info);
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
    deps = { store, cipher, log };
  });

  after(async () => {
    for (const c of clients) c.close();
    A?.remoting.close();
    B?.remoting.close();
    await store?.close();
    await db?.drop();
    await Promise.all([clusterA?.stop(), clusterB?.stop()]);
  });

  describe('one-way task A → B', () => {
    let task: TaskRow;
    let bSystemBefore: Map<string, TopicConfig>;

    before(async () => {
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: T1, readQueueNums: 4, writeQueueNums: 4, perm: 6 });
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: T2, readQueueNums: 8, writeQueueNums: 8, perm: 6 });
      await A.admin.createOrUpdateGroupInCluster(A.info.name, {
        groupName: G1,
        retryMaxTimes: 5,
        consumeBroadcastEnable: false,
        consumeEnable: false,
      });
      await B.admin.createOrUpdateTopicInCluster(B.info.name, { topicName: T2, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
      await B.admin.createOrUpdateTopicInCluster(B.info.name, { topicName: B_ONLY, readQueueNums: 3, writeQueueNums: 3, perm: 6 });
      bSystemBefore = new Map(
        [...(await topicsOf(B))].filter(([n]) => isSystemTopic(n, new Set([B.info.name, ...B.info.brokers.map((b) => b.name)]))),
      );
      task = await insertTestTask(store, taskSpec({ direction: 'one-way', source: endpoint(A), target: endpoint(B) }, cipher));
    });

    it(
      'first sync: a topic created on A appears on B with the same per-broker queue counts and perm; a differing one is ' + 'updated',
      async () => {
        const r = await sync(task);
        assert.equal(r.first, true);
        assert.equal(r.deleted, 0);
        await eventually(async () => {
          const got = await route(B.info, T1);
          const want = [{ brokerName: B.info.brokers[0]!.name, readQueueNums: 4, writeQueueNums: 4, perm: 6 }];
          return JSON.stringify(got) === JSON.stringify(want) ? undefined : `route of ${T1} on B: ${JSON.stringify(got)}`;
        });
        // A has the topic on two brokers with 4 queues each: B's one broker gets 4, not 8.
        assert.deepEqual(
          (await route(A.info, T1)).map((q) => q.readQueueNums),
          [4, 4],
        );
        const t2 = (await topicsOf(B)).get(T2);
        assert.deepEqual([t2?.readQueueNums, t2?.writeQueueNums], [8, 8], "the differing topic takes the source's counts");
        const rows = await items(task);
        assert.deepEqual(
          [rows.get(`topic/${T1}/source_to_target`)?.action, rows.get(`topic/${T1}/source_to_target`)?.status],
          ['create', 'synced'],
        );
        assert.equal(rows.get(`topic/${T2}/source_to_target`)?.action, 'update');
      },
    );

    it('first sync: the group appears on B with its settings (retry max times, broadcast, consume enable)', async () => {
      const out = await mq(B.info, ['getConsumerConfig', '-g', G1]);
      assert.equal(consumerConfigField(out, 'groupName'), G1, out);
      assert.equal(consumerConfigField(out, 'retryMaxTimes'), '5');
      assert.equal(consumerConfigField(out, 'consumeBroadcastEnable'), 'false');
      assert.equal(consumerConfigField(out, 'consumeEnable'), 'false');
      assert.equal((await items(task)).get(`group/${G1}/source_to_target`)?.status, 'synced');
    });

    it(
      "first sync leaves the target-only topic alone and never changes system topics; A's own cluster/broker topics are not " + 'copied',
      async () => {
        const b = await topicsOf(B);
        assert.equal(b.get(B_ONLY)?.readQueueNums, 3);
        for (const [name, cfg] of bSystemBefore) assert.deepEqual(b.get(name), cfg, `system topic ${name} unchanged`);
        for (const own of [A.info.name, ...A.info.brokers.map((x) => x.name)]) assert.ok(!b.has(own), `${own} not copied`);
        // A and B are fresh clusters: anything recorded besides this test's items would be a system
        // topic/group (or Ferry's own user) that slipped through.
        const synced = [...(await items(task)).keys()];
        assert.deepEqual(
          synced.filter((k) => !k.includes(stamp)),
          [],
          'only user items are synced',
        );
      },
    );

    it('nothing changed: the next cycle writes nothing (cheap)', async () => {
      const r = await sync(task);
      assert.deepEqual([r.first, r.created, r.updated, r.deleted, r.stored], [false, 0, 0, 0, false]);
    });

    it('modified on A (queue count up, read-only perm; group retry/broadcast/read-enable) → follows on B', async () => {
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: T1, readQueueNums: 8, writeQueueNums: 8, perm: 4 });
      await A.admin.createOrUpdateGroupInCluster(A.info.name, {
        groupName: G1,
        retryMaxTimes: 9,
        consumeBroadcastEnable: true,
        consumeEnable: true,
      });
      const r = await sync(task);
      assert.equal(r.updated, 2);
      await eventually(async () => {
        const got = await route(B.info, T1);
        return got.length === 1 && got[0]!.readQueueNums === 8 && got[0]!.writeQueueNums === 8 && got[0]!.perm === 4
          ? undefined
          : `route of ${T1} on B: ${JSON.stringify(got)}`;
      });
      const out = await mq(B.info, ['getConsumerConfig', '-g', G1]);
      assert.equal(consumerConfigField(out, 'retryMaxTimes'), '9', out);
      assert.equal(consumerConfigField(out, 'consumeBroadcastEnable'), 'true');
      assert.equal(consumerConfigField(out, 'consumeEnable'), 'true');
    });

    it('a target-side change to a synced topic is undone; the target-only topic still stays', async () => {
      await B.admin.createOrUpdateTopic(B.masters[0]!, { topicName: T2, readQueueNums: 1, writeQueueNums: 1, perm: 6 });
      await sync(task);
      assert.equal((await topicsOf(B)).get(T2)?.readQueueNums, 8);
      assert.ok((await topicsOf(B)).has(B_ONLY));
    });

    it('deleted on A → deleted on B (topic and group)', async () => {
      await A.admin.deleteTopic(A.info.name, T1);
      await A.admin.deleteGroup(A.info.name, G1);
      const r = await sync(task);
      assert.equal(r.deleted, 2);
      await eventually(async () => {
        const out = await mq(B.info, ['topicList']);
        return out.split('\n').some((l) => l.trim() === T1) ? `topicList of B still has ${T1}` : undefined;
      });
      assert.equal(await groupOf(B, G1), undefined);
      assert.equal(consumerConfigField(await mq(B.info, ['getConsumerConfig', '-g', G1]), 'groupName'), undefined);
      assert.equal((await items(task)).get(`topic/${T1}/source_to_target`)?.action, 'delete');
      await store.deleteTask('default', task.id); // the two-way task below takes over the pair
    });
  });

  describe('two-way task A ⇄ B', () => {
    let task: TaskRow;
    const TB = `md_tb_${stamp}`;
    const TA = `md_ta_${stamp}`;
    const GB = `md_gb_${stamp}`;

    before(async () => {
      task = await insertTestTask(store, taskSpec({ direction: 'two-way', source: endpoint(A), target: endpoint(B) }, cipher));
      await sync(task); // first sync of this task: copies B-only items to A, deletes nothing
    });

    it("first two-way sync copied B's own topic to A, on both of A's brokers", async () => {
      assert.deepEqual(
        (await route(A.info, B_ONLY)).map((q) => q.readQueueNums),
        [3, 3],
      );
    });

    it('a topic and a group created on B appear on A', async () => {
      await B.admin.createOrUpdateTopicInCluster(B.info.name, { topicName: TB, readQueueNums: 6, writeQueueNums: 6, perm: 6 });
      await B.admin.createOrUpdateGroupInCluster(B.info.name, { groupName: GB, retryMaxTimes: 2 });
      const r = await sync(task);
      assert.equal(r.created, 2);
      for (let i = 0; i < A.masters.length; i++) {
        assert.equal((await topicsOf(A, i)).get(TB)?.readQueueNums, 6, `broker ${i} of A`);
        assert.equal((await groupOf(A, GB, i))?.retryMaxTimes, 2);
      }
      assert.equal((await items(task)).get(`topic/${TB}/target_to_source`)?.status, 'synced');
      // Ferry's own writes are not bounced back.
      const again = await sync(task);
      assert.deepEqual([again.created, again.updated, again.deleted], [0, 0, 0]);
    });

    it('a topic created on A appears on B', async () => {
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: TA, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
      await sync(task);
      assert.equal((await topicsOf(B)).get(TA)?.readQueueNums, 2);
    });

    it('deletion on either side follows: TB deleted on B goes from A, TA deleted on A goes from B', async () => {
      await B.admin.deleteTopic(B.info.name, TB);
      await A.admin.deleteTopic(A.info.name, TA);
      const r = await sync(task);
      assert.equal(r.deleted, 2);
      for (let i = 0; i < A.masters.length; i++) assert.ok(!(await topicsOf(A, i)).has(TB));
      assert.ok(!(await topicsOf(B)).has(TA));
      assert.equal((await items(task)).get(`topic/${TB}/target_to_source`)?.action, 'delete');
    });

    it('changed on both sides in one cycle: the source (A) wins', async () => {
      await A.admin.createOrUpdateGroupInCluster(A.info.name, { groupName: GB, retryMaxTimes: 4 });
      await B.admin.createOrUpdateGroupInCluster(B.info.name, { groupName: GB, retryMaxTimes: 11 });
      const r = await sync(task);
      assert.equal(r.conflicts, 1);
      assert.equal((await groupOf(B, GB))?.retryMaxTimes, 4);
      assert.equal((await groupOf(A, GB))?.retryMaxTimes, 4);
    });

    it('a stopped task does not sync; started again, it catches up on what changed meanwhile', async () => {
      const TS = `md_ts_${stamp}`;
      const stopped = await store.updateTask('default', task.id, task.version, { desiredState: 'stopped', status: 'stopped' });
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: TS, readQueueNums: 1, writeQueueNums: 1, perm: 6 });
      const run1 = await runMetadataSync(deps);
      assert.ok(!run1.results.some((x) => x.taskId === task.id));
      assert.ok(!(await topicsOf(B)).has(TS));
      task = await store.updateTask('default', task.id, stopped.version, { desiredState: 'running', status: 'running' });
      const run2 = await runMetadataSync(deps);
      assert.equal(run2.results.find((x) => x.taskId === task.id)?.outcome, 'ok');
      assert.ok((await topicsOf(B)).has(TS));
    });

    describe('ACL 2.0 users and ACLs', () => {
      const user = `mdU${stamp}`;
      const subject = `User:${user}`;
      const TOPIC = `md_acl_t_${stamp}`;
      const OTHER = `md_acl_other_${stamp}`;
      const as = (password: string) => {
        const c = new RemotingClient({ credentials: { accessKey: user, secretKey: password }, requestTimeoutMs: 5000 });
        clients.push(c);
        return c;
      };
      const maxOffset = (c: RemotingClient, topic: string) => c.invoke(B.masters[0]!, RequestCode.GET_MAX_OFFSET, { topic, queueId: '0' });
      const refused = async (p: Promise<unknown>, what: string) => {
        const err = await p.then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(
          err instanceof RemotingResponseError && err.responseCode === ResponseCode.NO_PERMISSION,
          `${what}: expected NO_PERMISSION, got ${String(err)}`,
        );
      };
      const aclOf = (topics: string[], actions: AclInfo['policies'][number]['entries'][number]['actions']): AclInfo => ({
        subject,
        policies: [{ policyType: 'Custom', entries: topics.map((t) => ({ resource: `Topic:${t}`, actions, decision: 'Allow' as const })) }],
      });

      before(async () => {
        await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: TOPIC, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
        await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: OTHER, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
      });

      it('a user and its ACL created on A appear on B; a client using the synced user authenticates on B', async () => {
        for (const m of A.masters) {
          await A.admin.createUser(m, { username: user, password: 'pw-one', userType: 'Normal' });
          await A.admin.createAcl(m, aclOf([TOPIC], ['Pub', 'Get']));
        }
        const r = await sync(task);
        assert.ok(r.created >= 4, JSON.stringify(r)); // two topics, the user, the ACL
        assert.match(await mq(B.info, ['getUser', '-c', B.info.name, '-u', user]), new RegExp(`${user}\\s+pw-one\\s+Normal\\s+enable`));
        assert.deepEqual(await B.admin.getAcl(B.masters[0]!, subject), aclOf([TOPIC], ['Pub', 'Get']));
        const client = as('pw-one');
        await maxOffset(client, TOPIC);
        const sent = await new BrokerClient(client).send(B.masters[0]!, TOPIC, 0, { body: Buffer.from('hello from a synced user') });
        assert.equal(sent.status, 'SEND_OK');
        await refused(maxOffset(client, OTHER), 'topic outside the synced ACL');
        await refused(maxOffset(as('wrong-password'), TOPIC), 'wrong password');
        const rows = await items(task);
        assert.equal(rows.get(`acl_user/${user}/source_to_target`)?.status, 'synced');
        assert.equal(rows.get(`acl/${subject}/source_to_target`)?.status, 'synced');
        assert.equal(rows.get('acl_user/ferryAdmin/source_to_target'), undefined, "Ferry's own user is never synced");
      });

      it('updated on A (new password, ACL moved to another topic) → the same on B', async () => {
        for (const m of A.masters) {
          await A.admin.updateUser(m, { username: user, password: 'pw-two' });
          await A.admin.deleteAcl(m, subject);
          await A.admin.createAcl(m, aclOf([OTHER], ['Sub', 'Get']));
        }
        const r = await sync(task);
        assert.equal(r.updated, 2, JSON.stringify(r));
        assert.deepEqual(await B.admin.getAcl(B.masters[0]!, subject), aclOf([OTHER], ['Sub', 'Get']));
        await maxOffset(as('pw-two'), OTHER);
        await refused(maxOffset(as('pw-one'), OTHER), 'old password');
        await refused(maxOffset(as('pw-two'), TOPIC), 'topic removed from the ACL');
      });

      it('deleted on A → deleted on B; the user is refused there', async () => {
        for (const m of A.masters) await A.admin.deleteUser(m, user);
        const r = await sync(task);
        assert.ok(r.deleted >= 1, JSON.stringify(r));
        assert.equal(await B.admin.getUser(B.masters[0]!, user), undefined);
        assert.doesNotMatch(await mq(B.info, ['listUser', '-c', B.info.name]), new RegExp(`^${user}\\s`, 'm'));
        await refused(maxOffset(as('pw-two'), OTHER), 'deleted user');
      });
    });
  });

  describe('4.9.7 (ACL 1.0) source → 5.3.3 target', () => {
    it('topics and groups sync; ACL 1.0 accounts are reported unsupported on a 5.3.3 target, with the reason', async () => {
      const v4 = await testCluster('v4acl');
      const src = side(v4);
      try {
        const topic = `md_v4_${stamp}`;
        const group = `md_v4g_${stamp}`;
        const ak = `mdAk${stamp}`;
        await src.admin.createOrUpdateTopicInCluster(v4.name, { topicName: topic, readQueueNums: 3, writeQueueNums: 3, perm: 6 });
        await src.admin.createOrUpdateGroupInCluster(v4.name, { groupName: group, retryMaxTimes: 6 });
        await src.admin.createOrUpdateAclAccountInCluster(v4.name, {
          accessKey: ak,
          secretKey: 'secret-123',
          admin: false,
          topicPerms: [`${topic}=PUB`],
          groupPerms: [],
        });
        // clusterId differs from the broker cluster name: the name server's only cluster is used.
        const task = await insertTestTask(
          store,
          taskSpec(
            {
              direction: 'one-way',
              source: selfBuilt({ clusterId: 'legacy-4x', nameServer: v4.nameServer, acl: v4.acl }),
              target: endpoint(B),
            },
            cipher,
          ),
        );
        await sync(task);
        const t = (await topicsOf(B)).get(topic);
        assert.deepEqual([t?.readQueueNums, t?.perm, t?.attributes], [3, 6, {}]);
        const g = await groupOf(B, group);
        assert.equal(g?.retryMaxTimes, 6);
        assert.equal(g?.groupRetryPolicy?.type, 'CUSTOMIZED', "5.x-only fields keep the target's defaults");
        const row = (await items(task)).get(`acl_account/${ak}/source_to_target`);
        assert.equal(row?.status, 'unsupported');
        assert.match(row?.error ?? '', /it has no ACL 1\.0/);
        assert.equal(
          (await items(task)).get(`acl_account/${v4.acl!.accessKey}/source_to_target`),
          undefined,
          "Ferry's own account is not listed",
        );
        // v4acl is shared with other test files, so only this test's own items are looked at.
        const before = await items(task);
        await sync(task);
        const later = await items(task);
        for (const k of [`topic/${topic}/source_to_target`, `group/${group}/source_to_target`]) {
          assert.equal(later.get(k)?.status, 'synced');
          assert.equal(
            later.get(k)?.syncedAt.getTime(),
            before.get(k)?.syncedAt.getTime(),
            `${k}: 4.x vs 5.x field differences do not look like changes`,
          );
        }
        await src.admin.deleteTopic(v4.name, topic);
        await src.admin.deleteGroup(v4.name, group);
        await src.admin.deleteAclAccountInCluster(v4.name, ak);
      } finally {
        src.remoting.close();
      }
    });
  });
});

// RemotingAdmin against real clusters; every write is checked with Apache's mqadmin, and things
// mqadmin writes are read back by RemotingAdmin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { mqadmin } from '../testbed/mqadmin.ts';
import { RemotingAdmin, type AclInfo, type TopicConfig } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import type { Credentials } from '../../shared/rocketmq/remoting/acl.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import type { RemotingCommand } from '../../shared/rocketmq/remoting/codec.ts';
import { RemotingResponseError, ResponseCode, UnsupportedOperationError } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { RequestCode } from '../../shared/rocketmq/remoting/request-codes.ts';
import { testCluster, type TestbedKey } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

async function mq(c: ClusterInfo, args: string[], credentials = c.acl): Promise<string> {
  const r = await mqadmin(c.version, [...args, '-n', c.nameServer], { credentials });
  return r.stdout + r.stderr;
}

/** Retries an mqadmin check briefly: route changes reach the name server asynchronously on some paths. */
async function eventually(check: () => Promise<string | undefined>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let problem: string | undefined;
  do {
    problem = await check();
    if (problem === undefined) return;
    await new Promise((r) => setTimeout(r, 500));
  } while (Date.now() < deadline);
  assert.fail(problem);
}

/** The value mqadmin getConsumerConfig prints for a field (reflection dump `name  =  value`). */
function consumerConfigField(out: string, field: string): string | undefined {
  return new RegExp(`^\\s*${field}\\s+=\\s+(\\S*)`, 'm').exec(out)?.[1];
}

/** A PULL_MESSAGE without heartbeat (subscription flag, `*`): needs Sub on the topic and the group. */
function pull(client: RemotingClient, addr: string, topic: string, group: string): Promise<RemotingCommand> {
  return client.invoke(
    addr,
    RequestCode.PULL_MESSAGE,
    {
      consumerGroup: group,
      topic,
      queueId: '0',
      queueOffset: '0',
      maxMsgNums: '1',
      sysFlag: String(0x4),
      commitOffset: '0',
      suspendTimeoutMillis: '0',
      subscription: '*',
      subVersion: '0',
      expressionType: 'TAG',
    },
    undefined,
    // An empty queue answers "not found"/"retry"/"offset moved": all mean the request was allowed.
    { accept: [ResponseCode.PULL_NOT_FOUND, ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_OFFSET_MOVED] },
  );
}

function maxOffset(client: RemotingClient, addr: string, topic: string): Promise<RemotingCommand> {
  return client.invoke(addr, RequestCode.GET_MAX_OFFSET, { topic, queueId: '0' });
}

async function refused(p: Promise<unknown>, what: string): Promise<RemotingResponseError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RemotingResponseError, `${what}: expected RemotingResponseError, got ${String(err)}`);
    return err;
  }
  assert.fail(`${what}: expected a refusal`);
}

function signedClient(credentials: Credentials): RemotingClient {
  return new RemotingClient({ credentials, requestTimeoutMs: 5000 });
}

const msg = () => ({ body: Buffer.from(`admin test ${Date.now()}`) });

for (const key of ['v4', 'v5', 'v4acl', 'v5acl'] as TestbedKey[]) {
  describe(`admin: topics and groups on ${key}`, () => {
    let c: ClusterInfo;
    let remoting: RemotingClient;
    let admin: RemotingAdmin;
    let addr: string;
    const topic = `adm_t_${key}_${stamp}`;
    const group = `adm_g_${key}_${stamp}`;
    // ACL variants repeat only the basic round trips (each mqadmin run costs a JVM start): enough to
    // show the admin requests are signed correctly.
    const full = !key.endsWith('acl');

    before(async () => {
      c = await testCluster(key);
      remoting = new RemotingClient({ credentials: c.acl });
      admin = new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer));
      addr = c.brokers[0]!.address;
    });
    after(() => remoting.close());

    it('creates a topic in the cluster that mqadmin topicRoute shows with its queue counts and perm', async () => {
      const masters = await admin.createOrUpdateTopicInCluster(c.name, { topicName: topic, readQueueNums: 3, writeQueueNums: 5, perm: 6 });
      assert.deepEqual(
        masters,
        c.brokers.map((b) => b.address),
      );
      await eventually(async () => {
        const out = await mq(c, ['topicRoute', '-t', topic]);
        return /"readQueueNums":3/.test(out) && /"writeQueueNums":5/.test(out) && /"perm":6/.test(out)
          ? undefined
          : `route of ${topic}: ${out}`;
      });
      const own = (await admin.getAllTopicConfigs(addr)).get(topic);
      assert.deepEqual(own && { r: own.readQueueNums, w: own.writeQueueNums, p: own.perm, o: own.order }, { r: 3, w: 5, p: 6, o: false });
    });

    if (full)
      it('updates queue counts and makes the topic read-only (perm 4)', async () => {
        await admin.createOrUpdateTopic(addr, { topicName: topic, readQueueNums: 6, writeQueueNums: 6, perm: 4 });
        await eventually(async () => {
          const out = await mq(c, ['topicRoute', '-t', topic]);
          return /"readQueueNums":6/.test(out) && /"writeQueueNums":6/.test(out) && /"perm":4/.test(out)
            ? undefined
            : `route of ${topic}: ${out}`;
        });
      });

    if (full)
      it('reads back a topic that mqadmin created, with the same fields', async () => {
        const t2 = `${topic}_mq`;
        const args = ['updateTopic', '-c', c.name, '-t', t2, '-r', '2', '-w', '3', '-p', '6', '-o', 'false'];
        if (c.version.startsWith('5')) args.push('-a', '+message.type=FIFO');
        assert.match(await mq(c, args), /success/);
        const cfg = (await admin.getAllTopicConfigs(addr)).get(t2);
        const expected: TopicConfig = {
          topicName: t2,
          readQueueNums: 2,
          writeQueueNums: 3,
          perm: 6,
          topicFilterType: 'SINGLE_TAG',
          topicSysFlag: 0,
          order: false,
          attributes: c.version.startsWith('5') ? { 'message.type': 'FIFO' } : {},
        };
        assert.deepEqual(cfg, expected);
        await admin.deleteTopic(c.name, t2);
      });

    it('deletes the topic from brokers and name server: gone from mqadmin topicList', async () => {
      await admin.deleteTopic(c.name, topic);
      await eventually(async () => {
        const out = await mq(c, ['topicList']);
        return out.split('\n').some((l) => l.trim() === topic) ? `topicList still has ${topic}` : undefined;
      });
      assert.equal((await admin.getAllTopicConfigs(addr)).has(topic), false);
    });

    it('creates a group that mqadmin getConsumerConfig shows with its settings', async () => {
      await admin.createOrUpdateGroupInCluster(c.name, {
        groupName: group,
        retryMaxTimes: 5,
        consumeBroadcastEnable: false,
        consumeEnable: false,
      });
      const out = await mq(c, ['getConsumerConfig', '-g', group]);
      assert.equal(consumerConfigField(out, 'groupName'), group, out);
      assert.equal(consumerConfigField(out, 'retryMaxTimes'), '5');
      assert.equal(consumerConfigField(out, 'consumeBroadcastEnable'), 'false');
      assert.equal(consumerConfigField(out, 'consumeEnable'), 'false');
      assert.equal(consumerConfigField(out, 'consumeFromMinEnable'), 'true', 'unset fields take the Java defaults');
    });

    if (full)
      it('reads back a group that mqadmin created and writes it back changed, other fields kept', async () => {
        const g2 = `${group}_mq`;
        assert.match(
          await mq(c, ['updateSubGroup', '-c', c.name, '-g', g2, '-r', '7', '-d', 'false', '-q', '2', '-m', 'false']),
          /success/,
        );
        const read = (await admin.getAllGroups(addr)).get(g2);
        assert.ok(read, 'group created by mqadmin is listed');
        assert.deepEqual(
          {
            r: read.retryMaxTimes,
            d: read.consumeBroadcastEnable,
            q: read.retryQueueNums,
            m: read.consumeFromMinEnable,
            e: read.consumeEnable,
          },
          { r: 7, d: false, q: 2, m: false, e: true },
        );
        if (c.version.startsWith('5')) {
          assert.equal(read.groupRetryPolicy?.type, 'CUSTOMIZED');
          assert.equal(read.consumeTimeoutMinute, 15);
          assert.equal(read.consumeMessageOrderly, false);
        } else {
          assert.equal(read.groupRetryPolicy, undefined, '4.9.7 has no retry policy');
        }
        await admin.createOrUpdateGroup(addr, { ...read, retryMaxTimes: 9 });
        const out = await mq(c, ['getConsumerConfig', '-g', g2]);
        assert.equal(consumerConfigField(out, 'retryMaxTimes'), '9', out);
        assert.equal(consumerConfigField(out, 'retryQueueNums'), '2');
        assert.equal(consumerConfigField(out, 'consumeFromMinEnable'), 'false');
        assert.equal(consumerConfigField(out, 'consumeBroadcastEnable'), 'false');
        await admin.deleteGroup(c.name, g2);
      });

    it('deletes the group: mqadmin no longer finds it', async () => {
      await admin.deleteGroup(c.name, group, { cleanOffset: true });
      const out = await mq(c, ['getConsumerConfig', '-g', group]);
      assert.equal(consumerConfigField(out, 'groupName'), undefined, out);
      assert.equal((await admin.getAllGroups(addr)).has(group), false);
    });

    if (key === 'v5') {
      it('5.x topic attributes: creates with +k=v, updates by difference, refuses re-adding an unchangeable one', async () => {
        const t3 = `${topic}_attr`;
        await admin.createOrUpdateTopic(addr, {
          topicName: t3,
          readQueueNums: 2,
          writeQueueNums: 2,
          attributes: { 'message.type': 'DELAY', 'queue.type': 'SimpleCQ' },
        });
        let current = (await admin.getAllTopicConfigs(addr)).get(t3);
        assert.deepEqual(current?.attributes, { 'message.type': 'DELAY', 'queue.type': 'SimpleCQ' });
        // Same desired attributes without `current` would send +queue.type again: 5.3.3 refuses.
        const err = await refused(admin.createOrUpdateTopic(addr, { ...current!, readQueueNums: 4 }), 'unchangeable attribute re-sent');
        assert.match(err.remark, /unchangeable attribute/);
        await admin.createOrUpdateTopic(
          addr,
          { ...current!, readQueueNums: 4, attributes: { 'message.type': 'NORMAL', 'queue.type': 'SimpleCQ' } },
          { current },
        );
        current = (await admin.getAllTopicConfigs(addr)).get(t3);
        assert.equal(current?.readQueueNums, 4);
        assert.deepEqual(current?.attributes, { 'message.type': 'NORMAL', 'queue.type': 'SimpleCQ' });
        // Oracle: mqadmin may delete an attribute only if the broker has it.
        assert.match(await mq(c, ['updateTopic', '-b', addr, '-t', t3, '-r', '4', '-w', '4', '-a', '-message.type']), /success/);
        const bogus = await mq(c, ['updateTopic', '-b', addr, '-t', t3, '-r', '4', '-w', '4', '-a', '-message.type']);
        assert.doesNotMatch(bogus, /success/, 'deleting a missing attribute fails, so the first delete found ours');
        await admin.deleteTopic(c.name, t3);
      });
    }
  });
}

describe('admin: ACL 1.0 accounts on v4acl (4.9.7)', () => {
  let c: ClusterInfo;
  let remoting: RemotingClient;
  let admin: RemotingAdmin;
  let addr: string;
  const topic = `acl1_t_${stamp}`;
  const group = `acl1_g_${stamp}`;
  const ak = `ferryAk${stamp}`;
  const sk = `secret-${stamp}`;
  const clients: RemotingClient[] = [];
  const as = (accessKey: string, secretKey: string) => {
    const cl = signedClient({ accessKey, secretKey });
    clients.push(cl);
    return cl;
  };

  before(async () => {
    c = await testCluster('v4acl');
    remoting = new RemotingClient({ credentials: c.acl });
    admin = new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer));
    addr = c.brokers[0]!.address;
    await admin.createOrUpdateTopicInCluster(c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2 });
  });
  after(async () => {
    await admin.deleteTopic(c.name, topic).catch(() => undefined);
    for (const cl of clients) cl.close();
    remoting.close();
  });

  it('creates an account that mqadmin getAclConfig lists; the account signs requests within its perms', async () => {
    await admin.createOrUpdateAclAccountInCluster(c.name, {
      accessKey: ak,
      secretKey: sk,
      admin: false,
      defaultTopicPerm: 'DENY',
      defaultGroupPerm: 'DENY',
      topicPerms: [`${topic}=PUB|SUB`],
      groupPerms: [`${group}=SUB`],
    });
    const out = await mq(c, ['getAclConfig', '-c', c.name]);
    assert.match(out, new RegExp(`accessKey\\s*: ${ak}`), out);
    assert.ok(out.includes(`${topic}=PUB|SUB`), 'topic perms as sent');
    assert.ok(out.includes(`${group}=SUB`), 'group perms as sent');

    const user = as(ak, sk);
    await pull(user, addr, topic, group); // Sub on topic and group: allowed
    await maxOffset(user, addr, topic);
    const denied = await refused(pull(user, addr, `${topic}_other`, group), 'pull from a topic outside the perms');
    const sender = new BrokerClient(user);
    await sender.send(addr, topic, 0, msg()); // PUB on the topic
    const sendDenied = await refused(sender.send(addr, `${topic}_other`, 0, msg()), 'send to a topic outside the perms');
    assert.match(sendDenied.remark, /permission/i, 'refused by the ACL, not for the missing topic');
    const notAdmin = await refused(
      new RemotingAdmin(user, new NameServerClient(user, c.nameServer)).createOrUpdateTopic(addr, { topicName: `${topic}_x` }),
      'non-admin account creating a topic',
    );
    const wrong = await refused(maxOffset(as(ak, 'not-the-secret'), addr, topic), 'wrong secret');
    console.log(
      `# 4.9.7 ACL 1.0: denied topic -> ${denied.responseCode} "${denied.remark}"; non-admin topic create -> ` +
        `${notAdmin.responseCode} "${notAdmin.remark}"; wrong secret -> ${wrong.responseCode} "${wrong.remark}"`,
    );
    for (const e of [denied, notAdmin]) {
      assert.ok([ResponseCode.NO_PERMISSION, ResponseCode.SYSTEM_ERROR].includes(e.responseCode as 1 | 16));
      assert.match(e.remark, /permission/i);
    }
    assert.ok([ResponseCode.NO_PERMISSION, ResponseCode.SYSTEM_ERROR].includes(wrong.responseCode as 1 | 16));
    assert.match(wrong.remark, /signature/i);
  });

  it('reads accounts back with getAclAccounts (code 54 exists in 4.9.7), including one mqadmin created', async () => {
    const ak2 = `${ak}mq`;
    const created = await mq(c, [
      'updateAclConfig',
      '-c',
      c.name,
      '-a',
      ak2,
      '-s',
      `${sk}2`,
      '-t',
      `${topic}=SUB`,
      '-g',
      `${group}=DENY`,
      '-i',
      'PUB',
      '-u',
      'SUB',
      '-m',
      'false',
    ]);
    assert.match(created, /success/);
    const acl = await admin.getAclAccounts(addr);
    assert.ok(
      acl.accounts.some((a) => a.accessKey === c.acl!.accessKey && a.admin),
      'the admin account of plain_acl.yml',
    );
    assert.deepEqual(
      acl.accounts.find((a) => a.accessKey === ak),
      {
        accessKey: ak,
        secretKey: sk,
        admin: false,
        defaultTopicPerm: 'DENY',
        defaultGroupPerm: 'DENY',
        topicPerms: [`${topic}=PUB|SUB`],
        groupPerms: [`${group}=SUB`],
      },
    );
    assert.deepEqual(
      acl.accounts.find((a) => a.accessKey === ak2),
      {
        accessKey: ak2,
        secretKey: `${sk}2`,
        admin: false,
        defaultTopicPerm: 'PUB',
        defaultGroupPerm: 'SUB',
        topicPerms: [`${topic}=SUB`],
        groupPerms: [`${group}=DENY`],
      },
    );
    const version = await admin.getAclConfigVersion(addr);
    assert.equal(version.clusterName, c.name);
    await admin.deleteAclAccount(addr, ak2);
  });

  it('updates the secret: the old one is refused, the new one accepted', async () => {
    await admin.createOrUpdateAclAccount(addr, {
      accessKey: ak,
      secretKey: `${sk}-new`,
      admin: false,
      defaultTopicPerm: 'DENY',
      defaultGroupPerm: 'DENY',
      topicPerms: [`${topic}=PUB|SUB`],
      groupPerms: [`${group}=SUB`],
    });
    await maxOffset(as(ak, `${sk}-new`), addr, topic);
    await refused(maxOffset(as(ak, sk), addr, topic), 'old secret');
  });

  it('deletes the account: refused afterwards and gone from mqadmin getAclConfig', async () => {
    await admin.deleteAclAccountInCluster(c.name, ak);
    const gone = await refused(maxOffset(as(ak, `${sk}-new`), addr, topic), 'deleted account');
    console.log(`# 4.9.7 ACL 1.0: deleted account -> ${gone.responseCode} "${gone.remark}"`);
    const out = await mq(c, ['getAclConfig', '-c', c.name]);
    assert.doesNotMatch(out, new RegExp(`accessKey\\s*: ${ak}\\s*$`, 'm'));
    const again = await refused(admin.deleteAclAccount(addr, ak), 'deleting a missing account');
    assert.equal(again.responseCode, ResponseCode.DELETE_ACL_CONFIG_FAILED);
  });
});

describe('admin: ACL 2.0 users and ACLs on v5acl (5.3.3)', () => {
  let c: ClusterInfo;
  let remoting: RemotingClient;
  let admin: RemotingAdmin;
  let addr: string;
  const topic = `acl2_t_${stamp}`;
  const group = `acl2_g_${stamp}`;
  const user = `ferryU${stamp}`;
  const password = `pw-${stamp}`;
  const subject = `User:${user}`;
  const clients: RemotingClient[] = [];
  const as = (accessKey: string, secretKey: string) => {
    const cl = signedClient({ accessKey, secretKey });
    clients.push(cl);
    return cl;
  };

  before(async () => {
    c = await testCluster('v5acl');
    remoting = new RemotingClient({ credentials: c.acl });
    admin = new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer));
    addr = c.brokers[0]!.address;
    await admin.createOrUpdateTopicInCluster(c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2 });
  });
  after(async () => {
    await admin.deleteTopic(c.name, topic).catch(() => undefined);
    for (const cl of clients) cl.close();
    remoting.close();
  });

  it('creates a user that mqadmin getUser/listUser show; it authenticates but has no permission yet', async () => {
    await admin.createUser(addr, { username: user, password, userType: 'Normal' });
    const out = await mq(c, ['getUser', '-c', c.name, '-u', user]);
    assert.match(out, new RegExp(`${user}\\s+${password}\\s+Normal\\s+enable`), out);
    assert.match(await mq(c, ['listUser', '-c', c.name, '-f', user]), new RegExp(`${user}\\s+${password}`));
    assert.deepEqual(await admin.getUser(addr, user), { username: user, password, userType: 'Normal', userStatus: 'enable' });

    const noAcl = await refused(pull(as(user, password), addr, topic, group), 'pull without an ACL');
    const sendDenied = await refused(new BrokerClient(as(user, password)).send(addr, topic, 0, msg()), 'send without an ACL');
    assert.match(sendDenied.remark, /no permission/);
    const wrong = await refused(pull(as(user, 'not-the-password'), addr, topic, group), 'wrong password');
    console.log(
      `# 5.3.3 ACL 2.0: no ACL -> ${noAcl.responseCode} "${noAcl.remark}"; wrong password -> ${wrong.responseCode} "${wrong.remark}"`,
    );
    assert.equal(noAcl.responseCode, ResponseCode.NO_PERMISSION);
    assert.equal(wrong.responseCode, ResponseCode.NO_PERMISSION);
    assert.notEqual(noAcl.remark, wrong.remark, 'authorization and authentication failures are told apart');
  });

  it('creates an ACL that mqadmin getAcl/listAcl show; the user can then send, pull and read offsets', async () => {
    const acl: AclInfo = {
      subject,
      policies: [
        {
          policyType: 'Custom',
          entries: [
            { resource: `Topic:${topic}`, actions: ['Pub', 'Sub', 'Get'], sourceIps: ['127.0.0.1'], decision: 'Allow' },
            { resource: `Group:${group}`, actions: ['Sub'], decision: 'Allow' },
          ],
        },
      ],
    };
    await admin.createAcl(addr, acl);
    const out = await mq(c, ['getAcl', '-c', c.name, '-s', subject]);
    assert.match(
      out,
      new RegExp(`${subject}\\s+Custom\\s+Topic:${topic}\\s+\\[?Pub,\\s*Sub,\\s*Get\\]?\\s+\\[?127\\.0\\.0\\.1\\]?\\s+Allow`),
      out,
    );
    assert.match(out, new RegExp(`${subject}\\s+Custom\\s+Group:${group}\\s+\\[?Sub\\]?`));
    assert.match(await mq(c, ['listAcl', '-c', c.name, '-s', user]), new RegExp(`Topic:${topic}`));

    const got = await admin.getAcl(addr, subject);
    assert.deepEqual(got, acl);
    const listed = await admin.listAcls(addr, { subject: user });
    assert.deepEqual(listed, [acl]);

    const u = as(user, password);
    await pull(u, addr, topic, group);
    await maxOffset(u, addr, topic);
    await refused(pull(u, addr, topic, `${group}_other`), 'pull for a group outside the ACL');
    await new BrokerClient(u).send(addr, topic, 0, msg()); // Pub granted
  });

  it('deletes one resource of the ACL, then the whole ACL', async () => {
    await admin.deleteAcl(addr, subject, { resource: `Group:${group}` });
    const left = await admin.getAcl(addr, subject);
    assert.deepEqual(
      left?.policies.flatMap((p) => p.entries.map((e) => e.resource)),
      [`Topic:${topic}`],
    );
    await refused(pull(as(user, password), addr, topic, group), 'pull after the group entry is gone');
    await admin.deleteAcl(addr, subject);
    assert.equal(await admin.getAcl(addr, subject), undefined);
    assert.doesNotMatch(await mq(c, ['listAcl', '-c', c.name, '-s', user]), new RegExp(`Topic:${topic}`));
    await refused(maxOffset(as(user, password), addr, topic), 'offset query without ACL');
  });

  it('reads a user and an ACL that mqadmin created', async () => {
    const u2 = `${user}mq`;
    assert.match(await mq(c, ['createUser', '-c', c.name, '-u', u2, '-p', `${password}2`]), /success/);
    assert.match(
      await mq(c, [
        'createAcl',
        '-c',
        c.name,
        '-s',
        `User:${u2}`,
        '-r',
        `Topic:${topic},Group:${group}`,
        '-a',
        'Pub,Sub',
        '-d',
        'Deny',
        '-i',
        '10.0.0.0/8',
      ]),
      /success/,
    );
    assert.deepEqual(await admin.getUser(addr, u2), { username: u2, password: `${password}2`, userType: 'Normal', userStatus: 'enable' });
    const users = await admin.listUsers(addr);
    assert.ok(
      users.some((x) => x.username === c.acl!.accessKey && x.userType === 'Super'),
      'the initial super user',
    );
    assert.ok(users.some((x) => x.username === u2));
    assert.deepEqual(await admin.getAcl(addr, `User:${u2}`), {
      subject: `User:${u2}`,
      policies: [
        {
          policyType: 'Custom',
          entries: [
            { resource: `Topic:${topic}`, actions: ['Pub', 'Sub'], sourceIps: ['10.0.0.0/8'], decision: 'Deny' },
            { resource: `Group:${group}`, actions: ['Pub', 'Sub'], sourceIps: ['10.0.0.0/8'], decision: 'Deny' },
          ],
        },
      ],
    });
    await admin.deleteUser(addr, u2);
    assert.equal(await admin.getUser(addr, u2), undefined);
  });

  it('updates the password: the old one is refused, the new one accepted', async () => {
    await admin.createAcl(addr, {
      subject,
      policies: [{ entries: [{ resource: `Topic:${topic}`, actions: ['Get'], decision: 'Allow' }] }],
    });
    await maxOffset(as(user, password), addr, topic);
    await admin.updateUser(addr, { username: user, password: `${password}-new` });
    assert.match(await mq(c, ['getUser', '-c', c.name, '-u', user]), new RegExp(`${user}\\s+${password}-new`));
    await maxOffset(as(user, `${password}-new`), addr, topic);
    await refused(maxOffset(as(user, password), addr, topic), 'old password');
  });

  it('deletes the user: refused afterwards, gone from mqadmin listUser, empty lists come back empty', async () => {
    await admin.deleteUser(addr, user);
    const gone = await refused(maxOffset(as(user, `${password}-new`), addr, topic), 'deleted user');
    console.log(`# 5.3.3 ACL 2.0: deleted user -> ${gone.responseCode} "${gone.remark}"`);
    assert.doesNotMatch(await mq(c, ['listUser', '-c', c.name]), new RegExp(`^${user}\\s`, 'm'));
    assert.equal(await admin.getUser(addr, user), undefined);
    assert.deepEqual(await admin.listUsers(addr, `nobody_${stamp}`), []);
    assert.deepEqual(await admin.listAcls(addr, { subject: `nobody_${stamp}` }), []);
    await admin.deleteUser(addr, user); // deleting a missing user succeeds
  });
});

describe('admin: capability gaps surface as UnsupportedOperationError', () => {
  const adminFor = async (key: TestbedKey, timeoutMs = 5000) => {
    const c = await testCluster(key);
    const remoting = new RemotingClient({ credentials: c.acl });
    return { c, remoting, admin: new RemotingAdmin(remoting, new NameServerClient(remoting, c.nameServer), { timeoutMs }) };
  };

  it('5.3.3 has no ACL 1.0 requests: account writes and reads are unsupported', async () => {
    const { c, remoting, admin } = await adminFor('v5acl');
    try {
      const addr = c.brokers[0]!.address;
      await assert.rejects(admin.getAclAccounts(addr), UnsupportedOperationError);
      await assert.rejects(
        admin.createOrUpdateAclAccount(addr, {
          accessKey: `x${stamp}`,
          secretKey: 'whatever1',
          admin: false,
          topicPerms: [],
          groupPerms: [],
        }),
        UnsupportedOperationError,
      );
      await assert.rejects(admin.getAclConfigVersion(addr), UnsupportedOperationError);
    } finally {
      remoting.close();
    }
  });

  it('4.9.7 has no ACL 2.0 requests: users and ACLs are unsupported', async () => {
    const { c, remoting, admin } = await adminFor('v4acl');
    try {
      const addr = c.brokers[0]!.address;
      await assert.rejects(admin.listUsers(addr), UnsupportedOperationError);
      await assert.rejects(admin.createUser(addr, { username: `x${stamp}`, password: 'whatever1' }), UnsupportedOperationError);
      await assert.rejects(admin.listAcls(addr), UnsupportedOperationError);
    } finally {
      remoting.close();
    }
  });

  it('4.9.7 without aclEnable never answers ACL 1.0 reads: reported as unsupported', async () => {
    const { c, remoting, admin } = await adminFor('v4', 2000);
    try {
      const err = await admin.getAclAccounts(c.brokers[0]!.address).then(
        () => undefined,
        (e: unknown) => e,
      );
      console.log(`# 4.9.7 without ACL: getAclAccounts -> ${String(err)}`);
      assert.ok(err instanceof UnsupportedOperationError);
    } finally {
      remoting.close();
    }
  });

  it('5.3.3 without ACL 2.0 enabled: user listing is refused', async () => {
    const { c, remoting, admin } = await adminFor('v5');
    try {
      // A listing (even an empty one) would be a wrong answer: the broker has no user store to list.
      const err = await refused(admin.listUsers(c.brokers[0]!.address), '5.3.3 without auth: listUsers');
      console.log(`# 5.3.3 without auth: listUsers -> ${err.message}`);
      assert.equal(err.requestCode, RequestCode.AUTH_LIST_USER);
      assert.equal(err.address, c.brokers[0]!.address);
    } finally {
      remoting.close();
    }
  });
});

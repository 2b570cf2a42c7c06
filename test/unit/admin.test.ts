// RemotingAdmin against a scripted broker: paging of later releases (not available on the test bed's
// 4.9.7/5.3.3), wire encodings, and error typing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemotingAdmin, topicAttributesModification } from '../../shared/rocketmq/remoting/admin.ts';
import { plainAccessHeader } from '../../shared/rocketmq/remoting/acl-codec.ts';
import { groupConfigBody, parseGroupTable, topicHeader } from '../../shared/rocketmq/remoting/admin-codec.ts';
import type { InvokeOptions } from '../../shared/rocketmq/remoting/client.ts';
import type { RemotingCommand } from '../../shared/rocketmq/remoting/codec.ts';
import { RemotingResponseError, UnsupportedOperationError } from '../../shared/rocketmq/remoting/errors.ts';
import { RequestCode } from '../../shared/rocketmq/remoting/request-codes.ts';

interface Call {
  address: string;
  code: number;
  extFields: Record<string, string>;
  body: Buffer | undefined;
}

type Handler = (call: Call) => { extFields?: Record<string, string>; body?: unknown } | RemotingResponseError;

function fakeAdmin(handler: Handler, pageSize?: number) {
  const calls: Call[] = [];
  const remoting = {
    async invoke(
      address: string,
      code: number,
      extFields: Record<string, string> = {},
      body?: Buffer,
      _opts?: InvokeOptions,
    ): Promise<RemotingCommand> {
      const call = { address, code, extFields, body };
      calls.push(call);
      const r = handler(call);
      if (r instanceof RemotingResponseError) throw r;
      const out: RemotingCommand = { code: 0, opaque: 1, flag: 1, extFields: r.extFields ?? {} };
      if (r.body !== undefined) out.body = Buffer.from(JSON.stringify(r.body));
      return out;
    },
  };
  const nameServer = {
    addresses: ['ns1:9876', 'ns2:9876'],
    async masterAddresses() {
      return [
        { brokerName: 'b0', address: 'b0:10911' },
        { brokerName: 'b1', address: 'b1:10911' },
      ];
    },
  };
  return { admin: new RemotingAdmin(remoting, nameServer, pageSize ? { pageSize } : {}), calls };
}

const topicEntry = (name: string) => ({
  topicName: name,
  readQueueNums: 4,
  writeQueueNums: 4,
  perm: 6,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
  attributes: {},
});

describe('RemotingAdmin paging (releases after 5.3.3)', () => {
  it('reads pages by topicSeq until totalTopicNum, passing the dataVersion back', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const version = { stateVersion: 0, timestamp: 1700000000000, counter: 7 };
    const { admin, calls } = fakeAdmin(({ extFields }) => {
      const seq = Number(extFields.topicSeq);
      const max = Number(extFields.maxTopicNum);
      const page = names.slice(seq, seq + max);
      return {
        extFields: { totalTopicNum: String(names.length) },
        body: { topicConfigTable: Object.fromEntries(page.map((n) => [n, topicEntry(n)])), dataVersion: version },
      };
    }, 2);
    const all = await admin.getAllTopicConfigs('b0:10911');
    assert.deepEqual([...all.keys()].sort(), names, 'the last entry is not dropped (Java stops at total - 1)');
    assert.deepEqual(
      calls.map((c) => c.extFields.topicSeq),
      ['0', '2', '4'],
    );
    assert.equal(calls[0]!.extFields.dataVersion, '');
    assert.deepEqual(JSON.parse(calls[1]!.extFields.dataVersion!), version);
  });

  it('starts over when the table changes between pages', async () => {
    let served = 0;
    const { admin, calls } = fakeAdmin(({ extFields }) => {
      // After the first page a group is added: new version, and (like the broker) a request
      // carrying the old version is answered from index 0.
      const version = { stateVersion: 0, timestamp: 1, counter: served++ === 0 ? 1 : 2 };
      const groups = version.counter === 1 ? ['g1', 'g2', 'g3'] : ['g0', 'g1', 'g2', 'g3'];
      const stale = extFields.dataVersion !== '' && JSON.parse(extFields.dataVersion!).counter !== version.counter;
      const seq = stale ? 0 : Number(extFields.groupSeq);
      const page = groups.slice(seq, seq + Number(extFields.maxGroupNum));
      return {
        extFields: { totalGroupNum: String(groups.length) },
        body: { subscriptionGroupTable: Object.fromEntries(page.map((g) => [g, { groupName: g }])), dataVersion: version },
      };
    }, 2);
    const all = await admin.getAllGroups('b0:10911');
    assert.deepEqual([...all.keys()].sort(), ['g0', 'g1', 'g2', 'g3']);
    assert.deepEqual(
      calls.map((c) => c.extFields.groupSeq),
      ['0', '2', '0', '2'],
    );
  });

  it('takes a single answer without totalTopicNum as the whole table (4.x, 5.3.3)', async () => {
    const { admin, calls } = fakeAdmin(
      () => ({ body: { topicConfigTable: { a: topicEntry('a'), b: topicEntry('b') }, dataVersion: {} } }),
      1,
    );
    assert.equal((await admin.getAllTopicConfigs('b0:10911')).size, 2);
    assert.equal(calls.length, 1);
  });
});

describe('RemotingAdmin requests', () => {
  it('deletes a topic on every master, then on every name server with the cluster name', async () => {
    const { admin, calls } = fakeAdmin(() => ({}));
    await admin.deleteTopic('C1', 'T');
    assert.deepEqual(
      calls.map((c) => [c.address, c.code, c.extFields]),
      [
        ['b0:10911', RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'T' }],
        ['b1:10911', RequestCode.DELETE_TOPIC_IN_BROKER, { topic: 'T' }],
        ['ns1:9876', RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T', clusterName: 'C1' }],
        ['ns2:9876', RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'T', clusterName: 'C1' }],
      ],
    );
  });

  it('turns REQUEST_CODE_NOT_SUPPORTED into UnsupportedOperationError and keeps other refusals', async () => {
    const { admin } = fakeAdmin(({ code, address }) =>
      code === RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG
        ? new RemotingResponseError(3, ' request type 54 not supported', address, code)
        : new RemotingResponseError(16, 'no', address, code),
    );
    const err = await admin.getAclAccounts('b0:10911').catch((e: unknown) => e);
    assert.ok(err instanceof UnsupportedOperationError);
    assert.match(err.message, /cannot return ACL 1.0 accounts/);
    assert.ok(err.cause instanceof RemotingResponseError);
    await assert.rejects(admin.listUsers('b0:10911'), (e: unknown) => e instanceof RemotingResponseError && e.responseCode === 16);
  });

  it('returns undefined / [] for ACL 2.0 answers without a body', async () => {
    const { admin } = fakeAdmin(() => ({}));
    assert.equal(await admin.getUser('b0:10911', 'u'), undefined);
    assert.deepEqual(await admin.listUsers('b0:10911'), []);
    assert.equal(await admin.getAcl('b0:10911', 'User:u'), undefined);
    assert.deepEqual(await admin.listAcls('b0:10911'), []);
  });

  it('sends both removeOffset (4.x) and cleanOffset (5.x) when deleting a group', async () => {
    const { admin, calls } = fakeAdmin(() => ({}));
    await admin.deleteGroup('C1', 'G', { cleanOffset: true, deleteRetryAndDlqTopics: false });
    assert.deepEqual(
      calls.map((c) => c.extFields),
      [
        { groupName: 'G', removeOffset: 'true', cleanOffset: 'true' },
        { groupName: 'G', removeOffset: 'true', cleanOffset: 'true' },
      ],
    );
  });
});

describe('admin wire encodings', () => {
  it('topic attributes: all adds for a new topic, only differences for an existing one', () => {
    assert.equal(
      topicAttributesModification({ 'message.type': 'FIFO', 'queue.type': 'SimpleCQ' }),
      '+message.type=FIFO,+queue.type=SimpleCQ',
    );
    assert.equal(
      topicAttributesModification(
        { 'message.type': 'NORMAL', 'queue.type': 'SimpleCQ' },
        { 'message.type': 'FIFO', 'queue.type': 'SimpleCQ', 'reserve.time': '5' },
      ),
      '+message.type=NORMAL,-reserve.time',
    );
    assert.equal(topicAttributesModification({}, {}), '');
  });

  it('topic header: Java defaults, no attributes field when there is nothing to change', () => {
    assert.deepEqual(topicHeader({ topicName: 'T' }, 'TBW102'), {
      topic: 'T',
      defaultTopic: 'TBW102',
      readQueueNums: '16',
      writeQueueNums: '16',
      perm: '6',
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: '0',
      order: 'false',
    });
    assert.equal(topicHeader({ topicName: 'T', attributes: { 'message.type': 'DELAY' } }, 'TBW102').attributes, '+message.type=DELAY');
  });

  it('group body: unknown fields survive a read/write round trip; attributes become additions', () => {
    const read = parseGroupTable(
      JSON.stringify({
        subscriptionGroupTable: {
          G: {
            groupName: 'G',
            retryMaxTimes: 3,
            someFutureField: { x: 1 },
            subscriptionDataSet: [{ topic: 'T', expression: '*' }],
            attributes: {},
            groupRetryPolicy: { type: 'EXPONENTIAL', exponentialRetryPolicy: { initial: 1000, max: 60000, multiplier: 3, jitter: true } },
          },
        },
      }),
    ).table.get('G')!;
    assert.deepEqual(read.groupRetryPolicy, {
      type: 'EXPONENTIAL',
      exponentialRetryPolicy: { initial: 1000, max: 60000, multiplier: 3, jitter: true },
    });
    assert.deepEqual(read.extra, { someFutureField: { x: 1 }, subscriptionDataSet: [{ topic: 'T', expression: '*' }] });
    const body = JSON.parse(groupConfigBody({ ...read, attributes: { 'some.attr': 'v' } }).toString()) as Record<string, unknown>;
    assert.deepEqual(body.someFutureField, { x: 1 });
    assert.deepEqual(body.subscriptionDataSet, [{ topic: 'T', expression: '*' }]);
    assert.equal(body.retryMaxTimes, 3);
    assert.deepEqual(body.groupRetryPolicy, read.groupRetryPolicy);
    assert.equal(body.consumeEnable, true);
    assert.deepEqual(body.attributes, { '+some.attr': 'v' });
    assert.equal('extra' in body, false);
  });

  it('ACL 1.0 header: permission lists comma-joined, absent optional fields left out', () => {
    assert.deepEqual(
      plainAccessHeader({ accessKey: 'ak', secretKey: 'sk123456', admin: false, topicPerms: ['a=PUB', 'b=PUB|SUB'], groupPerms: [] }),
      {
        accessKey: 'ak',
        secretKey: 'sk123456',
        admin: 'false',
        topicPerms: 'a=PUB,b=PUB|SUB',
      },
    );
  });
});

// The remoting ClusterAdmin against scripted brokers (a fake of the remoting port): how many
// writes go out as list requests and which fall back to single ones, and what the sync records
// when a server cannot hand out ACL 1.0 accounts (4.9.8 and 5.2+ removed the listing; a server
// without secret keys in it) — cases the test bed's 4.9.7/5.3.3 clusters cannot show; and the JSON
// comparison the plan rests on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { canonical, sameJson } from '../../shared/metadata/diff.ts';
import { RemotingClusterAdmin } from '../../shared/metadata/remoting-cluster-admin.ts';
import type { GroupItem, TopicItem } from '../../shared/metadata/model.ts';
import type { SyncAction } from '../../shared/metadata/plan.ts';
import { syncTaskMetadata } from '../../shared/metadata/sync.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import type { RemotingCommand } from '../../shared/rocketmq/remoting/codec.ts';
import { RemotingResponseError, ResponseCode } from '../../shared/rocketmq/remoting/errors.ts';
import { RequestCode } from '../../shared/rocketmq/remoting/request-codes.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';

type Json = Record<string, unknown>;

/** One broker's state and the requests it was sent; `version` picks what it answers. */
class FakeBroker {
  topics = new Map<string, Json>();
  groups = new Map<string, Json>();
  accounts: Json[] = [];
  requests: { code: number; count: number; ext: Record<string, string> }[] = [];
  /** Topics a write of is refused (SYSTEM_ERROR, like an invalid name). */
  refuse = new Set<string>();
  /** Answer SUCCESS to the next topic list without writing it (5.3.3 does when one topic is unchanged). */
  swallowNextList = false;
  constructor(
    readonly address: string,
    readonly version: 'V4_9_7' | 'V4_9_8' | 'V5_3_3',
  ) {}

  answer(code: number, ext: Record<string, string>, body: Buffer | undefined): { body?: unknown } {
    const json = body ? (JSON.parse(body.toString('utf8')) as Json) : {};
    const refused = (what: string) => new RemotingResponseError(ResponseCode.SYSTEM_ERROR, `refused ${what}`, this.address, code);
    const unknown = () =>
      new RemotingResponseError(ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${code} not supported`, this.address, code);
    const v5 = this.version.startsWith('V5');
    switch (code) {
      case RequestCode.GET_BROKER_RUNTIME_INFO:
        return { body: { table: { brokerVersionDesc: this.version } } };
      case RequestCode.GET_ALL_TOPIC_CONFIG:
        return { body: { topicConfigTable: Object.fromEntries(this.topics), dataVersion: {} } };
      case RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG:
        return { body: { subscriptionGroupTable: Object.fromEntries(this.groups), dataVersion: {} } };
      case RequestCode.UPDATE_AND_CREATE_TOPIC:
        this.requests.push({ code, count: 1, ext });
        if (this.refuse.has(ext.topic!)) throw refused(ext.topic!);
        this.topics.set(ext.topic!, {
          topicName: ext.topic,
          readQueueNums: Number(ext.readQueueNums),
          writeQueueNums: Number(ext.writeQueueNums),
          perm: Number(ext.perm),
          order: ext.order === 'true',
        });
        return {};
      case RequestCode.UPDATE_AND_CREATE_TOPIC_LIST: {
        if (!v5) throw unknown();
        const list = json.topicConfigList as Json[];
        this.requests.push({ code, count: list.length, ext });
        if (list.some((t) => this.refuse.has(t.topicName as string))) throw refused('the list');
        if (this.swallowNextList) {
          this.swallowNextList = false;
          return {};
        }
        for (const t of list) this.topics.set(t.topicName as string, { ...t, attributes: {} });
        return {};
      }
      case RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP:
        this.requests.push({ code, count: 1, ext });
        this.groups.set(json.groupName as string, json);
        return {};
      case RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST: {
        if (!v5) throw unknown();
        const list = json.groupConfigList as Json[];
        this.requests.push({ code, count: list.length, ext });
        for (const g of list) this.groups.set(g.groupName as string, g);
        return {};
      }
      case RequestCode.GET_BROKER_CLUSTER_ACL_CONFIG:
        if (this.version !== 'V4_9_7') throw unknown();
        return { body: { globalWhiteAddrs: [], plainAccessConfigs: this.accounts } };
      case RequestCode.UPDATE_AND_CREATE_ACL_CONFIG:
        this.requests.push({ code, count: 1, ext });
        return {};
      case RequestCode.AUTH_LIST_USER:
      case RequestCode.AUTH_LIST_ACL:
        throw unknown();
      default:
        throw new Error(`fake broker: request ${code} not scripted`);
    }
  }

  sent(code: number): number[] {
    return this.requests.filter((r) => r.code === code).map((r) => r.count);
  }
}

/** A cluster of fake brokers behind the connection shape RemotingClusterAdmin takes. */
function fakeCluster(name: string, ...brokers: FakeBroker[]) {
  const byAddress = new Map(brokers.map((b) => [b.address, b]));
  const remoting = {
    async invoke(address: string, code: number, ext: Record<string, string> = {}, body?: Buffer): Promise<RemotingCommand> {
      const b = byAddress.get(address);
      if (!b) throw new Error(`no fake broker at ${address}`);
      const r = b.answer(code, ext, body);
      const out: RemotingCommand = { code: 0, opaque: 1, flag: 1, extFields: {} };
      if (r.body !== undefined) out.body = Buffer.from(JSON.stringify(r.body));
      return out;
    },
  };
  const info = {
    clusterAddrTable: { [name]: brokers.map((_, i) => `${name}-b${i}`) },
    brokerAddrTable: Object.fromEntries(
      brokers.map((b, i) => [`${name}-b${i}`, { cluster: name, brokerName: `${name}-b${i}`, brokerAddrs: { '0': b.address } }]),
    ),
  };
  const nameServer = {
    addresses: ['ns:9876'],
    masterAddresses: async () => brokers.map((b, i) => ({ brokerName: `${name}-b${i}`, address: b.address })),
  };
  return {
    clusterId: name,
    remoting: remoting as never,
    admin: new RemotingAdmin(remoting, nameServer),
    nameServers: { clusterInfo: async () => info },
    close: () => undefined,
  };
}

const topic = (name: string, q = 4): TopicItem => ({ kind: 'topic', name, readQueueNums: q, writeQueueNums: q, perm: 6, order: false });
const group = (name: string, retryMaxTimes = 16): GroupItem => ({
  kind: 'group',
  name,
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  retryQueueNums: 1,
  retryMaxTimes,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
});
const create = (item: TopicItem | GroupItem): SyncAction => ({
  kind: item.kind,
  name: item.name,
  op: 'create',
  direction: 'source_to_target',
  to: 'target',
  item,
});
const topicRow = (t: TopicItem) => ({
  topicName: t.name,
  readQueueNums: t.readQueueNums,
  writeQueueNums: t.writeQueueNums,
  perm: t.perm,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
  attributes: {},
});

describe('remoting ClusterAdmin: many writes', () => {
  it(
    '5.x masters take topics and groups in list requests of at most 1000, only those that differ there; 4.x masters one by ' + 'one',
    async () => {
      const v5 = new FakeBroker('b5:10911', 'V5_3_3');
      const v4 = new FakeBroker('b4:10911', 'V4_9_7');
      const topics = Array.from({ length: 2500 }, (_, i) => topic(`t${i}`));
      v5.topics.set('t7', topicRow(topics[7]!)); // already as wanted on the 5.x broker
      const admin = new RemotingClusterAdmin(fakeCluster('C', v5, v4), { aclEnabled: false });
      await admin.readSnapshot();
      const groups = Array.from({ length: 30 }, (_, i) => group(`g${i}`, i));
      const errors = [...(await admin.applyMany(topics.map(create))), ...(await admin.applyMany(groups.map(create)))];
      assert.deepEqual(errors.filter(Boolean), []);
      assert.deepEqual(v5.sent(RequestCode.UPDATE_AND_CREATE_TOPIC_LIST), [1000, 1000, 499]);
      assert.deepEqual(v5.sent(RequestCode.UPDATE_AND_CREATE_TOPIC), []);
      assert.deepEqual(v5.sent(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP_LIST), [30]);
      assert.equal(v4.sent(RequestCode.UPDATE_AND_CREATE_TOPIC).length, 2500);
      assert.equal(v4.sent(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP).length, 30);
      for (const b of [v5, v4]) {
        assert.equal(b.topics.size, 2500);
        assert.equal(b.groups.get('g29')?.retryMaxTimes, 29);
      }
    },
  );

  it("a refused list is retried item by item: only the bad item fails, with the broker's answer", async () => {
    const b = new FakeBroker('b5:10911', 'V5_3_3');
    b.refuse.add('bad');
    const admin = new RemotingClusterAdmin(fakeCluster('C', b), { aclEnabled: false });
    await admin.readSnapshot();
    const errors = await admin.applyMany(['a', 'bad', 'c'].map((n) => create(topic(n))));
    assert.deepEqual(
      errors.map((e) => e?.message.match(/refused \w+/)?.[0]),
      [undefined, 'refused bad', undefined],
    );
    assert.deepEqual([...b.topics.keys()].sort(), ['a', 'c']);
  });

  it('a list the broker answered without writing (one topic already unchanged) is caught by reading back, and written singly', async () => {
    const b = new FakeBroker('b5:10911', 'V5_3_3');
    const admin = new RemotingClusterAdmin(fakeCluster('C', b), { aclEnabled: false });
    await admin.readSnapshot();
    b.swallowNextList = true;
    const errors = await admin.applyMany(['a', 'b'].map((n) => create(topic(n))));
    assert.deepEqual(errors, [undefined, undefined]);
    assert.deepEqual([...b.topics.keys()].sort(), ['a', 'b']);
    assert.deepEqual(b.sent(RequestCode.UPDATE_AND_CREATE_TOPIC), [1, 1]);
  });
});

describe('metadata sync: ACL 1.0 accounts a server cannot hand out', () => {
  let db: Throwaway<string>;
  let store: Store;
  const cipher = aesGcmCipher(randomBytes(32));
  const creds = { accessKey: 'ferryAdmin', secretKey: 'ferry-admin-secret' };
  const account = (accessKey: string, secretKey?: string) => ({
    accessKey,
    ...(secretKey === undefined ? {} : { secretKey }),
    admin: false,
    topicPerms: ['t=PUB'],
    groupPerms: [],
  });

  before(async () => {
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
  });
  after(async () => {
    await store.close();
    await db.drop();
  });

  const syncOnce = async (source: FakeBroker) => {
    const target = new FakeBroker('tgt:10911', 'V4_9_7');
    const clusters = new Map([
      ['SRC', fakeCluster('SRC', source)],
      ['TGT', fakeCluster('TGT', target)],
    ]);
    const task = await insertTestTask(
      store,
      taskSpec(
        {
          direction: 'one-way',
          source: selfBuilt({ clusterId: 'SRC', nameServer: 'ns:1', acl: creds }),
          target: selfBuilt({ clusterId: 'TGT', nameServer: 'ns:2', acl: creds }),
        },
        cipher,
      ),
    );
    const r = await syncTaskMetadata(task, {
      store,
      cipher,
      log: pino({ level: 'silent' }),
      openAdmin: (e) => new RemotingClusterAdmin(clusters.get(e.clusterId)!, { aclEnabled: true }),
    });
    const rows = new Map((await store.listMetadataItems(task.id)).map((row) => [`${row.kind}/${row.name}`, row]));
    return { r, rows, target };
  };

  it(
    'a server without the listing request (4.9.8, 5.2+): the kind is reported unsupported with the reason; topics still ' + 'sync',
    async () => {
      const source = new FakeBroker('src:10911', 'V4_9_8');
      source.topics.set('t', topicRow(topic('t')));
      const { r, rows, target } = await syncOnce(source);
      assert.equal(r.outcome, 'ok');
      assert.equal(rows.get('topic/t')?.status, 'synced');
      const kind = rows.get('acl_account/*');
      assert.equal(kind?.status, 'unsupported');
      assert.match(
        kind?.error ?? '',
        /acl_account cannot be read from SRC: ACL 1\.0 accounts cannot be read from this cluster: .*GET_BROKER_CLUSTER_ACL_CONFIG/,
      );
      assert.deepEqual(target.sent(RequestCode.UPDATE_AND_CREATE_ACL_CONFIG), []);
    },
  );

  it('a server that lists accounts without secret keys: unsupported, saying so; nothing is copied', async () => {
    const source = new FakeBroker('src:10911', 'V4_9_7');
    source.accounts = [account('ferryAdmin', 'ferry-admin-secret'), account('withSecret1', 'secret-1234'), account('noSecret01')];
    const { rows, target } = await syncOnce(source);
    const kind = rows.get('acl_account/*');
    assert.equal(kind?.status, 'unsupported');
    assert.match(kind?.error ?? '', /without their secret keys \(1 of 3\)/);
    assert.equal(rows.get('acl_account/withSecret1'), undefined);
    assert.deepEqual(target.sent(RequestCode.UPDATE_AND_CREATE_ACL_CONFIG), []);
  });

  it('an account is written with every field stated (an update keeps whatever it leaves out)', async () => {
    const source = new FakeBroker('src:10911', 'V4_9_7');
    source.accounts = [account('ferryAdmin', 'ferry-admin-secret'), { accessKey: 'plainUser1', secretKey: 'secret-1234', admin: false }];
    const { rows, target } = await syncOnce(source);
    assert.equal(rows.get('acl_account/plainUser1')?.status, 'synced');
    assert.deepEqual(target.requests.find((q) => q.code === RequestCode.UPDATE_AND_CREATE_ACL_CONFIG)?.ext, {
      accessKey: 'plainUser1',
      secretKey: 'secret-1234',
      admin: 'false',
      whiteRemoteAddress: '',
      defaultTopicPerm: 'DENY',
      defaultGroupPerm: 'DENY',
      topicPerms: ',',
      groupPerms: ',',
    });
  });
});

describe('metadata comparison', () => {
  it('sameJson agrees with comparing canonical JSON texts (key order and undefined-valued keys do not count)', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom(null, undefined, true, false, 0, 1, -1, 'a', 'b', ''),
        tie('array'),
        tie('object'),
      ),
      array: fc.array(tie('value'), { maxLength: 3 }),
      object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'é', '__proto__'), tie('value'), { maxKeys: 3 }),
    })).value;
    fc.assert(
      fc.property(json, json, (a, b) => {
        assert.equal(sameJson(a, b), canonical(a) === canonical(b));
        assert.equal(sameJson(a, structuredClone(a)), true);
      }),
      { seed: 20261125, numRuns: 2000 },
    );
    assert.equal(canonical({ b: 1, a: [undefined, { d: undefined, c: 'x' }] }), '{"a":[null,{"c":"x"}],"b":1}');
  });
});

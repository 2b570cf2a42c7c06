// ACL 1.0 accounts (plain_acl.yml, 4.9.7) synced between two real ACL clusters: A is a small 4.9.7
// ACL cluster of this file's own — accounts come from an ACL cluster's config, and the test bed
// has one such cluster only — and B is the shared v4acl cluster. One-way A → B, so B's other
// accounts (target-only) are never touched; this file's accounts and topics are removed at the end.
// 4.9.7 lists accounts with their secret keys (GET_BROKER_CLUSTER_ACL_CONFIG), so they are
// copied whole; a server that cannot list them is covered in test/unit/metadata-remoting.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { RocketMQCluster, type ClusterInfo } from '../testbed/cluster.ts';
import { syncTaskMetadata, type MetadataSyncResult } from '../../shared/metadata/sync.ts';
import { RemotingAdmin, type PlainAccessConfig } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { RemotingResponseError, ResponseCode } from '../../shared/rocketmq/remoting/errors.ts';
import { NameServerClient } from '../../shared/rocketmq/remoting/namesrv.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { MetadataItem, Store, TaskRow } from '../../shared/store/store.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { insertTestTask, selfBuilt, taskSpec } from '../support/task-spec.ts';
import { testCluster } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

interface Side {
  info: ClusterInfo;
  remoting: RemotingClient;
  admin: RemotingAdmin;
  addr: string;
}

function side(info: ClusterInfo): Side {
  const remoting = new RemotingClient({ credentials: info.acl, requestTimeoutMs: 10_000 });
  return {
    info,
    remoting,
    admin: new RemotingAdmin(remoting, new NameServerClient(remoting, info.nameServer)),
    addr: info.brokers[0]!.address,
  };
}

describe("ACL 1.0 accounts between two real 4.9.7 ACL clusters (A: this file's own, B: the shared v4acl)", () => {
  let clusterA: RocketMQCluster;
  let A: Side;
  let B: Side;
  let db: Throwaway<string>;
  let store: Store;
  let task: TaskRow;
  const cipher = aesGcmCipher(randomBytes(32));
  const clients: RemotingClient[] = [];
  const AK = `mdAcl1${stamp}`;
  const T = `md_acl1_t_${stamp}`;
  const OTHER = `md_acl1_o_${stamp}`;

  const sync = async (): Promise<MetadataSyncResult> => {
    const r = await syncTaskMetadata(task, { store, cipher, log: pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' }) });
    assert.equal(r.outcome, 'ok', JSON.stringify(r));
    return r;
  };
  const accountOn = async (s: Side) => (await s.admin.getAclAccounts(s.addr)).accounts.find((a) => a.accessKey === AK);
  const rows = async () => new Map((await store.listMetadataItems(task.id)).map((r): [string, MetadataItem] => [`${r.kind}/${r.name}`, r]));
  const as = (secretKey: string) => {
    const c = new RemotingClient({ credentials: { accessKey: AK, secretKey }, requestTimeoutMs: 5000 });
    clients.push(c);
    return new BrokerClient(c);
  };
  const send = (b: BrokerClient, topic: string) => b.send(B.addr, topic, 0, { body: Buffer.from(`signed by ${AK}`) });
  const refused = async (p: Promise<unknown>, what: string) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof RemotingResponseError, `${what}: expected a refusal, got ${String(err)}`);
    assert.ok(([ResponseCode.NO_PERMISSION, ResponseCode.SYSTEM_ERROR] as number[]).includes(err.responseCode), `${what}: ${err.message}`);
    assert.match(err.remark, /permission|signature|No acl config/i, what);
  };

  before(async () => {
    clusterA = await RocketMQCluster.start({ version: '4.9.7', name: `md-acl1-${process.pid}`, acl: true, startTimeoutMs: 180_000 });
    A = side(clusterA.info);
    B = side(await testCluster('v4acl'));
    db = await throwawayPostgres();
    store = await openStore({ databaseUrl: db.value, dataDir: '' });
    const endpoint = (s: Side) => selfBuilt({ clusterId: s.info.name, nameServer: s.info.nameServer, acl: s.info.acl });
    task = await insertTestTask(store, taskSpec({ direction: 'one-way', source: endpoint(A), target: endpoint(B) }, cipher));
    for (const t of [T, OTHER])
      await A.admin.createOrUpdateTopicInCluster(A.info.name, { topicName: t, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
  });

  after(async () => {
    for (const c of clients) c.close();
    if (B) {
      await B.admin.deleteAclAccount(B.addr, AK).catch(() => undefined);
      for (const t of [T, OTHER]) await B.admin.deleteTopic(B.info.name, t).catch(() => undefined);
      B.remoting.close();
    }
    A?.remoting.close();
    await store?.close();
    await db?.drop();
    await clusterA?.stop();
  });

  it(
    'an account created on A appears on B with its secret and permissions; a client signing with it is served on B within ' + 'them',
    async () => {
      const created: PlainAccessConfig = {
        accessKey: AK,
        secretKey: 'secret-one-1',
        admin: false,
        whiteRemoteAddress: '10.77.0.*',
        defaultTopicPerm: 'DENY',
        defaultGroupPerm: 'SUB',
        topicPerms: [`${T}=PUB|SUB`],
        groupPerms: [`md_acl1_g_${stamp}=SUB`],
      };
      await A.admin.createOrUpdateAclAccount(A.addr, created);
      const r = await sync();
      assert.equal(r.first, true);
      assert.deepEqual(await accountOn(B), created);

      const user = as('secret-one-1');
      assert.equal((await send(user, T)).status, 'SEND_OK');
      await refused(send(user, OTHER), "topic outside the account's permissions");
      await refused(send(as('not-the-secret'), T), 'wrong secret');

      const got = await rows();
      assert.deepEqual([got.get(`acl_account/${AK}`)?.action, got.get(`acl_account/${AK}`)?.status], ['create', 'synced']);
      assert.equal(got.get(`acl_account/${A.info.acl!.accessKey}`), undefined, 'the account Ferry signs with is never synced');

      // Absent and stated defaults read back alike: nothing to do next cycle.
      const again = await sync();
      assert.deepEqual([again.created, again.updated, again.deleted], [0, 0, 0]);
    },
  );

  it('updated on A — new secret, topic permission moved, group permissions and white address removed — the same on B', async () => {
    const updated: PlainAccessConfig = {
      accessKey: AK,
      secretKey: 'secret-two-2',
      admin: false,
      defaultTopicPerm: 'DENY',
      defaultGroupPerm: 'DENY',
      topicPerms: [`${OTHER}=PUB`],
      groupPerms: [],
    };
    await A.admin.createOrUpdateAclAccount(A.addr, updated, { replace: true });
    assert.deepEqual(await accountOn(A), updated, 'A holds the update as sent');
    const r = await sync();
    assert.equal(r.updated, 1, JSON.stringify(r));
    assert.deepEqual(await accountOn(B), updated, 'emptied lists and the removed white address are gone on B too');

    const user = as('secret-two-2');
    assert.equal((await send(user, OTHER)).status, 'SEND_OK');
    await refused(send(user, T), 'topic taken out of the permissions');
    await refused(send(as('secret-one-1'), OTHER), 'old secret');
    assert.equal((await rows()).get(`acl_account/${AK}`)?.action, 'update');
    assert.equal((await sync()).updated, 0, 'converged');
  });

  it('deleted on A → deleted on B; the account is refused there', async () => {
    await A.admin.deleteAclAccount(A.addr, AK);
    const r = await sync();
    assert.equal(r.deleted, 1, JSON.stringify(r));
    assert.equal(await accountOn(B), undefined);
    await refused(send(as('secret-two-2'), OTHER), 'deleted account');
    assert.deepEqual(
      [(await rows()).get(`acl_account/${AK}`)?.action, (await rows()).get(`acl_account/${AK}`)?.status],
      ['delete', 'synced'],
    );
  });
});

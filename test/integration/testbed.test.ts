// The test bed itself, checked with Apache's own admin tool (mqadmin's main class), not our code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mqadmin } from '../testbed/mqadmin.ts';
import { TESTBED_CLUSTERS, testCluster, type TestbedKey } from '../support/testbed.ts';

for (const key of Object.keys(TESTBED_CLUSTERS) as TestbedKey[]) {
  describe(`test bed cluster ${key}`, () => {
    it('lists its brokers in clusterList', async () => {
      const c = await testCluster(key);
      const r = await mqadmin(c.version, ['clusterList', '-n', c.nameServer], { credentials: c.acl });
      for (const b of c.brokers) {
        const line = r.stdout.split('\n').find((l) => l.includes(b.name));
        assert.ok(line, `clusterList lacks ${b.name}:\n${r.stdout}${r.stderr}`);
        assert.ok(line.includes(b.address), `clusterList shows ${b.name} elsewhere: ${line}`);
        assert.ok(line.includes(c.name));
      }
    });

    it('creates a topic that topicList and topicRoute then show', async () => {
      const c = await testCluster(key);
      const topic = `smoke_${key}_${Date.now()}`;
      const created = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic, '-r', '3', '-w', '3'], {
        credentials: c.acl,
      });
      assert.match(created.stdout, /success/, created.stdout + created.stderr);
      const list = await mqadmin(c.version, ['topicList', '-n', c.nameServer], { credentials: c.acl });
      assert.ok(
        list.stdout
          .split('\n')
          .map((l) => l.trim())
          .includes(topic),
        list.stdout + list.stderr,
      );
      const route = await mqadmin(c.version, ['topicRoute', '-n', c.nameServer, '-t', topic], { credentials: c.acl });
      assert.match(route.stdout, /"readQueueNums":3/, route.stdout + route.stderr);
      assert.match(route.stdout, /"writeQueueNums":3/);
      assert.match(route.stdout, /"perm":6/);
    });

    if (TESTBED_CLUSTERS[key].version.startsWith('5')) {
      it('serves route queries through the proxy remoting endpoint', async () => {
        const c = await testCluster(key);
        assert.ok(c.proxyRemoting && c.grpcEndpoint, 'a 5.x cluster reports proxy endpoints');
        const route = await mqadmin(c.version, ['topicRoute', '-n', c.proxyRemoting!, '-t', c.name], { credentials: c.acl });
        assert.match(route.stdout, /"brokerDatas"/, route.stdout + route.stderr);
        assert.ok(route.stdout.includes(`"brokerName":"${c.brokers[0]!.name}"`), `proxy route lacks the broker:\n${route.stdout}`);
        // The proxy routes clients to an endpoint of this cluster (its own ports or the broker's).
        const addr = /"brokerAddrs":\{0:"([^"]+)"/.exec(route.stdout)?.[1];
        assert.ok(addr && [c.brokers[0]!.address, c.proxyRemoting, c.grpcEndpoint].includes(addr), `unexpected route address ${addr}`);
      });
    }

    if ('acl' in TESTBED_CLUSTERS[key]) {
      it('enforces ACL: a wrong secret and a missing signature are refused', async () => {
        const c = await testCluster(key);
        assert.ok(c.acl, 'ACL cluster reports its admin credentials');
        const topic = `acl_denied_${Date.now()}`;
        const wrong = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic], {
          credentials: { accessKey: c.acl!.accessKey, secretKey: 'not-the-secret' },
        });
        assert.doesNotMatch(wrong.stdout, /success/);
        assert.match(wrong.stdout + wrong.stderr, /signature|NO_PERMISSION|CODE: 16/i);
        const unsigned = await mqadmin(c.version, ['updateTopic', '-n', c.nameServer, '-c', c.name, '-t', topic]);
        assert.doesNotMatch(unsigned.stdout, /success/);
        const list = await mqadmin(c.version, ['topicList', '-n', c.nameServer], { credentials: c.acl });
        assert.ok(!list.stdout.includes(topic), 'refused topic must not exist');
      });
    }
  });
}

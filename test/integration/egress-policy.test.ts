// The egress policy through the HTTP API of a real runtime whose FERRY_EGRESS_ALLOW leaves loopback
// out: a literal metadata or loopback name server is refused at create, patch and preview naming
// the field, and a hostname that resolves to the test bed's loopback name server fails the task's
// start with the policy's reason (nothing is dialled).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import { endpointOf } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';
import type { ClusterInfo } from '../testbed/cluster.ts';

describe('egress policy on a runtime that excludes loopback', () => {
  let rt: Runtime;
  let api: ReturnType<typeof client>;
  let v5: ClusterInfo;
  let v4: ClusterInfo;
  const run = Math.random().toString(36).slice(2, 8);
  const port = (c: ClusterInfo) => c.nameServer.split(';')[0]!.split(':').at(-1)!;

  before(async () => {
    v5 = await testCluster('v5');
    v4 = await testCluster('v4');
    rt = await startRuntime({
      store: 'embedded',
      env: { FERRY_EGRESS_ALLOW: '10.0.0.0/8,192.168.0.0/16', FERRY_RECONCILE_INTERVAL_MS: '500', LOG_LEVEL: 'info' },
    });
    api = client(rt);
  });
  after(async () => {
    await rt?.stop();
  });

  const body = (name: string, sourceNs: string, extra: Record<string, unknown> = {}) => ({
    name: `${name}-${run}`,
    direction: 'one-way',
    source: { ...endpointOf(v5), nameServer: sourceNs },
    // By name: the test bed's literal loopback address would be refused at once.
    target: { ...endpointOf(v4), nameServer: `localhost:${port(v4)}` },
    ...extra,
  });

  it('a metadata or loopback literal is 400 EGRESS_DENIED naming the field, in any form', async () => {
    for (const ns of ['169.254.169.254:80', `127.0.0.1:${port(v5)}`, `2130706433:${port(v5)}`, `[::ffff:127.0.0.1]:${port(v5)}`]) {
      const r = await api('POST', '/v1/tasks', body('meta', ns));
      assert.equal(r.status, 400, `${ns}: ${r.text}`);
      assert.equal(r.body.error.code, 'EGRESS_DENIED');
      assert.equal(r.body.error.field, 'source.nameServer');
      assert.match(r.body.error.message, /^source\.nameServer: .* is not allowed by the egress policy$/);
    }
    const target = await api('POST', '/v1/tasks', {
      ...body('meta-target', '10.0.0.1:9876'),
      target: { ...endpointOf(v4), nameServer: '169.254.169.254:80' },
    });
    assert.equal(target.status, 400, target.text);
    assert.equal(target.body.error.field, 'target.nameServer');
  });

  it('preview and patch refuse a metadata name server the same way', async () => {
    const preview = await api('POST', '/v1/tasks/preview', body('preview', '169.254.169.254:80'));
    assert.equal(preview.status, 400, preview.text);
    assert.equal(preview.body.error.code, 'EGRESS_DENIED');
    assert.equal(preview.body.error.field, 'source.nameServer');

    // A private address is allowed; the task is kept stopped so nothing dials it.
    const created = await api('POST', '/v1/tasks', body('patch', '10.255.255.1:9876', { start: false }));
    assert.equal(created.status, 201, created.text);
    const patched = await api('PATCH', `/v1/tasks/${created.body.id}`, { source: { nameServer: '169.254.169.254:80' } });
    assert.equal(patched.status, 400, patched.text);
    assert.equal(patched.body.error.code, 'EGRESS_DENIED');
    assert.equal(patched.body.error.field, 'source.nameServer');
    assert.equal((await api('GET', `/v1/tasks/${created.body.id}`)).body.source.nameServer, '10.255.255.1:9876', 'nothing stored');
  });

  it('a hostname resolving to the loopback name server fails the start with the policy reason', async () => {
    const ns = `localhost:${port(v5)}`;
    const preview = await api('POST', '/v1/tasks/preview', body('preview-host', ns));
    assert.equal(preview.status, 400, preview.text);
    assert.equal(preview.body.error.code, 'EGRESS_DENIED');
    assert.equal(preview.body.error.field, 'source.nameServer');

    const created = await api('POST', '/v1/tasks', body('host', ns));
    assert.equal(created.status, 201, created.text);
    const deadline = Date.now() + 60_000;
    let task = created.body;
    while (task.status !== 'start_failed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      task = (await api('GET', `/v1/tasks/${created.body.id}`)).body;
    }
    assert.equal(task.status, 'start_failed', JSON.stringify(task));
    const why = 'localhost resolves to (127\\.0\\.0\\.1|::1), which is not allowed by the egress policy';
    assert.match(task.statusReason, new RegExp(`^name server ${ns} of the source cluster ${v5.name}: ${why}$`));
  });
});

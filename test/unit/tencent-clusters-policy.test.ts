// FERRY_TENCENT_CLUSTERS (shared/tencent-cloud/cluster-policy.ts): the deployment's Tencent Cloud keys
// serve only the clusters the operator lists per tenant — at create/edit/preview (403 naming
// source.clusterId / target.clusterId), at start (start_failed reason) and in metadata sync.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Principal } from '../../shared/auth/principal.ts';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { isFerryError } from '../../shared/errors.ts';
import { reconcile } from '../../shared/replication/reconciler.ts';
import { endpointProblem } from '../../shared/replication/start-checks.ts';
import { createLogger } from '../../shared/log.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store } from '../../shared/store/store.ts';
import { sealEndpoint } from '../../shared/tasks/model.ts';
import { TaskService } from '../../shared/tasks/service.ts';
import { deploymentKeysAllowed, parseTencentClusters, refuseUnlistedTencentClusters } from '../../shared/tencent-cloud/cluster-policy.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';

const KEYS = { TENCENTCLOUD_SECRETID: 'AKIDdeployment', TENCENTCLOUD_SECRETKEY: 'deployment-secret' };
const tencent = (clusterId: string, own = false) => ({
  clusterType: 'tencent',
  clusterId,
  region: 'ap-guangzhou',
  ...(own ? { cloudApi: { secretId: 'AKIDown', secretKey: 'own-secret' } } : {}),
});
const selfBuilt = { clusterType: 'self-built', clusterId: 'c-self', nameServer: '10.0.0.1:9876', networkType: 'public' };

describe('FERRY_TENCENT_CLUSTERS syntax', () => {
  it('reads tenant:ids entries, * for every tenant or cluster', () => {
    const p = parseTencentClusters('tenantA:rmq-abc, rmq-def; tenantB:*;*:rocketmq-shared;org:team:rmq-x')!;
    assert.ok(deploymentKeysAllowed(p, 'tenantA', 'rmq-abc'));
    assert.ok(deploymentKeysAllowed(p, 'tenantA', 'rmq-def'));
    assert.ok(!deploymentKeysAllowed(p, 'tenantA', 'rmq-other'));
    assert.ok(deploymentKeysAllowed(p, 'tenantB', 'rmq-anything'));
    assert.ok(deploymentKeysAllowed(p, 'tenantC', 'rocketmq-shared'), 'every tenant on the shared one');
    assert.ok(!deploymentKeysAllowed(p, 'tenantC', 'rmq-abc'));
    assert.ok(deploymentKeysAllowed(p, 'org:team', 'rmq-x'), 'a tenant id holding ":"');
    assert.ok(!deploymentKeysAllowed(parseTencentClusters(undefined)!, 'tenantA', 'rmq-abc'), 'unset: nothing');
  });

  it('refuses text off the syntax, at start-up with the variable named', () => {
    for (const bad of ['rmq-abc', 'a:', 'a:rmq abc', 'a:rmq-1,,rmq-2', ':rmq-1']) {
      assert.equal(parseTencentClusters(bad), undefined, bad);
      assert.throws(
        () => loadConfig({ FERRY_TENCENT_CLUSTERS: bad }),
        (e: unknown) => e instanceof ConfigError && e.message.includes('FERRY_TENCENT_CLUSTERS'),
        bad,
      );
    }
    assert.doesNotThrow(() => loadConfig({ FERRY_TENCENT_CLUSTERS: 'a:rmq-1,rmq-2;b:*' }));
  });
});

describe('deployment keys only for listed clusters', () => {
  const env = { ...KEYS, FERRY_TENCENT_CLUSTERS: 'tenantA:rmq-abc;tenantB:*' };
  const refuse = (tenant: string, source: object, target: object, e: Record<string, string> = env) =>
    // biome-ignore lint/suspicious/noExplicitAny: endpoint bodies of any shape
    refuseUnlistedTencentClusters(tenant, { source: source as any, target: target as any }, e);

  it('lets a listed cluster, a tenant with *, and an endpoint with its own keys through', () => {
    refuse('tenantA', tencent('rmq-abc'), selfBuilt);
    refuse('tenantB', selfBuilt, tencent('rmq-zzz'));
    refuse('tenantC', tencent('rmq-abc', true), selfBuilt);
    // No deployment keys at all: nothing to protect (the missing keys are reported where needed).
    refuse('tenantC', tencent('rmq-abc'), selfBuilt, {});
  });

  it('refuses another tenant, or an unlisted cluster, with FORBIDDEN naming the side', () => {
    assert.throws(
      () => refuse('tenantC', tencent('rmq-abc'), selfBuilt),
      (e: unknown) => isFerryError(e, 'FORBIDDEN') && e.field === 'source.clusterId' && /rmq-abc.*FERRY_TENCENT_CLUSTERS/.test(e.message),
    );
    assert.throws(
      () => refuse('tenantA', selfBuilt, tencent('rmq-def')),
      (e: unknown) => isFerryError(e, 'FORBIDDEN') && e.field === 'target.clusterId',
    );
    assert.throws(
      () => refuse('tenantA', tencent('rmq-abc'), selfBuilt, KEYS),
      (e: unknown) => isFerryError(e, 'FORBIDDEN'),
      'unset list: the deployment keys serve no task',
    );
  });

  it('fails the start check of a stored task whose cluster is not listed (start_failed reason names source.clusterId)', async () => {
    const cipher = aesGcmCipher(randomBytes(32));
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: an endpoint body as the API takes it
      const stored = sealEndpoint({ ...tencent('rmq-abc'), protocol: 'remoting', networkType: 'vpc' } as any, cipher);
      const why = await endpointProblem('source', stored, cipher, { tenant: 'tenantC' });
      assert.match(why ?? '', /^source\.clusterId: Tencent cluster rmq-abc is not one this deployment's Cloud API keys may be used for/);
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    }
  });
});

describe('TaskService with FERRY_TENCENT_CLUSTERS', () => {
  const cipher = aesGcmCipher(randomBytes(32));
  const env = { ...KEYS, FERRY_TENCENT_CLUSTERS: 'tenantA:rmq-abc' };
  let db: Throwaway<string>;
  let store: Store;
  let tasks: TaskService;
  let saved: NodeJS.ProcessEnv;
  before(async () => {
    saved = { ...process.env };
    Object.assign(process.env, env);
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
    tasks = new TaskService(store, cipher, { requireManagedSide: false });
  });
  after(async () => {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    await store?.close();
    await db?.drop();
  });
  const body = (name: string, source: object) => ({ name, direction: 'one-way', source, target: selfBuilt, start: false });
  const p = (tenant: string): Principal => ({ tenant, role: 'admin', subject: 'alice' });

  it('creates for the listed tenant, refuses another with FORBIDDEN on source.clusterId', async () => {
    await tasks.create(p('tenantA'), body('ok', tencent('rmq-abc')));
    await assert.rejects(tasks.create(p('tenantC'), body('theirs', tencent('rmq-abc'))), (e: unknown) => {
      assert.ok(isFerryError(e, 'FORBIDDEN'), String(e));
      assert.equal(e.field, 'source.clusterId');
      return true;
    });
    // With its own keys the same cluster is the tenant's business.
    await tasks.create(p('tenantC'), body('own', tencent('rmq-abc', true)));
  });

  it("refuses an edit that drops an unlisted cluster's own keys (the deployment's would then be used)", async () => {
    const t = await tasks.create(p('tenantC'), body('edit-me', tencent('rmq-abc', true)));
    await assert.rejects(tasks.update(p('tenantC'), t.id, { source: { cloudApi: null } }), (e: unknown) => {
      assert.ok(isFerryError(e, 'FORBIDDEN'), String(e));
      assert.equal(e.field, 'source.clusterId');
      return true;
    });
  });

  it('a running task whose cluster the operator has since unlisted is stopped by the reconciler, not dispatched', async () => {
    const created = await tasks.create(p('tenantA'), body('narrowed', tencent('rmq-abc')));
    const row = (await store.getTask('tenantA', created.id))!;
    await store.updateTask('tenantA', row.id, row.version, { desiredState: 'running', status: 'running', startOffsetsCaptured: true });
    const dispatched: string[] = [];
    const invoker = { invokeReplicator: async (job: { taskId: string }) => void dispatched.push(job.taskId) };
    process.env.FERRY_TENCENT_CLUSTERS = 'tenantA:rmq-other';
    try {
      await reconcile({ store, cipher, log: createLogger('silent'), invoker }, {});
    } finally {
      process.env.FERRY_TENCENT_CLUSTERS = env.FERRY_TENCENT_CLUSTERS;
    }
    const after = (await store.getTask('tenantA', row.id))!;
    assert.equal(after.status, 'start_failed');
    assert.match(
      after.statusReason ?? '',
      /^source\.clusterId: Tencent cluster rmq-abc is not one this deployment's Cloud API keys may be used for/,
    );
    assert.ok(!dispatched.includes(row.id), 'no replicator dispatched for it');
    const [event] = await store.listAudit('tenantA', row.id, { limit: 1 });
    assert.deepEqual([event?.actor, event?.action], ['reconciler', 'start-failed']);
  });
});

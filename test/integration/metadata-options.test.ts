// Metadata sync honouring a task's options on the shared test bed (5.3.3 → 5.3.3 with ACL 2.0):
// `metadataSync.kinds`, `propagateDeletes`, `topicsFollowFilter` and the `groups` filter. The
// clusters are shared with other tests, so every task here is narrow: its topics follow a filter
// of this run's unique names (or topics are not a synced kind), its groups filter takes only this
// run's names, and ACL kinds are never listed. Each task has its own rows in a throwaway store; a
// cycle is one syncTaskMetadata call, and results are read back from the brokers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { syncTaskMetadata, type MetadataSyncResult } from '../../shared/metadata/sync.ts';
import { aesGcmCipher } from '../../shared/secrets/cipher.ts';
import { openStore } from '../../shared/store/index.ts';
import type { Store, TaskRow } from '../../shared/store/store.ts';
import type { TaskSpec } from '../../shared/tasks/model.ts';
import { throwawayDataDir, type Throwaway } from '../support/databases.ts';
import { endpointOf, side, type Side } from '../support/sides.ts';
import { insertTestTask, taskSpec } from '../support/task-spec.ts';
import { testCluster } from '../support/testbed.ts';

const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const log = pino({ level: process.env.FERRY_TEST_LOG ?? 'silent' });

describe('metadata sync options on real clusters (v5 → v5acl)', () => {
  let a: Side;
  let b: Side;
  let db: Throwaway<string>;
  let store: Store;
  const cipher = aesGcmCipher(randomBytes(32));

  // Topics: the task filter takes mo_t_…; groups: the groups filter takes mo_g_….
  const T_KEEP = `mo_t_keep_${stamp}`;
  const T_DEL = `mo_t_del_${stamp}`;
  const T_OUT = `mo_x_out_${stamp}`;
  const G_KEEP = `mo_g_keep_${stamp}`;
  const G_DEL = `mo_g_del_${stamp}`;
  const G_OUT = `mo_h_out_${stamp}`;
  const mine = [T_KEEP, T_DEL, T_OUT, G_KEEP, G_DEL, G_OUT];

  const spec = (options: Omit<NonNullable<TaskSpec['metadataSync']>, 'copyRoleSecrets'>): TaskSpec => ({
    ...taskSpec({ direction: 'one-way', source: endpointOf(a.c), target: endpointOf(b.c) }, cipher),
    filter: { topics: { include: [`mo_t_.*_${stamp}`], exclude: [] }, expression: { type: 'TAG', value: '*' } },
    groups: { include: [`mo_g_.*_${stamp}`], exclude: [] },
    metadataSync: { copyRoleSecrets: false, ...options },
  });
  const sync = async (task: TaskRow): Promise<MetadataSyncResult> => {
    const r = await syncTaskMetadata(task, { store, cipher, log });
    assert.equal(r.outcome, 'ok', JSON.stringify(r));
    return r;
  };
  const topicsOn = async (s: Side) => new Set((await s.admin.getAllTopicConfigs(s.addr)).keys());
  const groupsOn = async (s: Side) => new Set((await s.admin.getAllGroups(s.addr)).keys());
  /** Which of this run's names the target has. */
  const onTarget = async () => {
    const [t, g] = await Promise.all([topicsOn(b), groupsOn(b)]);
    return mine.filter((n) => t.has(n) || g.has(n)).sort();
  };
  const recorded = async (task: TaskRow) => (await store.listMetadataItems(task.id)).map((r) => `${r.kind}/${r.name}`).sort();
  const createOnSource = async (topics: string[], groups: string[]) => {
    for (const t of topics)
      await a.admin.createOrUpdateTopicInCluster(a.c.name, { topicName: t, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    for (const g of groups) await a.admin.createOrUpdateGroupInCluster(a.c.name, { groupName: g });
  };

  before(async () => {
    a = side(await testCluster('v5'));
    b = side(await testCluster('v5acl'));
    db = await throwawayDataDir();
    store = await openStore({ dataDir: db.value });
    await createOnSource([T_KEEP, T_DEL, T_OUT], [G_KEEP, G_DEL, G_OUT]);
  });

  after(async () => {
    // Best effort: leave the shared clusters without this run's names.
    for (const s of [a, b]) {
      if (!s) continue;
      for (const t of [T_KEEP, T_DEL, T_OUT]) await s.admin.deleteTopic(s.c.name, t).catch(() => undefined);
      for (const g of [G_KEEP, G_DEL, G_OUT]) await s.admin.deleteGroup(s.c.name, g).catch(() => undefined);
      s.remoting.close();
    }
    await store?.close();
    await db?.drop();
  });

  it('kinds ["group"]: only groups are synced, and only those the groups filter takes', async () => {
    const task = await insertTestTask(store, spec({ kinds: ['group'], propagateDeletes: true, topicsFollowFilter: false }));
    const r = await sync(task);
    assert.equal(r.created, 2, JSON.stringify(r));
    assert.deepEqual(await onTarget(), [G_DEL, G_KEEP].sort(), 'no topic (not a listed kind), no group outside the filter');
    assert.deepEqual(await recorded(task), [`group/${G_DEL}`, `group/${G_KEEP}`].sort(), 'nothing else is even reported');
  });

  it('topicsFollowFilter: only topics the topic filter selects are synced; propagateDeletes false keeps deleted ones', async () => {
    const task = await insertTestTask(store, spec({ kinds: ['topic', 'group'], propagateDeletes: false, topicsFollowFilter: true }));
    const first = await sync(task);
    assert.equal(first.created, 2, JSON.stringify(first));
    assert.deepEqual(await onTarget(), [G_DEL, G_KEEP, T_DEL, T_KEEP].sort(), `${T_OUT} is outside the topic filter`);

    await a.admin.deleteTopic(a.c.name, T_DEL);
    await a.admin.deleteGroup(a.c.name, G_DEL);
    assert.ok(!(await topicsOn(a)).has(T_DEL) && !(await groupsOn(a)).has(G_DEL), 'deleted on the source');
    const second = await sync(task);
    assert.equal(second.deleted, 0, JSON.stringify(second));
    assert.deepEqual(await onTarget(), [G_DEL, G_KEEP, T_DEL, T_KEEP].sort(), 'the deletions stay on the source');
    const third = await sync(task);
    assert.deepEqual([third.created, third.updated, third.deleted], [0, 0, 0], 'and are not applied later either');
    assert.ok(!(await recorded(task)).some((k) => k.endsWith(T_OUT) || k.endsWith(G_OUT)), 'out-of-scope items are not reported');
  });

  it('propagateDeletes true: a deletion on the source is applied to the target, within the filters only', async () => {
    await createOnSource([T_DEL], [G_DEL]);
    const task = await insertTestTask(store, spec({ kinds: ['topic', 'group'], propagateDeletes: true, topicsFollowFilter: true }));
    await sync(task);
    assert.deepEqual(await onTarget(), [G_DEL, G_KEEP, T_DEL, T_KEEP].sort());

    await a.admin.deleteTopic(a.c.name, T_DEL);
    await a.admin.deleteGroup(a.c.name, G_DEL);
    const r = await sync(task);
    assert.equal(r.deleted, 2, JSON.stringify(r));
    assert.deepEqual(await onTarget(), [G_KEEP, T_KEEP].sort());
    // T_OUT and G_OUT were never copied, so the source still has them and the target never did.
    assert.ok((await topicsOn(a)).has(T_OUT) && (await groupsOn(a)).has(G_OUT));
  });
});

// Ferry's own message properties are believed only under the task's signature: signing and
// verification (tampering, other tenants, other tasks, key rotation), what an unsigned message's
// FERRY_* names mean for the loop rule, resume and the replica, and the resume offset's clamp.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resumeOffset } from '../../shared/replication/queue-copier.ts';
import { FERRY_PROPERTIES, HOP, hopOffset, isTrusted, ORIGIN, taskSigner, toReplica, wouldLoop } from '../../shared/replication/origin.ts';
import { SIGNATURE_PROPERTY } from '../../shared/replication/signature.ts';
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
import { aesGcmCipher, keyringCipher } from '../../shared/secrets/cipher.ts';

const KEY = Buffer.alloc(32, 9);
const cipher = aesGcmCipher(KEY);
const signer = taskSigner(cipher, 'tenant-a', 'task-1');
const source = { clusterId: 'A', brokerName: 'broker-a', generation: 0 };

const stored = (over: Partial<StoredMessage> = {}): StoredMessage => ({
  topic: 'orders',
  queueId: 3,
  queueOffset: 42,
  commitLogOffset: 1000,
  msgId: 'OFFSETID',
  uniqKey: 'UNIQ',
  body: Buffer.from('hello'),
  bodyCRC: 0,
  flag: 0,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_001,
  bornHost: '127.0.0.1:1',
  storeTimestamp: 1_700_000_000_009,
  storeHost: '127.0.0.1:2',
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  tags: undefined,
  keys: [],
  properties: { UNIQ_KEY: 'UNIQ', color: 'red' },
  ...over,
});

/** The replica as the target stores it (at `offset` there). */
const onTarget = (props: Record<string, string>, over: Partial<StoredMessage> = {}) =>
  stored({ properties: props, queueOffset: 7, ...over });

describe('signing and verification', () => {
  const replica = toReplica(stored(), source, 'B', signer, false).properties!;

  it('one compact property signs the canonical set of Ferry properties; it verifies as this task', () => {
    const sig = replica[SIGNATURE_PROPERTY]!;
    assert.match(sig, /^1\.task-1\.[A-Za-z0-9_-]{22}$/);
    assert.equal(signer.signerOf(onTarget(replica)), 'task-1');
    assert.equal(signer.signedBySelf(onTarget(replica)), true);
    assert.equal(isTrusted(onTarget(replica), signer), true);
  });

  it('changing any Ferry property, the topic or the signature breaks it; user properties do not count', () => {
    for (const k of FERRY_PROPERTIES) {
      const changed = { ...replica, [k]: `${replica[k] ?? ''}9` };
      assert.equal(signer.signerOf(onTarget(changed)), undefined, k);
    }
    const { [HOP.generation]: _dropped, ...withoutOne } = replica;
    assert.equal(signer.signerOf(onTarget(withoutOne)), undefined, 'a field removed');
    assert.equal(signer.signerOf(onTarget(replica, { topic: 'payments' })), undefined, 'replayed into another topic');
    for (const bad of ['', '1.task-1.', `2${replica[SIGNATURE_PROPERTY]!.slice(1)}`, `${replica[SIGNATURE_PROPERTY]!}x`, 'garbage'])
      assert.equal(signer.signerOf(onTarget({ ...replica, [SIGNATURE_PROPERTY]: bad })), undefined, bad);
    assert.equal(signer.signerOf(onTarget({ ...replica, color: 'blue', extra: 'x' })), 'task-1');
  });

  it('another tenant, or another deployment key, cannot sign for this task; another task of the tenant is named', () => {
    const otherTenant = taskSigner(cipher, 'tenant-b', 'task-1');
    assert.equal(otherTenant.signerOf(onTarget(replica)), undefined);
    assert.equal(taskSigner(aesGcmCipher(Buffer.alloc(32, 1)), 'tenant-a', 'task-1').signerOf(onTarget(replica)), undefined);
    // A forger who names a task id it chose still needs that task's key.
    const forged = { ...replica, [SIGNATURE_PROPERTY]: replica[SIGNATURE_PROPERTY]!.replace('task-1', 'task-2') };
    assert.equal(signer.signerOf(onTarget(forged)), undefined);
    const sibling = taskSigner(cipher, 'tenant-a', 'task-2');
    assert.equal(sibling.signerOf(onTarget(replica)), 'task-1', 'a chain or mesh of the same tenant trusts it');
    assert.equal(sibling.signedBySelf(onTarget(replica)), false);
  });

  it('after a key rotation replicas signed under the previous key still verify', () => {
    const rotated = taskSigner(keyringCipher(Buffer.alloc(32, 5), [KEY]), 'tenant-a', 'task-1');
    assert.equal(rotated.signerOf(onTarget(replica)), 'task-1');
    const fresh = toReplica(stored(), source, 'B', rotated, false).properties!;
    assert.equal(signer.signerOf(onTarget(fresh)), undefined, 'the old key alone does not verify the new');
  });
});

describe('unsigned Ferry properties are a producer’s own', () => {
  const forged = {
    UNIQ_KEY: 'UNIQ',
    color: 'red',
    [ORIGIN.path]: 'A,B',
    [ORIGIN.cluster]: 'Z',
    [HOP.cluster]: 'A',
    [HOP.broker]: 'broker-a',
    [HOP.queue]: '3',
    [HOP.offset]: '1000000000000',
    [HOP.generation]: '0',
    FERRY_CUSTOM: 'kept',
  };

  it('a forged FERRY_SRC_OFFSET counts for nothing on resume', () => {
    const m = onTarget(forged);
    assert.equal(hopOffset(m, { ...source, queueId: 3 }, signer), undefined);
    assert.equal(isTrusted(m, signer), false);
  });

  it('a forged FERRY_PATH drops nothing: the message is on its first hop', () => {
    const m = stored({ properties: forged });
    const trusted = isTrusted(m, signer);
    assert.equal(wouldLoop(m, 'A', 'B', trusted), false);
    const r = toReplica(m, source, 'B', signer, trusted).properties!;
    assert.equal(r[ORIGIN.path], 'A,B');
    assert.equal(r[ORIGIN.cluster], 'A');
    assert.equal(r[HOP.offset], '42');
    assert.equal(r.color, 'red');
    assert.equal(r.FERRY_CUSTOM, 'kept', 'names Ferry does not write stay the user’s');
    assert.equal(signer.signedBySelf(onTarget(r)), true);
  });

  it('a signed replica read back by the reverse flow of a two-way task is a loop', () => {
    const r = toReplica(stored(), source, 'B', signer, false).properties!;
    const m = onTarget(r);
    assert.equal(wouldLoop(m, 'B', 'A', isTrusted(m, signer)), true);
  });
});

describe('resume offset', () => {
  it('past the newest replica on the target when ahead of the checkpoint and within the source queue', () => {
    assert.equal(resumeOffset(10, 19, 100), 20);
    assert.equal(resumeOffset(10, 99, 100), 100, 'everything replicated');
    assert.equal(resumeOffset(10, 5, 100), 10, 'behind the checkpoint');
    assert.equal(resumeOffset(10, undefined, undefined), 10, 'nothing found');
  });

  it('a target tail claiming the source queue’s end or beyond is not believed: nothing is skipped', () => {
    assert.equal(resumeOffset(10, 100, 100), 10);
    assert.equal(resumeOffset(10, 1e12, 100), 10);
    assert.equal(resumeOffset(0, 1e12, 0), 0, 'an empty queue');
  });
});

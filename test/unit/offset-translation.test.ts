// Consumer offset translation, the pure parts: the rule (newest pair at or below the commit, then one
// past its target offset), several source queues feeding one target queue, never moving a target
// offset back, the two-way bound, the pair recorder's spacing, reading fastjson's ConsumeStats — and a
// simulated two-way pair of queues with producers on both sides, translated both ways cycle after
// cycle: nothing the group has not consumed is skipped on either side, and offsets settle at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOffsetTable } from '../../shared/rocketmq/remoting/consumer-offsets.ts';
import { OffsetPairRecorder, PAIR_SPACING } from '../../shared/replication/offset-pairs.ts';
import { applyPlan } from '../../shared/replication/offset-sync.ts';
import {
  nextTargetOffset,
  planTranslations,
  translateCommit,
  twoWayBound,
  type GroupCommit,
} from '../../shared/replication/offset-translation.ts';
import type { OffsetPairEntry } from '../../shared/store/store.ts';

const pair = (queueId: number, sourceOffset: number, targetQueueId: number, targetOffset: number): OffsetPairEntry => ({
  topic: 'T',
  broker: 'a',
  queueId,
  sourceOffset,
  targetBroker: 'b',
  targetQueueId,
  targetOffset,
});
const commit = (queueId: number, committed: number): GroupCommit => ({ topic: 'T', broker: 'a', queueId, committed });

describe('translateCommit', () => {
  it('is one past the target offset of the newest pair at or below the last consumed message', () => {
    assert.equal(translateCommit(30, { sourceOffset: 16, targetOffset: 116 }), 117);
    assert.equal(translateCommit(17, { sourceOffset: 16, targetOffset: 116 }), 117, 'commit 17: message 16 consumed');
    assert.equal(translateCommit(16, { sourceOffset: 16, targetOffset: 116 }), undefined, 'message 16 not consumed yet');
    assert.equal(translateCommit(0, { sourceOffset: 0, targetOffset: 5 }), undefined, 'nothing consumed');
    assert.equal(translateCommit(10, null), undefined);
  });
});

describe('planTranslations', () => {
  it('maps each commit to its target queue; no pair is no-mapping-yet', () => {
    const newest = [pair(0, 90, 0, 190), pair(1, 90, 1, 290)];
    const plan = planTranslations([commit(0, 50), commit(1, 5)], [pair(0, 48, 0, 148), null], newest);
    assert.deepEqual(plan[0], { commit: commit(0, 50), kind: 'translated', target: { topic: 'T', broker: 'b', queueId: 0 }, offset: 149 });
    assert.equal(plan[1]!.kind, 'no-mapping-yet');
  });

  it('takes the lowest translation where several source queues feed one target queue, none while one has none', () => {
    // Source queues 0 and 2 both go to target queue 0.
    const newest = [pair(0, 90, 0, 300), pair(2, 90, 0, 301)];
    const both = planTranslations([commit(0, 50), commit(2, 80)], [pair(0, 48, 0, 110), pair(2, 79, 0, 170)], newest);
    assert.deepEqual(
      both.map((p) => (p.kind === 'translated' ? p.offset : p.kind)),
      [111, 111],
    );
    const one = planTranslations([commit(0, 50)], [pair(0, 48, 0, 110)], newest);
    assert.equal(one[0]!.kind, 'no-mapping-yet', 'queue 2 feeds the same target queue and has no commit');
  });

  it('caps a target queue at its two-way bound', () => {
    const plan = planTranslations([commit(0, 50)], [pair(0, 48, 0, 148)], [pair(0, 90, 0, 190)], new Map([['T/b/0', 140]]));
    const [capped] = plan;
    assert.equal(capped?.kind === 'translated' && capped.offset, 140);
  });
});

describe('nextTargetOffset and twoWayBound', () => {
  it('never moves a target offset back', () => {
    assert.deepEqual(nextTargetOffset(100, -1), { offset: 100, write: true });
    assert.deepEqual(nextTargetOffset(100, 99), { offset: 100, write: true });
    assert.deepEqual(nextTargetOffset(100, 100), { offset: 100, write: false });
    assert.deepEqual(nextTargetOffset(100, 250), { offset: 250, write: false });
  });

  it('bounds below the first own message not consumed on the other side', () => {
    assert.equal(twoWayBound({ sourceOffset: 40 }, { sourceOffset: 3 }), 41);
    assert.equal(twoWayBound(null, { sourceOffset: 3 }), 3, 'none consumed: below the first one copied');
    assert.equal(twoWayBound(null, undefined), undefined, 'no own messages copied: no bound');
  });
});

describe('OffsetPairRecorder', () => {
  it('keeps a pair every PAIR_SPACING source offsets plus the newest, so translation is off by less than PAIR_SPACING', () => {
    const r = new OffsetPairRecorder();
    const q = { topic: 'T', brokerName: 'a', queueId: 0 };
    const t = { brokerName: 'b', address: 'x', queueId: 3 };
    // Source offsets 0..999 with every 7th filtered out, sent in batches of up to 32, landing after 500 foreign messages.
    const sent = Array.from({ length: 1000 }, (_, i) => i).filter((i) => i % 7 !== 3);
    const where = new Map<number, number>();
    let next = 500;
    for (let i = 0; i < sent.length; i += 32) {
      const batch = sent.slice(i, i + 32);
      r.record(q, batch, t, next);
      for (const [k, s] of batch.entries()) where.set(s, next + k);
      next += batch.length;
    }
    const pairs = r.drain();
    assert.ok(pairs.length <= 1000 / PAIR_SPACING + 2, `${pairs.length} pairs`);
    assert.ok(pairs.every((p) => where.get(p.sourceOffset) === p.targetOffset && p.targetQueueId === 3 && p.targetBroker === 'b'));
    assert.equal(pairs.at(-1)!.sourceOffset, 999, 'the newest is written');
    assert.deepEqual(r.drain(), [], 'nothing twice');
    for (let c = 1; c <= 1000; c++) {
      const below = pairs.filter((p) => p.sourceOffset <= c - 1).at(-1) ?? null;
      const offset = translateCommit(c, below);
      if (offset === undefined) continue;
      const consumed = sent.filter((s) => s < c);
      const exact = where.get(consumed.at(-1)!)! + 1;
      assert.ok(offset <= exact, `commit ${c}: ${offset} skips nothing (exact ${exact})`);
      assert.ok(exact - offset < PAIR_SPACING, `commit ${c}: ${exact - offset} redelivered`);
    }
  });

  it('ignores sends without an offset in the answer', () => {
    const r = new OffsetPairRecorder();
    r.record({ topic: 'T', brokerName: 'a', queueId: 0 }, [1, 2], { brokerName: 'b', address: 'x', queueId: 0 }, -1);
    assert.deepEqual(r.drain(), []);
  });
});

describe('parseOffsetTable', () => {
  it("reads the broker's offset table (fastjson: bare integer keys) by group, topics with their queues", () => {
    const text =
      '{"dataVersion":{"counter":3,"timestamp":1700000000000},"offsetTable":{"orders@g1":{0:30,1:12},' +
      '"%RETRY%g1@g1":{0:2},"orders@g2":{3:7}}}';
    assert.deepEqual(Object.fromEntries(parseOffsetTable(text)), {
      g1: [
        { topic: 'orders', queueId: 0, offset: 30 },
        { topic: 'orders', queueId: 1, offset: 12 },
        { topic: '%RETRY%g1', queueId: 0, offset: 2 },
      ],
      g2: [{ topic: 'orders', queueId: 3, offset: 7 }],
    });
    assert.deepEqual(parseOffsetTable('{"offsetTable":{}}').size, 0);
    assert.deepEqual(parseOffsetTable('').size, 0);
  });
});

/** A seeded PRNG (mulberry32): the simulation is the same on every run. */
function prng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('two-way translation (simulated queues)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`settles in one cycle, never moves back, skips nothing unconsumed (seed ${seed})`, () => {
      const rand = prng(seed);
      // One queue per side; each log entry is a message id, its origin, and (for own messages) whether copied.
      const logs = { A: [] as string[], B: [] as string[] };
      const copied = { A: 0, B: 0 }; // how far each side's own messages were copied (index into the log)
      const recorders = { A: new OffsetPairRecorder(), B: new OffsetPairRecorder() };
      const q = (side: 'A' | 'B') => ({ topic: 'T', brokerName: side, queueId: 0 });
      const copyOne = (from: 'A' | 'B') => {
        const to = from === 'A' ? 'B' : 'A';
        // Replicas of the other side's messages are not copied back (loop prevention).
        while (copied[from] < logs[from].length && !logs[from][copied[from]]!.startsWith(from)) copied[from]++;
        if (copied[from] >= logs[from].length) return;
        const s = copied[from]++;
        logs[to].push(logs[from][s]!);
        recorders[from].record(q(from), [s], { brokerName: to, address: to, queueId: 0 }, logs[to].length - 1);
      };
      for (let i = 0; i < 3000; i++) {
        const x = rand();
        if (x < 0.3) logs.A.push(`A${i}`);
        else if (x < 0.45) logs.B.push(`B${i}`);
        else copyOne(x < 0.8 ? 'A' : 'B');
      }
      const pairs = { A: recorders.A.drain(), B: recorders.B.drain() };
      const newestAt = (from: 'A' | 'B', s: number) => pairs[from].filter((p) => p.sourceOffset <= s).at(-1) ?? null;
      const newestByTarget = (from: 'A' | 'B', t: number) => pairs[from].filter((p) => p.targetOffset <= t).at(-1) ?? null;
      // The group consumed 60 % of A's queue and committed there; on B it has nothing yet.
      const consumedOnA = Math.floor(logs.A.length * 0.6);
      const offsets = { A: consumedOnA, B: -1 };
      /** One direction: the group's commit on `from` raises its offset on the other side (twoWayBound, never back). */
      const translate = (from: 'A' | 'B') => {
        const to = from === 'A' ? 'B' : 'A';
        const committed = offsets[from];
        const proposed = translateCommit(committed, newestAt(from, committed - 1));
        if (proposed === undefined) return;
        const bound = twoWayBound(newestByTarget(to, committed - 1), pairs[to][0]);
        offsets[to] = nextTargetOffset(bound === undefined ? proposed : Math.min(proposed, bound), offsets[to]).offset;
      };
      const history: string[] = [];
      for (let cycle = 0; cycle < 10; cycle++) {
        const before = { ...offsets };
        translate('A');
        translate('B');
        assert.ok(offsets.A >= before.A && offsets.B >= before.B, 'never back');
        history.push(`${offsets.A}/${offsets.B}`);
      }
      assert.equal(new Set(history).size, 1, `settled after the first cycle: ${history.join(' ')}`);
      assert.equal(offsets.A, consumedOnA, 'A is not moved past what the group consumed there');
      const consumed = new Set(logs.A.slice(0, consumedOnA));
      const skippedOnB = logs.B.slice(0, Math.max(0, offsets.B)).filter((id) => !consumed.has(id));
      assert.deepEqual(skippedOnB, [], 'nothing on B below the group offset was left unconsumed');
      const again = logs.B.slice(Math.max(0, offsets.B)).filter((id) => consumed.has(id)).length;
      assert.ok(offsets.B > 0, 'B was moved');
      assert.ok(again < 4 * PAIR_SPACING, `${again} consumed messages delivered again on B`);
    });
  }
});

describe('applyPlan (a fake of the target brokers)', () => {
  it('writes each target queue of a group once per topic — queue 0 of two topics is two writes — and never lowers one', async () => {
    const writes: string[] = [];
    const fakeTarget = {
      onlineConsumers: async () => 0,
      updateOffset: async (_addr: string, _g: string, topic: string, q: number, offset: number) => {
        writes.push(`${topic}/b/${q}=${offset}`);
      },
    };
    // What the group holds on the target broker, as the cycle read it.
    const held = (addr: string) => (addr === 'addr-b' ? [{ topic: 't2', queueId: 0, offset: 90 }] : []);
    const translated = (topic: string, queueId: number, offset: number) => ({
      commit: { topic, broker: 'a', queueId, committed: offset },
      kind: 'translated' as const,
      target: { topic, broker: 'b', queueId },
      offset,
    });
    const plan = [translated('t1', 0, 10), translated('t2', 0, 20), translated('t1', 1, 30)];
    const outcomes = await applyPlan('g', plan, fakeTarget, new Map([['b', 'addr-b']]), held);
    assert.deepEqual(writes.sort(), ['t1/b/0=10', 't1/b/1=30']);
    assert.deepEqual(
      outcomes.map((o) => [o.topic, o.targetQueueId, o.targetOffset, o.status]),
      [
        ['t1', 0, 10, 'synced'],
        ['t2', 0, 90, 'synced'],
        ['t1', 1, 30, 'synced'],
      ],
    );
  });
});

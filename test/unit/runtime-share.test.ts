// RuntimeShare (shared/replication/runtime-share.ts): which unheld shards a self-hosted runtime
// dispatches, given every live runtime's load.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RuntimeShare } from '../../shared/replication/runtime-share.ts';

const opts = { self: 'me', heartbeatTtlMs: 2000, takeoverMs: 10_000 };
const takes = (share: RuntimeShare, keys: string[]) => keys.filter((k) => share.take(k));

describe('runtime share', () => {
  it('alone, a runtime takes every unheld shard', () => {
    assert.deepEqual(takes(new RuntimeShare(opts, [{ id: 'me', leases: 3 }]), ['a0', 'a1', 'a2']), ['a0', 'a1', 'a2']);
    assert.deepEqual(takes(new RuntimeShare(opts, []), ['b0', 'b1']), ['b0', 'b1'], 'not yet listed itself');
  });

  it('takes shards while it holds no more than the least loaded other runtime, counting what it takes', () => {
    const share = new RuntimeShare(opts, [
      { id: 'me', leases: 1 },
      { id: 'x', leases: 2 },
      { id: 'y', leases: 3 },
    ]);
    assert.deepEqual(takes(share, ['c0', 'c1', 'c2', 'c3']), ['c0', 'c1'], 'up to 2 and one more at the tie, then the others');
    assert.deepEqual(
      takes(
        new RuntimeShare(opts, [
          { id: 'me', leases: 2 },
          { id: 'x', leases: 0 },
        ]),
        ['d0'],
      ),
      [],
    );
  });

  it('three runtimes starting together on four shards end 2/1/1 whatever the order of their runs', () => {
    const held = new Map([
      ['r1', 0],
      ['r2', 0],
      ['r3', 0],
    ]);
    const unheld = ['e0', 'e1', 'e2', 'e3'];
    for (const self of ['r2', 'r1', 'r3', 'r1', 'r2', 'r3']) {
      const share = new RuntimeShare(
        { ...opts, self },
        [...held].map(([id, leases]) => ({ id, leases })),
      );
      for (const k of [...unheld])
        if (share.take(k)) {
          unheld.splice(unheld.indexOf(k), 1);
          held.set(self, held.get(self)! + 1);
        }
    }
    assert.deepEqual(unheld, []);
    assert.deepEqual([...held.values()].sort(), [1, 1, 2]);
  });

  it('a shard left unheld for takeoverMs is taken whatever the loads (a runtime that cannot start replicators)', () => {
    const loads = [
      { id: 'me', leases: 4 },
      { id: 'stuck', leases: 0 },
    ];
    assert.equal(new RuntimeShare(opts, loads, 1000).take('f0'), false);
    assert.equal(new RuntimeShare(opts, loads, 9000).take('f0'), false);
    assert.equal(new RuntimeShare(opts, loads, 11_000).take('f0'), true, 'unheld since 1000');
    // Seen held in between: the wait starts again.
    new RuntimeShare(opts, loads, 12_000).held('f1');
    assert.equal(new RuntimeShare(opts, loads, 13_000).take('f1'), false);
  });
});

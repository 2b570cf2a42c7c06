// runFairly (shared/tasks/fair-pool.ts): bounded, round-robin across tenants, a tenant's share capped
// while another tenant waits. The work is a timer standing in for a slow cluster.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runFairly } from '../../shared/tasks/fair-pool.ts';

type Item = { tenant: string; n: number };

async function trace(items: Item[], concurrency: number, perTenant: number, ms: (i: Item) => number) {
  const started: string[] = [];
  let running = 0;
  let peak = 0;
  const busy = new Map<string, number>();
  const violations: string[] = [];
  await runFairly(
    items,
    (i) => i.tenant,
    { concurrency, perTenant },
    async (i) => {
      running++;
      peak = Math.max(peak, running);
      busy.set(i.tenant, (busy.get(i.tenant) ?? 0) + 1);
      const othersWaiting = items.some((x) => x.tenant !== i.tenant && !started.includes(`${x.tenant}${x.n}`));
      if ((busy.get(i.tenant) ?? 0) > perTenant && othersWaiting) violations.push(`${i.tenant}${i.n}`);
      started.push(`${i.tenant}${i.n}`);
      await sleep(ms(i));
      busy.set(i.tenant, busy.get(i.tenant)! - 1);
      running--;
    },
  );
  return { started, peak, violations };
}

describe('runFairly', () => {
  it("starts another tenant's only task in the first round, whatever one tenant has queued ahead of it", async () => {
    const items = [...Array.from({ length: 20 }, (_, n) => ({ tenant: 'a', n })), { tenant: 'b', n: 0 }];
    const { started, peak, violations } = await trace(items, 2, 1, (i) => (i.tenant === 'a' ? 30 : 1));
    assert.ok(started.indexOf('b0') < 2, started.join(' '));
    assert.equal(started.length, 21);
    assert.ok(peak <= 2, `peak ${peak}`);
    assert.deepEqual(violations, []);
  });

  it('takes tenants in turn and uses every slot once only one tenant is left', async () => {
    const items = [
      ...Array.from({ length: 6 }, (_, n) => ({ tenant: 'a', n })),
      ...Array.from({ length: 2 }, (_, n) => ({ tenant: 'b', n })),
      { tenant: 'c', n: 0 },
    ];
    const { started, peak } = await trace(items, 4, 1, () => 10);
    assert.deepEqual(started.slice(0, 3).sort(), ['a0', 'b0', 'c0']);
    assert.equal(peak, 4, 'the last tenant alone fills the pool');
  });

  it('finishes with no items, and survives work that throws', async () => {
    await runFairly(
      [],
      () => 'x',
      { concurrency: 2, perTenant: 1 },
      async () => {},
    );
    let done = 0;
    await runFairly(
      [1, 2, 3],
      () => 't',
      { concurrency: 2, perTenant: 1 },
      async (n) => {
        done++;
        if (n === 2) throw new Error('boom');
      },
    );
    assert.equal(done, 3);
  });
});

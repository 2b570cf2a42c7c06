// ReadAhead against a fake source queue (a port fake, not a broker): results come out in offset
// order with no gap and no repeat, no more than `depth` are held while the sender is busy,
// failures surface after what was pulled, stop() ends
// pulling, and pipelined pulls stay within the known backlog and are dropped when mispredicted.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StoredMessage } from '../../shared/rocketmq/message.ts';
import type { PullResult } from '../../shared/rocketmq/remoting/broker.ts';
import { ReadAhead } from '../../shared/replication/read-ahead.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A fake queue of `size` messages, 4 per pull (or `perPull(from)`, as a broker's byte limit would
 * cut some pulls short); `failAt` makes the pull at that offset fail.
 */
function fakeQueue(size: number, opts: { failAt?: number; perPull?: (from: number) => number } = {}) {
  const calls: { from: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const pull = async (from: number): Promise<PullResult> => {
    calls.push({ from });
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    await sleep(1);
    inFlight--;
    if (from === opts.failAt) throw new Error(`pull at ${from} failed`);
    const n = Math.max(0, Math.min(opts.perPull?.(from) ?? 4, size - from));
    const messages = Array.from({ length: n }, (_, i) => ({ queueOffset: from + i }) as StoredMessage);
    return { status: n ? 'FOUND' : 'NO_NEW_MSG', nextBeginOffset: from + n, minOffset: 0, maxOffset: size, messages };
  };
  return { pull, calls, maxInFlight: () => maxInFlight };
}

const offsets = (results: PullResult[]) => results.flatMap((r) => r.messages.map((m) => m.queueOffset));

describe('ReadAhead', () => {
  it('hands over a backlog in order, one pull at a time', async () => {
    const q = fakeQueue(200);
    const reader = new ReadAhead(q.pull, 0, 4);
    const got: number[] = [];
    while (got.length < 200) got.push(...offsets(await reader.take()));
    reader.stop();
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => i),
    );
    assert.equal(q.maxInFlight(), 1);
  });

  it('holds at most `depth` results while the sender is busy, and all of them go out together', async () => {
    const q = fakeQueue(1000);
    const reader = new ReadAhead(q.pull, 0, 3);
    await sleep(50); // the sender is busy: nothing is taken
    assert.equal(q.calls.length, 3, 'pulling stopped at the depth');
    assert.deepEqual(
      offsets(await reader.take()),
      Array.from({ length: 12 }, (_, i) => i),
    );
    reader.stop();
  });

  it('hands over what it has, then the failure', async () => {
    const q = fakeQueue(100, { failAt: 8 });
    const reader = new ReadAhead(q.pull, 0, 8);
    const got: number[] = [];
    await assert.rejects(async () => {
      for (;;) got.push(...offsets(await reader.take()));
    }, /pull at 8 failed/);
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops: what is held is dropped, take() answers empty and no new pull starts', async () => {
    const q = fakeQueue(1000);
    const reader = new ReadAhead(q.pull, 0, 2);
    await reader.take();
    reader.stop();
    const before = q.calls.length;
    assert.deepEqual(await reader.take(), []);
    await sleep(30);
    assert.equal(q.calls.length, before);
  });

  it('pipelines pulls over a backlog: several in flight, none past its end, the output whole and in order', async () => {
    const q = fakeQueue(203);
    const reader = new ReadAhead(q.pull, 0, 8, 4);
    const got: number[] = [];
    while (got.length < 203) got.push(...offsets(await reader.take()));
    await sleep(20);
    reader.stop();
    assert.deepEqual(
      got,
      Array.from({ length: 203 }, (_, i) => i),
    );
    assert.ok(q.maxInFlight() > 1, 'more than one pull in flight');
    assert.ok(q.maxInFlight() <= 4);
    assert.ok(
      q.calls.every((c) => c.from <= 203),
      `a pull past the end: ${JSON.stringify(q.calls.filter((c) => c.from > 203))}`,
    );
  });

  it('drops a pipelined pull that started where the one before did not end, and pulls from the right offset', async () => {
    // Pulls of 1 to 4 messages, as a broker's byte limit would cut them: many predictions miss.
    const q = fakeQueue(500, { perPull: (from) => 1 + ((from * 7) % 4) });
    const reader = new ReadAhead(q.pull, 0, 8, 4);
    const got: number[] = [];
    while (got.length < 500) got.push(...offsets(await reader.take()));
    reader.stop();
    assert.deepEqual(
      got,
      Array.from({ length: 500 }, (_, i) => i),
    );
  });

  it('a failed pull that was mispredicted anyway is not a failure', async () => {
    // The first pull brings 4, so the reader predicts 4, 8, 12, 16; the pull at 4 brings 3 and ends
    // at 7: the (failing) pull at 8 was not the next one, and nothing needs offset 8 again.
    const q = fakeQueue(60, { failAt: 8, perPull: (from) => (from === 0 ? 4 : 3) });
    const reader = new ReadAhead(q.pull, 0, 8, 4);
    const got: number[] = [];
    while (got.length < 60) got.push(...offsets(await reader.take()));
    reader.stop();
    assert.deepEqual(
      got,
      Array.from({ length: 60 }, (_, i) => i),
    );
    assert.ok(
      q.calls.some((c) => c.from === 8),
      'the pull at 8 was made',
    );
  });
});

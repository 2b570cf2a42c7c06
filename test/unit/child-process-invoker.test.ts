// The process invoker with a stand-in replicator script (test/fixtures/ipc-replicator.mjs): a child
// that asks for its successor gets one, a job whose child is alive is not started twice, and drain()
// asks live children to finish (SIGTERM) and waits for them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { createLogger } from '../../shared/log.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'ipc-replicator.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function setup(handOver = true) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ipc-'));
  const log = join(dir, 'log.jsonl');
  const invoker = new ChildProcessInvoker({
    args: [fixture],
    env: { ...process.env, IPC_TEST_LOG: log },
    log: createLogger('silent'),
    handOver,
  });
  const lines = (): Record<string, unknown>[] => {
    try {
      return readFileSync(log, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  return { invoker, lines, done: () => rmSync(dir, { recursive: true, force: true }) };
}

async function until(cond: () => boolean, ms = 10_000) {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}

describe('process invoker', () => {
  it('starts the successor a child asks for over IPC', async () => {
    const t = setup();
    try {
      const job: ReplicatorJob = { tenant: 'hand-over', taskId: 't1', flow: 'forward', shard: 3, shards: 4, generation: 2 };
      await t.invoker.invokeReplicator(job);
      await until(() => t.lines().length === 2);
      const [first, second] = t.lines().map((l) => l.job as ReplicatorJob);
      assert.deepEqual(first, job);
      assert.deepEqual(second, { ...job, successor: true });
      assert.notEqual(t.lines()[0]!.pid, t.lines()[1]!.pid, 'each invocation its own process');
    } finally {
      await t.invoker.drain();
      t.done();
    }
  });

  it('ignores successor requests when hand-over is off, and never runs a live job twice', async () => {
    const t = setup(false);
    try {
      const linger: ReplicatorJob = { tenant: 'linger', taskId: 't2', flow: 'forward', shard: 0 };
      await t.invoker.invokeReplicator(linger);
      await t.invoker.invokeReplicator(linger);
      await t.invoker.invokeReplicator({ tenant: 'hand-over', taskId: 't3', flow: 'forward', shard: 0 });
      await until(() => t.lines().length >= 2);
      await sleep(500);
      assert.equal(
        t.lines().filter((l) => (l.job as ReplicatorJob | undefined)?.taskId === 't2').length,
        1,
        'the live job was not started again',
      );
      assert.equal(t.lines().filter((l) => (l.job as ReplicatorJob | undefined)?.successor).length, 0, 'no successor without hand-over');
      assert.equal(t.invoker.pids().length, 1, 'the lingering child is alive');
      await t.invoker.drain();
      assert.equal(t.lines().filter((l) => l.sigterm).length, 1, 'drain asked it to finish with SIGTERM');
      assert.equal(t.invoker.pids().length, 0);
    } finally {
      t.done();
    }
  });
});

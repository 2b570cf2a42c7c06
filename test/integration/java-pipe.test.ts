// FerryPeer bench-pipe, the Java baseline the replication benchmark compares Ferry against: a lite pull
// consumer on the source and a producer on the destination, queue id for queue id. Checked here on the
// shared clusters (5.3.3 source, 4.9.7 destination), run once on each client build: everything
// produced after it started arrives, in order per queue, with tags, keys, user properties and the
// source store time.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ClusterInfo } from '../testbed/cluster.ts';
import { javaPeer, javaPeerClasses, type JavaPeerResult } from '../testbed/java-peer.ts';
import type { ServerVersion } from '../testbed/versions.ts';
import type { OutgoingMessage, StoredMessage } from '../../shared/rocketmq/message.ts';
import { RemotingAdmin } from '../../shared/rocketmq/remoting/admin.ts';
import { BrokerClient } from '../../shared/rocketmq/remoting/broker.ts';
import { RemotingClient } from '../../shared/rocketmq/remoting/client.ts';
import { NameServerClient, masterAddress } from '../../shared/rocketmq/remoting/namesrv.ts';
import { testCluster } from '../support/testbed.ts';

const QUEUES = 4;
const COUNT = 2000;
const PRODUCE_BATCH = 50;

interface Progress {
  forwarded: number;
  elapsedMs: number;
}

interface Final {
  msgsPerSec: number;
  count: number;
  elapsedMs: number;
  activeMs: number;
  queues: number;
  sendCalls: number;
  sendRetries: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One side of the pipe: the topic created with QUEUES queues, and the address of its (single) master. */
async function side(c: ClusterInfo, remoting: RemotingClient, topic: string): Promise<{ broker: BrokerClient; addr: string }> {
  const ns = new NameServerClient(remoting, c.nameServer);
  await new RemotingAdmin(remoting, ns).createOrUpdateTopicInCluster(c.name, {
    topicName: topic,
    readQueueNums: QUEUES,
    writeQueueNums: QUEUES,
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const route = await ns.topicRoute(topic);
      const addr = route.brokerDatas[0] && masterAddress(route.brokerDatas[0]);
      if (addr && route.queueDatas[0]?.writeQueueNums === QUEUES) return { broker: new BrokerClient(remoting), addr };
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`no route for ${topic} on ${c.name}`);
    await sleep(200);
  }
}

async function pullQueue(broker: BrokerClient, addr: string, topic: string, queueId: number): Promise<StoredMessage[]> {
  const end = await broker.maxOffset(addr, topic, queueId);
  const out: StoredMessage[] = [];
  let offset = await broker.minOffset(addr, topic, queueId);
  const deadline = Date.now() + 30_000;
  while (offset < end && Date.now() < deadline) {
    const r = await broker.pull(addr, { topic, queueId, offset, maxMessages: 32 });
    out.push(...r.messages);
    offset = r.nextBeginOffset;
  }
  return out;
}

function message(i: number): OutgoingMessage {
  return {
    body: Buffer.from(`pipe-${i} ${'x'.repeat(i % 200)}`),
    tags: `t${i % 3}`,
    keys: [`k${i}`, 'pipe'],
    properties: { idx: String(i), note: 'héllo ✓' },
  };
}

function failure(r: JavaPeerResult): string {
  return (
    `bench-pipe exit ${r.exitCode}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n` +
    `${r.stderr.slice(-4000)}`
  );
}

describe('FerryPeer bench-pipe (v5 source → v4 destination)', () => {
  for (const client of ['5.3.3', '4.9.7'] as const satisfies readonly ServerVersion[]) {
    it(`forwards ${COUNT} messages produced after it started to the same queue ids (${client} client)`, { timeout: 300_000 }, async (t) => {
      const [src, dst] = await Promise.all([testCluster('v5'), testCluster('v4')]);
      const topic = `pipe_${client.replace(/\./g, '')}_${Date.now()}`;
      const srcRemoting = new RemotingClient({ credentials: src.acl });
      const dstRemoting = new RemotingClient({ credentials: dst.acl });
      const dir = mkdtempSync(join(tmpdir(), 'ferry-pipe-test-'));
      try {
        const [s, d] = await Promise.all([side(src, srcRemoting, topic), side(dst, dstRemoting, topic)]);
        // A message stored before the pipe starts must not be forwarded.
        await s.broker.send(s.addr, topic, 0, { body: Buffer.from('before-start') });

        await javaPeerClasses(client); // compile before the clock starts
        const readyFile = join(dir, 'ready');
        const pipe = javaPeer(
          client,
          [
            'bench-pipe',
            '--src-namesrv',
            src.nameServer,
            '--dst-namesrv',
            dst.nameServer,
            '--topic',
            topic,
            '--count',
            String(COUNT),
            '--duration-ms',
            '120000',
            '--ready-file',
            readyFile,
          ],
          { timeoutMs: 180_000 },
        );
        let done: JavaPeerResult | undefined;
        void pipe.then((r) => (done = r));
        const readyBy = Date.now() + 60_000;
        while (!existsSync(readyFile)) {
          if (done) assert.fail(`bench-pipe ended before it was ready:\n${failure(done)}`);
          if (Date.now() > readyBy) assert.fail('bench-pipe not ready after 60 s');
          await sleep(100);
        }

        const t0 = Date.now();
        for (let b = 0; b < COUNT / PRODUCE_BATCH; b++) {
          const msgs = Array.from({ length: PRODUCE_BATCH }, (_, k) => message(b * PRODUCE_BATCH + k));
          const r = await s.broker.sendBatch(s.addr, topic, b % QUEUES, msgs);
          assert.equal(r.status, 'SEND_OK');
        }
        const produceMs = Date.now() - t0;

        const r = await pipe;
        assert.equal(r.exitCode, 0, failure(r));
        const lines = r.lines as Record<string, unknown>[];
        assert.ok(lines.length >= 1, failure(r));
        const final = lines[lines.length - 1] as unknown as Final;
        const progress = lines.slice(0, -1) as unknown as Progress[];
        for (const p of progress) assert.deepEqual(Object.keys(p), ['forwarded', 'elapsedMs'], JSON.stringify(p));
        assert.deepEqual(
          progress.map((p) => p.forwarded),
          [...progress.map((p) => p.forwarded)].sort((a, b) => a - b),
          'progress is monotonic',
        );
        assert.equal(final.count, COUNT, failure(r));
        assert.ok(final.msgsPerSec > 0 && final.elapsedMs > 0 && final.activeMs > 0, JSON.stringify(final));
        assert.equal(final.queues, QUEUES);
        assert.equal(r.stdout.trim().split('\n').length, lines.length, 'nothing but JSON lines on stdout');
        t.diagnostic(
          `${client} client: ${final.msgsPerSec.toFixed(0)} msg/s over ${final.activeMs.toFixed(0)} ms active ` +
            `(${final.sendCalls} sends, ${final.sendRetries} retries, ${progress.length} progress lines; source produced in ` +
            `${produceMs} ms)`,
        );

        let total = 0;
        for (let q = 0; q < QUEUES; q++) {
          const [from, to] = await Promise.all([pullQueue(s.broker, s.addr, topic, q), pullQueue(d.broker, d.addr, topic, q)]);
          const produced = from.filter((m) => m.body.toString() !== 'before-start');
          assert.equal(to.length, produced.length, `queue ${q}: destination holds exactly what was produced after the start`);
          to.forEach((m, i) => {
            const o = produced[i]!;
            assert.equal(m.queueId, q);
            assert.deepEqual(m.body, o.body, `queue ${q} #${i}: same body, same order`);
            assert.equal(m.tags, o.tags);
            assert.deepEqual(m.keys, o.keys);
            assert.equal(m.properties.idx, o.properties.idx);
            assert.equal(m.properties.note, 'héllo ✓');
            assert.equal(m.properties.FERRY_PIPE_STORE_TS, String(o.storeTimestamp));
            assert.notEqual(m.uniqKey, undefined);
          });
          total += to.length;
        }
        assert.equal(total, COUNT);
      } finally {
        srcRemoting.close();
        dstRemoting.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

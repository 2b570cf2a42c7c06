// One replicator invocation: lease one shard of a flow, then per source queue pull → filter →
// loop check → transform → batch send to the mapped target queue → fenced checkpoint, until the
// time budget is nearly spent or the task stops; then flush, release, and hand over.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { connectEndpoint, type ClusterConnection } from '../clusters/connect.ts';
import { FerryError, isFerryError } from '../errors.ts';
// Not filter/index.ts: that brings the pattern analyser, which a replicator does not run.
import { evaluateSql92, parseSql92 } from '../filter/sql92.ts';
import { matchesTag, parseTagExpression } from '../filter/tag.ts';
import { matchTopicPatterns } from '../filter/topic-match.ts';
import type { Invoker, ReplicatorJob } from '../invoker/invoker.ts';
import type { Logger } from '../log.ts';
import type { OutgoingMessage, StoredMessage } from '../rocketmq/message.ts';
import { RemotingConnectError, RemotingConnectionClosedError, RemotingResponseError, RemotingTimeoutError, ResponseCode } from '../rocketmq/remoting/errors.ts';
import { isSystemTopic } from '../rocketmq/system-resources.ts';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { LeaseHolder, Store } from '../store/store.ts';
import type { TaskSpec } from '../tasks/model.ts';
import { flowsOf } from './flows.ts';
import { FlowMetrics, type FlowTotals } from './flow-metrics.ts';
import { hopOffset, toReplica, wouldLoop } from './origin.ts';
import { listSourceQueues, queueKey, shardOf, targetFor, writableQueues, type SourceQueue, type TargetQueue } from './queues.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ReadAhead } from './read-ahead.ts';

export interface ReplicatorDeps {
  store: Store;
  cipher: SecretCipher;
  log: Logger;
  invoker: Invoker;
  /** Asks metadata sync to run for the task now (a target topic is missing). */
  requestMetadataSync?: (taskId: string) => void;
}

export interface ReplicatorOptions {
  shardsPerFlow: number;
  /** Wall time this invocation may use; it stops taking new batches `stopMarginMs` before. */
  budgetMs: number;
  stopMarginMs?: number;
  leaseTtlMs?: number;
  /** Send attempts before a batch is parked. */
  sendAttempts?: number;
  /** Aborted when the hosting process shuts down: finish the batch in flight, checkpoint, release. */
  signal?: AbortSignal;
}

export type ReplicatorExit = 'budget' | 'task-stopped' | 'lease-held' | 'lease-lost' | 'task-gone' | 'shutdown';

/**
 * What one invocation did, for whoever hosts it to report (a function handler writes it as EMF
 * lines); the core itself knows nothing of where monitoring goes.
 */
export interface InvocationReport {
  exit: ReplicatorExit;
  job: ReplicatorJob;
  durationMs: number;
  /** Present once the task was read: its name and the flow's clusters (`A->B`). */
  task?: { name: string; route: string };
  /** Present when the shard ran (its lease was taken). */
  totals?: FlowTotals;
}

const PULL_BATCH = 32;
/** Pull results a queue's reader may hold while its sender is busy (each up to PULL_BATCH messages). */
const READ_AHEAD = 4;
/** Pulls a queue's reader keeps in flight while the queue holds a backlog. */
const PULL_PIPELINE = 4;
const MAX_BATCH_BYTES = 1024 * 1024;
/** How far back in a target queue idempotent resume looks for the last replica of a source queue. */
const RESUME_SCAN_LIMIT = 4096;

/** A send that may or may not have been stored: the target tail decides, not a blind resend. */
const outcomeUnknown = (err: unknown) => err instanceof RemotingTimeoutError || err instanceof RemotingConnectionClosedError;

export async function runReplicator(job: ReplicatorJob, deps: ReplicatorDeps, opts: ReplicatorOptions): Promise<InvocationReport> {
  const started = Date.now();
  const report = (exit: ReplicatorExit, extra: Pick<InvocationReport, 'task' | 'totals'> = {}): InvocationReport => ({ exit, job, durationMs: Date.now() - started, ...extra });
  const deadline = started + opts.budgetMs - (opts.stopMarginMs ?? 1500);
  const ttl = opts.leaseTtlMs ?? 15_000;
  const log = deps.log.child({ taskId: job.taskId, flow: job.flow, shard: job.shard });
  const task = await deps.store.getTask(job.tenant, job.taskId);
  if (!task) return report('task-gone');
  const spec = task.spec as TaskSpec;
  const flow = flowsOf(spec).find((f) => f.id === job.flow);
  if (!flow) return report('task-gone');
  const about = { name: task.name, route: `${flow.from.clusterId}->${flow.to.clusterId}` };
  if (task.desiredState !== 'running' || task.status !== 'running') return report('task-stopped', { task: about });

  const owner = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const key = { taskId: job.taskId, flow: job.flow, shard: job.shard };
  const lease = await deps.store.acquireLease({ ...key, owner, ttlMs: ttl });
  if (!lease) return report('lease-held', { task: about });
  const holder: LeaseHolder = { ...key, owner, epoch: lease.epoch };

  const source = connectEndpoint(flow.from, deps.cipher);
  const target = connectEndpoint(flow.to, deps.cipher);
  const metrics = new FlowMetrics(job.taskId, job.flow);
  const run = new ShardRun(job, spec, holder, source, target, metrics, deps, opts, log, deadline);
  let exit: ReplicatorExit = 'budget';
  try {
    exit = await run.execute();
  } finally {
    await run.flushMetrics().catch((err: unknown) => log.warn({ err }, 'metrics flush failed'));
    if (exit !== 'lease-lost') await deps.store.releaseLease(key, owner, lease.epoch).catch(() => false);
    source.close();
    target.close();
  }
  log.info({ exit, ms: Date.now() - started }, 'replicator invocation done');
  // Hand over at once instead of waiting for the reconciler's next tick.
  if (exit === 'budget') await deps.invoker.invokeReplicator(job).catch((err: unknown) => log.warn({ err }, 'hand-over invoke failed'));
  return report(exit, { task: about, totals: metrics.invocationTotals() });
}

class ShardRun {
  private stop: ReplicatorExit | undefined;
  private readonly filter: (m: StoredMessage) => boolean;
  private readonly limiter: RateLimiter | undefined;
  private readonly targets = new Map<string, { queues: TargetQueue[]; at: number }>();
  private readonly workers = new Map<string, Promise<void>>();

  constructor(
    private readonly job: ReplicatorJob,
    private readonly spec: TaskSpec,
    private readonly holder: LeaseHolder,
    private readonly source: ClusterConnection,
    private readonly target: ClusterConnection,
    private readonly metrics: FlowMetrics,
    private readonly deps: ReplicatorDeps,
    private readonly opts: ReplicatorOptions,
    private readonly log: Logger,
    private readonly deadline: number,
  ) {
    const x = spec.filter.expression;
    if (x.type === 'SQL92') {
      const expr = parseSql92(x.value);
      this.filter = (m) => evaluateSql92(expr, m.properties);
    } else {
      const expr = parseTagExpression(x.value);
      this.filter = (m) => matchesTag(expr, m.tags);
    }
    if (spec.tpsLimit) this.limiter = new RateLimiter(spec.tpsLimit / Math.max(1, opts.shardsPerFlow * flowsOf(spec).length));
  }

  async execute(): Promise<ReplicatorExit> {
    // Checked for safety when the task was accepted and when it was started.
    const topics = matchTopicPatterns(this.spec.filter.topics);
    const ttl = this.opts.leaseTtlMs ?? 15_000;
    let lastRenew = Date.now();
    let lastFlush = Date.now();
    let lastDiscovery = 0;
    let lastStateCheck = Date.now();
    let lastRetry = 0;
    while (!this.stop && Date.now() < this.deadline) {
      const now = Date.now();
      if (this.opts.signal?.aborted) {
        this.stop = 'shutdown';
        break;
      }
      if (now - lastDiscovery > 10_000) {
        lastDiscovery = now;
        await this.discover(topics);
      }
      if (now - lastRenew > ttl / 3) {
        lastRenew = now;
        if (!(await this.deps.store.renewLease(this.holder, this.holder.owner, this.holder.epoch, ttl))) this.stop = 'lease-lost';
      }
      if (now - lastStateCheck > 2000) {
        lastStateCheck = now;
        const t = await this.deps.store.getTask(this.job.tenant, this.job.taskId);
        if (!t) this.stop = 'task-gone';
        else if (t.desiredState !== 'running' || t.status !== 'running') this.stop ??= 'task-stopped';
      }
      if (now - lastFlush > 5000) {
        lastFlush = now;
        await this.flushMetrics();
      }
      // Parked messages whose retry was requested through the API; one shard per flow takes them.
      if (this.job.shard === 0 && now - lastRetry > 2000) {
        lastRetry = now;
        await this.retryParked().catch((err: unknown) => this.log.warn({ err }, 'parked retry failed'));
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.stop ??= 'budget';
    await Promise.all(this.workers.values());
    return this.stop;
  }

  async flushMetrics(): Promise<void> {
    const delta = this.metrics.drain();
    if (delta) await this.deps.store.addMetrics([delta]);
  }

  /** Starts a worker for every queue of this shard that has none yet (new topics and queues included). */
  private async discover(topics: (t: string) => boolean): Promise<void> {
    let listed;
    try {
      const info = await this.source.nameServers.clusterInfo();
      const names = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
      listed = await listSourceQueues(this.source, topics, (t) => isSystemTopic(t, names));
    } catch (err) {
      this.log.warn({ err }, 'cannot list source queues');
      return;
    }
    const checkpoints = new Map((await this.deps.store.getCheckpoints(this.job.taskId, this.job.flow)).map((c) => [queueKey({ topic: c.topic, brokerName: c.broker, queueId: c.queueId }), c.nextOffset]));
    for (const { queues } of listed) {
      queues.forEach((q, index) => {
        if (shardOf(q, this.opts.shardsPerFlow) !== this.job.shard) return;
        const k = queueKey(q);
        if (this.workers.has(k)) return;
        this.workers.set(k, this.worker(q, index, checkpoints.get(k)).catch((err: unknown) => this.fail(err, q)));
      });
    }
  }

  private fail(err: unknown, q: SourceQueue): void {
    if (isFerryError(err, 'STALE_EPOCH') || isFerryError(err, 'NOT_FOUND')) {
      this.stop = isFerryError(err, 'NOT_FOUND') ? 'task-gone' : 'lease-lost';
      return;
    }
    this.log.error({ err, queue: queueKey(q) }, 'queue worker failed');
    this.workers.delete(queueKey(q)); // rediscovered and restarted from its checkpoint
  }

  /** One queue, one batch in flight: order within the queue is kept on the target. */
  private async worker(q: SourceQueue, index: number, checkpoint: number | undefined): Promise<void> {
    const k = queueKey(q);
    // A queue with no checkpoint appeared after the task started: take it from its beginning.
    let offset = checkpoint ?? (await this.source.broker.minOffset(q.address, q.topic, q.queueId));
    if (this.spec.idempotentResume) {
      // A crash between send and checkpoint left replicas the checkpoint does not know about.
      const done = await this.replicatedUpTo(q, index);
      if (done !== undefined && done + 1 > offset) {
        this.log.info({ queue: k, checkpoint: offset, resumeAt: done + 1 }, 'resuming after replicas found on the target');
        offset = done + 1;
      }
    }
    const save = (nextOffset: number) => this.deps.store.saveCheckpoints(this.holder, [{ topic: q.topic, broker: q.brokerName, queueId: q.queueId, nextOffset }]);
    const pull = (from: number, idle: boolean) =>
      this.source.broker.pull(q.address, { topic: q.topic, queueId: q.queueId, offset: from, maxMessages: PULL_BATCH, suspendMs: idle ? Math.min(1000, Math.max(0, this.deadline - Date.now())) : 0 });
    // Pulls run ahead while a batch is sent; still one send in flight per queue, so order holds.
    const reader = new ReadAhead(pull, offset, READ_AHEAD, PULL_PIPELINE);
    let saved = offset;
    let savedAt = Date.now();
    // Checkpoints are written beside the stream, not in its way: one write at a time, each for
    // messages already delivered; a failed (fenced) write stops the worker at its next batch.
    let saving: Promise<void> | undefined;
    let saveFailed: { err: unknown } | undefined;
    let interrupted = false;
    try {
      while (!this.stop && Date.now() < this.deadline) {
        if (saveFailed) throw saveFailed.err;
        const results = await reader.take();
        if (results.length === 0) continue;
        const replicas: { m: StoredMessage; out: OutgoingMessage }[] = [];
        for (const r of results) {
          this.metrics.setLag(k, r.maxOffset - r.nextBeginOffset);
          // The broker moved us (offset below min after retention): nothing readable was skipped by us.
          if (r.status === 'OFFSET_ILLEGAL') this.log.warn({ queue: k, to: r.nextBeginOffset }, 'offset moved by the broker');
          this.metrics.consumed += r.messages.length;
          for (const m of r.messages) {
            if (!this.filter(m)) this.metrics.filtered++;
            else if (wouldLoop(m, this.source.clusterId, this.target.clusterId)) this.metrics.loopSkipped++;
            else replicas.push({ m, out: toReplica(m, { clusterId: this.source.clusterId, brokerName: q.brokerName, generation: this.spec.replayGeneration ?? 0 }, this.target.clusterId) });
          }
        }
        // What piled up while the previous batch was sent goes out together (up to MAX_BATCH_BYTES a send).
        if (replicas.length && !(await this.deliver(q, index, replicas))) {
          interrupted = true;
          break;
        }
        offset = results.at(-1)!.nextBeginOffset;
        // At most every 250 ms per queue; what a crash replays after the last one, idempotent
        // resume recognises on the target.
        if (offset !== saved && !saving && Date.now() - savedAt >= 250) {
          const at = offset;
          savedAt = Date.now();
          saving = save(at).then(
            () => {
              saved = at;
              saving = undefined;
            },
            (err: unknown) => {
              saveFailed = { err };
              saving = undefined;
            },
          );
        }
      }
    } finally {
      reader.stop();
      await saving;
    }
    if (saveFailed) throw saveFailed.err;
    // Stopped in the middle of a batch: nothing past it gets checkpointed.
    if (!interrupted && offset !== saved) await save(offset);
  }

  /**
   * Sends every replica, or parks what keeps failing. Outages (unreachable broker, timeouts, flow
   * control) are waited out without using the retry budget; only failures of the messages
   * themselves do. Returns false when the run stopped first: nothing past it gets checkpointed.
   */
  private async deliver(q: SourceQueue, index: number, replicas: { m: StoredMessage; out: OutgoingMessage }[]): Promise<boolean> {
    const budget = this.opts.sendAttempts ?? 5;
    for (let chunk of chunks(replicas)) {
      if (this.limiter) {
        const waited = await this.limiter.take(chunk.length);
        if (waited > 0) this.metrics.throttled += chunk.length;
      }
      let failures = 0;
      // A send whose outcome is unknown may have stored part of the chunk: until the target's tail
      // has been read (which needs the target back), nothing of the chunk is sent again.
      let unresolved = false;
      for (let attempt = 0; ; attempt++) {
        if (this.stop) return false;
        try {
          if (unresolved) {
            const done = await this.replicatedUpTo(q, index);
            unresolved = false;
            if (done !== undefined) chunk = chunk.filter((c) => c.m.queueOffset > done);
            if (chunk.length === 0) break;
          }
          const t = await this.targetQueue(q.topic, index, attempt > 0);
          await this.target.broker.sendBatch(t.address, q.topic, t.queueId, chunk.map((c) => c.out));
          const now = Date.now();
          this.metrics.replicated += chunk.length;
          for (const c of chunk) this.metrics.recordDelay(now - c.m.storeTimestamp);
          break;
        } catch (err) {
          if (outcomeUnknown(err) && this.spec.idempotentResume) unresolved = true;
          const busy = err instanceof RemotingResponseError && err.responseCode === ResponseCode.SYSTEM_BUSY;
          if (busy) this.metrics.throttled += chunk.length;
          // A missing target topic is metadata sync's to create: wait for it rather than park.
          const missingTopic = isFerryError(err, 'NOT_FOUND');
          if (missingTopic) this.deps.requestMetadataSync?.(this.job.taskId);
          if (!(busy || missingTopic || outcomeUnknown(err) || err instanceof RemotingConnectError) && ++failures >= budget) {
            await this.park(q, chunk, err);
            break;
          }
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** Math.min(attempt, 5))));
        }
      }
    }
    return true;
  }

  /**
   * The newest source offset of queue q already stored on its target queue, found by reading the
   * target tail backwards (bounded); undefined when none is found within the bound.
   */
  private async replicatedUpTo(q: SourceQueue, index: number): Promise<number | undefined> {
    let t: TargetQueue;
    try {
      t = await this.targetQueue(q.topic, index, false);
    } catch (err) {
      // No writable target queue (topic missing or read-only) holds nothing new of ours; an
      // unreachable target is no answer at all, so that is thrown.
      if (err instanceof FerryError) return undefined;
      throw err;
    }
    const broker = this.target.broker;
    const [min, max] = await Promise.all([broker.minOffset(t.address, q.topic, t.queueId), broker.maxOffset(t.address, q.topic, t.queueId)]);
    const me = { clusterId: this.source.clusterId, brokerName: q.brokerName, queueId: q.queueId, generation: this.spec.replayGeneration ?? 0 };
    for (let end = max; end > min && max - end < RESUME_SCAN_LIMIT; end -= PULL_BATCH) {
      const start = Math.max(min, end - PULL_BATCH);
      const r = await broker.pull(t.address, { topic: q.topic, queueId: t.queueId, offset: start, maxMessages: end - start });
      let found: number | undefined;
      for (const m of r.messages) {
        if (m.queueOffset >= end) break;
        const o = hopOffset(m, me);
        if (o !== undefined) found = Math.max(found ?? -1, o);
      }
      if (found !== undefined) return found;
    }
    if (max - min > RESUME_SCAN_LIMIT) this.log.warn({ queue: queueKey(q) }, 'no replica within the resume scan bound: at-least-once from the checkpoint');
    return undefined;
  }

  /** Re-sends parked messages whose retry was requested; what still fails stays parked. */
  private async retryParked(): Promise<void> {
    const batch = await this.deps.store.takeRetryBatch(this.job.taskId, this.job.flow, 256);
    if (batch.length === 0) return;
    const resolved: number[] = [];
    for (const p of batch) {
      const { TAGS: tags, KEYS: keys, UNIQ_KEY: uniqKey, ...properties } = p.properties;
      const msg: OutgoingMessage = { body: Buffer.from(p.payload ?? new Uint8Array()), properties, ...(tags ? { tags } : {}), ...(keys ? { keys: keys.split(' ') } : {}), ...(uniqKey ? { uniqKey } : {}) };
      try {
        const t = await this.targetQueue(p.topic, p.queueId, true);
        await this.target.broker.send(t.address, p.topic, t.queueId, msg);
        resolved.push(p.id);
        this.metrics.replicated++;
      } catch (err) {
        this.log.warn({ err, parkedId: p.id }, 'parked message still cannot be delivered');
      }
    }
    await this.deps.store.resolveParked(resolved);
    this.log.info({ taken: batch.length, delivered: resolved.length }, 'parked messages retried');
  }

  /** After the retry budget a batch is parked — stored for the retry action — never dropped. */
  private async park(q: SourceQueue, chunk: { m: StoredMessage; out: OutgoingMessage }[], err: unknown): Promise<void> {
    const reason = (err as Error).message ?? String(err);
    for (const { m, out } of chunk) {
      await this.deps.store.parkMessage({
        taskId: this.job.taskId,
        flow: this.job.flow,
        topic: q.topic,
        broker: q.brokerName,
        queueId: q.queueId,
        queueOffset: m.queueOffset,
        reason,
        payload: out.body,
        properties: { ...(out.properties ?? {}), ...(out.tags ? { TAGS: out.tags } : {}), ...(out.keys?.length ? { KEYS: out.keys.join(' ') } : {}), ...(out.uniqKey ? { UNIQ_KEY: out.uniqKey } : {}) },
      });
    }
    this.metrics.failed += chunk.length;
    this.log.warn({ queue: queueKey(q), count: chunk.length, reason }, 'messages parked after the retry budget');
  }

  /** The target queue for source queue #index; unwritable or missing topics are send failures. */
  private async targetQueue(topic: string, index: number, refresh: boolean): Promise<TargetQueue> {
    let cached = this.targets.get(topic);
    if (!cached || refresh || Date.now() - cached.at > 30_000) {
      let queues: TargetQueue[];
      try {
        queues = writableQueues(await this.target.nameServers.topicRoute(topic));
      } catch (err) {
        if (err instanceof RemotingResponseError && err.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
          throw new FerryError('NOT_FOUND', `topic ${topic} does not exist on the target cluster ${this.target.clusterId}`);
        }
        throw err;
      }
      cached = { queues, at: Date.now() };
      this.targets.set(topic, cached);
    }
    const t = targetFor(index, cached.queues);
    // The broker does not check perm on send; the route does (as Apache's Java client does).
    if (!t) throw new FerryError('INVALID_STATE', `topic ${topic} on the target cluster ${this.target.clusterId} is not writable`);
    return t;
  }
}

function* chunks<T extends { out: OutgoingMessage }>(items: T[]): Generator<T[]> {
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    const size = it.out.body.length + 512;
    if (cur.length && bytes + size > MAX_BATCH_BYTES) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += size;
  }
  if (cur.length) yield cur;
}

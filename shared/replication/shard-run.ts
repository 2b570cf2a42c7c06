// One shard's tenure: keeps the lease (reporting lag and rate for the reconciler's sizing), finds
// the shard's queues and runs a copier per queue, watches the task's desired state, flushes
// metrics, and at the deadline stops every copier and writes the final checkpoints.
import type { ClusterConnection } from '../clusters/connect.ts';
import { isGrpcConnection, type GrpcConnection } from '../clusters/grpc-connect.ts';
import { isFerryError } from '../errors.ts';
import { matchTopicPatterns, type TopicMatcher } from '../filter/topic-match.ts';
import type { ReplicatorJob } from '../invoker/invoker.ts';
import type { Logger } from '../log.ts';
import type { StoredMessage } from '../rocketmq/message.ts';
import { RemotingError } from '../rocketmq/remoting/errors.ts';
import type {
  CheckpointEntry,
  CheckpointStore,
  LeaseHolder,
  LeaseStore,
  MetricsStore,
  NewParkedMessage,
  ParkedStore,
  TaskRow,
  TaskStore,
} from '../store/store.ts';
import type { TaskSpec } from '../tasks/model.ts';
import { isOwnQueue } from './assignment.ts';
import { CheckpointWriter } from './checkpoint-writer.ts';
import { Delivery, RetryPolicy, TargetRoutes, sleep } from './delivery.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { flowsOf } from './flows.ts';
import { GrpcDelivery } from './grpc-delivery.ts';
import { GrpcSourceCopier, grpcConsumerGroup } from './grpc-source.ts';
import { QueueCopier } from './queue-copier.ts';
import { messageFilter } from './message-filter.ts';
import { OffsetPairRecorder } from './offset-pairs.ts';
import { ORIGIN } from './origin.ts';
import { listSourceQueues, queueKey, type SourceQueue } from './queues.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import { routesOf, Topology } from './topology.ts';
import { RateLimiter } from './rate-limiter.ts';
import { ByteBudget } from './read-ahead.ts';
import type { PropertySigner } from './signature.ts';

export type ShardExit = 'budget' | 'task-stopped' | 'lease-lost' | 'task-gone' | 'shutdown';

export interface ShardRunOptions {
  leaseTtlMs: number;
  /** Message bytes all of the shard's queues may hold at once. */
  bufferBytes: number;
  sendAttempts: number;
  signal: AbortSignal | undefined;
  /** When to start the successor invocation (it waits for this one's lease), and how. */
  handOverAt: number;
  handOver: () => Promise<void>;
}

export interface ShardRunDeps {
  store: TaskStore & LeaseStore & CheckpointStore & MetricsStore & ParkedStore;
  log: Logger;
  requestMetadataSync: ((taskId: string) => void) | undefined;
  /** Signs this task's replicas; tells whose Ferry properties to believe. */
  signer: PropertySigner;
}

const DISCOVERY_MS = 30_000;
const STATE_CHECK_MS = 2000;
const METRICS_FLUSH_MS = 5000;
const CHECKPOINT_INTERVAL_MS = 250;

export class ShardRun {
  private stop: ShardExit | undefined;
  private readonly copiers = new Map<string, { copier: QueueCopier | GrpcSourceCopier; done: Promise<CheckpointEntry | undefined> }>();
  private readonly ownership = new Map<string, boolean>();
  private readonly checkpoints: CheckpointWriter;
  private readonly delivery: Delivery | GrpcDelivery;
  private readonly budget: ByteBudget;
  private readonly filter: (m: StoredMessage) => boolean;
  /** The tenant's running tasks as routes, refreshed at each discovery: where replicas go on. */
  private topology = new Topology([]);

  constructor(
    private readonly job: ReplicatorJob,
    private readonly spec: TaskSpec,
    private readonly holder: LeaseHolder,
    private readonly source: ClusterConnection | GrpcConnection,
    private readonly target: ClusterConnection | GrpcConnection,
    private readonly metrics: FlowMetrics,
    private readonly deps: ShardRunDeps,
    private readonly opts: ShardRunOptions,
    private readonly log: Logger,
    private readonly deadline: number,
  ) {
    this.filter = messageFilter(spec) ?? (() => true);
    this.budget = new ByteBudget(opts.bufferBytes);
    // Offset pairs only where offsets are translated (taskOptions' default: on).
    const pairs = spec.offsetSync?.enabled === false ? undefined : new OffsetPairRecorder();
    this.checkpoints = new CheckpointWriter(deps.store, holder, CHECKPOINT_INTERVAL_MS, (err) => this.failed(err), pairs);
    const shards = Math.max(1, (job.shards ?? 1) * flowsOf(spec).length);
    // What both deliveries share: retries, metrics, the task's TPS share, and where failures are parked.
    const common = {
      policy: new RetryPolicy(opts.sendAttempts),
      metrics,
      limiter: spec.tpsLimit ? new RateLimiter(spec.tpsLimit / shards) : undefined,
      log,
      stopped: () => this.stop !== undefined,
      park: (m: Omit<NewParkedMessage, 'taskId' | 'flow'>) =>
        deps.store.parkMessage({ taskId: job.taskId, flow: job.flow, ...m }).then(() => undefined),
    };
    if (isGrpcConnection(target)) {
      this.delivery = new GrpcDelivery({ target, ...common });
      return;
    }
    this.delivery = new Delivery({
      target,
      routes: new TargetRoutes(target),
      sourceClusterId: source.clusterId,
      generation: spec.replayGeneration ?? 0,
      idempotentResume: spec.idempotentResume,
      signer: deps.signer,
      ...common,
      requestMetadataSync: deps.requestMetadataSync && (() => deps.requestMetadataSync!(job.taskId)),
      pairs,
    });
  }

  async execute(): Promise<ShardExit> {
    // A store call that fails in the loop (the database gone) ends the tenure, but only after every
    // copier has stopped: the caller closes the cluster clients next, and a copier still sending
    // through a closed client would take its failures for the messages' own and park them.
    let failure: { err: unknown } | undefined;
    try {
      await this.loop();
    } catch (err) {
      failure = { err };
      this.stop ??= 'lease-lost';
    }
    this.stop ??= 'budget';
    for (const { copier } of this.copiers.values()) copier.stop();
    const finals = await Promise.all([...this.copiers.values()].map((c) => c.done));
    try {
      await this.checkpoints.close(finals.filter((e): e is CheckpointEntry => e !== undefined));
    } catch (err) {
      this.failed(err);
    }
    if (failure) throw failure.err;
    return this.stop;
  }

  /** Lease, discovery, state checks and metrics until the run stops or its deadline. */
  private async loop(): Promise<void> {
    // Checked for safety when the task was accepted and when it was started.
    const topics = matchTopicPatterns(this.spec.filter.topics);
    const renewEvery = this.opts.leaseTtlMs / 3;
    let lastRenew = Date.now();
    let lastFlush = Date.now();
    let lastDiscovery = 0;
    let lastStateCheck = Date.now();
    let replicatedAtRenew = 0;
    while (!this.stop && Date.now() < this.deadline) {
      const now = Date.now();
      if (this.opts.signal?.aborted) {
        this.stop = 'shutdown';
        break;
      }
      if (now - lastDiscovery > DISCOVERY_MS) {
        const first = lastDiscovery === 0;
        lastDiscovery = now;
        await this.discover(topics);
        if (first) this.log.info({ queues: this.copiers.size, ms: Date.now() - now }, 'shard copying');
      }
      if (now - lastRenew > renewEvery) {
        const replicated = this.metrics.replicatedSoFar();
        const rate = ((replicated - replicatedAtRenew) * 1000) / Math.max(1, now - lastRenew);
        lastRenew = now;
        replicatedAtRenew = replicated;
        const renewed = await this.deps.store.renewLease(this.holder, this.holder.owner, this.holder.epoch, this.opts.leaseTtlMs, {
          lag: this.metrics.currentLag(),
          rate,
        });
        if (!renewed) this.stop = 'lease-lost';
      }
      if (now - lastStateCheck > STATE_CHECK_MS) {
        lastStateCheck = now;
        const t = await this.deps.store.getTask(this.job.tenant, this.job.taskId);
        if (!t) this.stop = 'task-gone';
        else if (t.desiredState !== 'running' || t.status !== 'running') this.stop ??= 'task-stopped';
        await this.refreshTopology();
      }
      if (now >= this.opts.handOverAt) await this.opts.handOver();
      if (now - lastFlush > METRICS_FLUSH_MS) {
        lastFlush = now;
        await this.flushMetrics();
      }
      await sleep(200);
    }
  }

  /** Queues this shard copied. */
  get queueCount(): number {
    return this.copiers.size;
  }

  async flushMetrics(): Promise<void> {
    const delta = this.metrics.drain();
    if (delta) await this.deps.store.addMetrics([delta]);
  }

  /** Starts a copier for every queue of this shard that has none yet (new topics and queues included). */
  /** The tenant's running tasks as routes (every STATE_CHECK_MS: a task started elsewhere changes where replicas go). */
  private async refreshTopology(): Promise<void> {
    const tasks: TaskRow[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.listTasks(this.job.tenant, { limit: 1000, status: 'running', ...(cursor ? { cursor } : {}) });
      tasks.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.topology = new Topology(routesOf(tasks));
  }

  private async discover(topics: TopicMatcher): Promise<void> {
    await this.refreshTopology();
    if (isGrpcConnection(this.source)) return this.startGrpcSource(this.source, topics);
    let listed: Awaited<ReturnType<typeof listSourceQueues>>;
    try {
      const info = await this.source.nameServers.clusterInfo();
      const names = new Set([...Object.keys(info.clusterAddrTable), ...Object.keys(info.brokerAddrTable)]);
      listed = await listSourceQueues(this.source, replicatedTopics(this.spec, names));
    } catch (err) {
      this.log.warn({ err }, 'cannot list source queues');
      return;
    }
    // Queues added or gone elsewhere in a topic move a queue's position, so its target queue.
    const added: { q: SourceQueue; index: number; k: string }[] = [];
    for (const { queues } of listed) {
      queues.forEach((q, index) => {
        const k = queueKey(q);
        const running = this.copiers.get(k);
        if (running) running.copier.index = index;
        else if (this.ownQueue(k, q)) added.push({ q, index, k });
      });
    }
    // Most discoveries find nothing new: the checkpoints are read only when they do.
    if (this.stop || added.length === 0) return;
    const stored = await this.deps.store.getCheckpoints(this.job.taskId, this.job.flow);
    const checkpoints = new Map(stored.map((c) => [queueKey({ topic: c.topic, brokerName: c.broker, queueId: c.queueId }), c]));
    const ctx = {
      source: this.source,
      targetClusterId: this.target.clusterId,
      delivery: this.delivery,
      checkpoints: this.checkpoints,
      metrics: this.metrics,
      budget: this.budget,
      filter: this.filter,
      onward: (m: StoredMessage, trusted: boolean) =>
        this.topology.carries(
          m,
          (trusted ? m.properties[ORIGIN.cluster] : undefined) ?? this.source.clusterId,
          this.source.clusterId,
          this.target.clusterId,
        ),
      signer: this.deps.signer,
      idempotentResume: this.spec.idempotentResume,
      generation: this.spec.replayGeneration ?? 0,
      deadline: this.deadline,
      log: this.log,
    };
    for (const { q, index, k } of added) {
      const copier = new QueueCopier(q, index, ctx);
      const c = checkpoints.get(k);
      const done = copier.run(c && { nextOffset: c.nextOffset, exact: c.exact === true }).catch((err: unknown) => {
        this.copierFailed(err, q);
        return undefined;
      });
      this.copiers.set(k, { copier, done });
    }
  }

  /** Whether a queue is this shard's: a hash per queue, remembered (the layout is fixed for a tenure). */
  private ownQueue(k: string, q: SourceQueue): boolean {
    let own = this.ownership.get(k);
    if (own === undefined) this.ownership.set(k, (own = isOwnQueue(q, this.job)));
    return own;
  }

  /** A gRPC source has no queues to list: one consumer (of the flow's own group) per shard takes the filter's topics. */
  private startGrpcSource(source: GrpcConnection, topics: TopicMatcher): void {
    if (this.stop || this.copiers.has('grpc')) return;
    const copier = new GrpcSourceCopier({
      source,
      group: grpcConsumerGroup(this.job.taskId, this.job.flow),
      // Names only (the API refuses patterns for a gRPC source); excludes still apply.
      topics: this.spec.filter.topics.include.filter((t) => topics(t)),
      targetClusterId: this.target.clusterId,
      delivery: this.delivery,
      metrics: this.metrics,
      filter: this.filter,
      onward: (m, trusted) =>
        this.topology.carries(
          m,
          (trusted ? m.properties[ORIGIN.cluster] : undefined) ?? source.clusterId,
          source.clusterId,
          this.target.clusterId,
        ),
      signer: this.deps.signer,
      generation: this.spec.replayGeneration ?? 0,
      deadline: this.deadline,
      log: this.log,
    });
    const done = copier.run().catch((err: unknown) => {
      this.log.warn({ err }, 'gRPC source stopped; started again at the next discovery');
      this.copiers.delete('grpc');
      return undefined;
    });
    this.copiers.set('grpc', { copier, done });
  }

  /** A fenced write failed: the lease or the shard layout moved on, so this tenure ends. */
  private failed(err: unknown): void {
    if (isFerryError(err, 'NOT_FOUND')) this.stop = 'task-gone';
    else if (isFerryError(err, 'STALE_EPOCH')) this.stop = 'lease-lost';
    else {
      this.log.warn({ err }, 'checkpoint write failed');
      this.stop ??= 'lease-lost';
    }
  }

  private copierFailed(err: unknown, q: SourceQueue): void {
    if (isFerryError(err, 'STALE_EPOCH') || isFerryError(err, 'NOT_FOUND')) {
      this.failed(err);
      return;
    }
    // A cluster's answer (a deleted topic, a refused pull) is the cluster's business; anything else is ours.
    if (err instanceof RemotingError) this.log.warn({ err, queue: queueKey(q) }, 'queue copier stopped; restarted at the next discovery');
    else this.log.error({ err, queue: queueKey(q) }, 'queue copier failed');
    this.copiers.delete(queueKey(q)); // rediscovered and restarted from its checkpoint
  }
}

// The process invoker: each replicator invocation is a child process, as a function instance would
// be — its own memory, its own core — for self-hosted runtimes on PostgreSQL. A child hands over by
// asking (over the IPC channel) for its successor, which this invoker then starts like any job.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log.ts';
import { runtimeId } from '../config.ts';
import { ReplicatorJobSchema, type Invoker, type ReplicatorJob } from './invoker.ts';

export interface ChildProcessInvokerOptions {
  /** Node arguments that run the replicator entry; the job's JSON is appended. */
  args: string[];
  env: Readonly<NodeJS.ProcessEnv>;
  log: Logger;
  /** Start the successors children ask for (default true). */
  handOver?: boolean;
  /**
   * Where the children's output goes (default: this process's stdout/stderr); 'pipe' leaves each
   * child's stdout/stderr streams for a subclass to read (it must read them, or a child stalls).
   */
  output?: 'inherit' | 'ignore' | 'pipe';
}

const jobKey = (job: ReplicatorJob) =>
  `${job.taskId}/${job.flow}/${job.kind ?? 'copy'}/${job.generation ?? 0}/${job.shard}${job.successor ? '/successor' : ''}`;

export class ChildProcessInvoker implements Invoker {
  /** The live child of each job; a job whose child still runs is not started twice. */
  protected readonly live = new Map<string, ChildProcess>();
  private closed = false;

  constructor(private readonly opts: ChildProcessInvokerOptions) {}

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    const key = jobKey(job);
    if (this.closed || this.live.has(key)) return;
    const out = this.opts.output ?? 'inherit';
    const child = spawn(process.execPath, [...this.opts.args, JSON.stringify(job)], {
      // The child's leases are this runtime's (runtime-share.ts).
      env: { FERRY_RUNTIME_ID: runtimeId(), ...this.opts.env },
      stdio: ['ignore', out, out, 'ipc'],
    });
    this.live.set(key, child);
    child.on('message', (msg: unknown) => {
      const asked = ReplicatorJobSchema.safeParse((msg as { invoke?: unknown } | null)?.invoke);
      if (asked.success && this.opts.handOver !== false) void this.invokeReplicator(asked.data);
    });
    child.once('error', (err) => this.opts.log.warn({ err, job }, 'replicator process failed to start'));
    child.once('exit', (code, signal) => {
      if (this.live.get(key) === child) this.live.delete(key);
      if (code !== 0 && !this.closed && signal !== 'SIGKILL')
        this.opts.log.warn({ job, code, signal }, 'replicator process ended abnormally');
    });
  }

  /** Process ids of the live children. */
  pids(): number[] {
    return [...this.live.values()].flatMap((c) => (c.pid ? [c.pid] : []));
  }

  /** Stops starting children, asks the live ones to finish (SIGTERM: flush, checkpoint, release) and waits. */
  async drain(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.live.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}

/** The invoker a replicator child uses: its successor is started by the parent that started it. */
export const parentInvoker: Invoker = {
  invokeReplicator: async (job) => {
    process.send?.({ invoke: job });
  },
};

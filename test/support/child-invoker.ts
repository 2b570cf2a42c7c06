// An Invoker that starts each replicator invocation as a child process, as a function platform
// would (`test/support/replicator-child.ts`, or a bundle of it), and remembers the live ones so a
// test can kill them. A job whose child is still alive is not spawned again: starting takes
// seconds on a loaded machine while a reconciler re-dispatches, and children must not pile up.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Invoker, ReplicatorJob } from '../../shared/invoker/invoker.ts';

const root = join(import.meta.dirname, '..', '..');

export class ChildInvoker implements Invoker {
  /** The live child of each job (task/flow/generation/shard). */
  private readonly live = new Map<string, ChildProcess>();

  /** `entry`: a bundled replicator-child to run with plain node (faster to start), else the source through tsx. */
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly entry?: string,
  ) {}

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    const key = `${job.taskId}/${job.flow}/${job.kind ?? 'copy'}/${job.generation ?? 0}/${job.shard}`;
    if (this.live.has(key)) return;
    const args = this.entry ? [this.entry, JSON.stringify(job)] : ['--import', 'tsx', join(root, 'test/support/replicator-child.ts'), JSON.stringify(job)];
    const child = spawn(process.execPath, args, { cwd: root, env: this.env, stdio: 'ignore' });
    this.live.set(key, child);
    child.once('exit', () => {
      if (this.live.get(key) === child) this.live.delete(key);
    });
  }

  /** Process ids of the live children. */
  pids(): number[] {
    return [...this.live.values()].flatMap((c) => (c.pid ? [c.pid] : []));
  }

  /** SIGKILLs one live child, chosen at random; false when none is alive. */
  killOne(): boolean {
    const all = [...this.live];
    if (all.length === 0) return false;
    const [key, child] = all[Math.floor(Math.random() * all.length)]!;
    child.kill('SIGKILL');
    this.live.delete(key);
    return true;
  }

  killAll(): void {
    for (const c of this.live.values()) c.kill('SIGKILL');
    this.live.clear();
  }
}

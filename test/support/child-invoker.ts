// The process invoker as tests and benchmarks use it: every replicator invocation a child process
// (infra/local/replicator-process.ts, or a bundle of it), no automatic hand-over (the caller's
// reconciler dispatches), output discarded or kept per child as its log lines — plus the means to
// kill children mid-stream.
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { createLogger } from '../../shared/log.ts';

const root = join(import.meta.dirname, '..', '..');
export const REPLICATOR_ENTRY = join(root, 'infra/local/replicator-process.ts');

/** The replicator entry bundled with esbuild (a child then starts without tsx); returns its path. */
export async function bundleReplicatorEntry(): Promise<string> {
  // Two directories below the root, as the source is: the store finds infra/migrations from there.
  const out = join(root, 'node_modules', '.ferry-bench', 'replicator-process.mjs');
  await build({
    entryPoints: [REPLICATOR_ENTRY],
    outfile: out,
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    logLevel: 'warning',
  });
  return out;
}

/** One child's log: its JSON lines (pino's), each with the time this process received it. */
export interface ChildLog {
  pid: number;
  job: ReplicatorJob;
  startedAt: number;
  lines: { at: number; entry: Record<string, unknown> }[];
}

export class ChildInvoker extends ChildProcessInvoker {
  /** Every child's log, in start order (with `keepLogs`). */
  readonly logs: ChildLog[] = [];

  /**
   * `bundle`: a bundled replicator entry to run with plain node (faster to start), else the source
   * through tsx. `keepLogs`: keep each child's log lines (in `logs`) instead of discarding them.
   */
  constructor(
    env: NodeJS.ProcessEnv,
    bundle?: string,
    private readonly keepLogs = false,
  ) {
    super({
      args: bundle ? [bundle] : ['--import', 'tsx', REPLICATOR_ENTRY],
      env,
      log: createLogger('warn'),
      handOver: false,
      output: keepLogs ? 'pipe' : 'ignore',
    });
  }

  override invokeReplicator(job: ReplicatorJob): Promise<void> {
    const before = new Set(this.live.values());
    // The child is spawned synchronously, before the first await of the invoker.
    const started = super.invokeReplicator(job);
    if (this.keepLogs) for (const c of this.live.values()) if (!before.has(c)) this.keep(c, job);
    return started;
  }

  /** The live children's process ids and their logs. */
  liveLogs(): ChildLog[] {
    const pids = new Set(this.pids());
    return this.logs.filter((l) => pids.has(l.pid));
  }

  /** SIGKILLs the live child with this process id and resolves once it is gone; false when there is none. */
  async kill(pid: number): Promise<boolean> {
    const entry = [...this.live].find(([, c]) => c.pid === pid);
    if (!entry) return false;
    const [key, child] = entry;
    const gone = new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
    child.kill('SIGKILL');
    this.live.delete(key);
    await gone;
    return true;
  }

  private keep(child: ChildProcess, job: ReplicatorJob): void {
    const log: ChildLog = { pid: child.pid ?? -1, job, startedAt: Date.now(), lines: [] };
    this.logs.push(log);
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          if (!line.startsWith('{')) continue;
          try {
            log.lines.push({ at: Date.now(), entry: JSON.parse(line) as Record<string, unknown> });
          } catch {
            // not a log line
          }
        }
      });
    }
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

// The process invoker as tests and benchmarks use it: every replicator invocation a child process
// (infra/local/replicator-process.ts, or a bundle of it), no automatic hand-over (the caller's
// reconciler dispatches), output discarded — plus the means to kill children mid-stream.
import { join } from 'node:path';
import { build } from 'esbuild';
import { ChildProcessInvoker } from '../../shared/invoker/child-process.ts';
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

export class ChildInvoker extends ChildProcessInvoker {
  /** `bundle`: a bundled replicator entry to run with plain node (faster to start), else the source through tsx. */
  constructor(env: NodeJS.ProcessEnv, bundle?: string) {
    super({
      args: bundle ? [bundle] : ['--import', 'tsx', REPLICATOR_ENTRY],
      env,
      log: createLogger('warn'),
      handOver: false,
      output: 'ignore',
    });
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

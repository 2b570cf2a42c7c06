// The replicator entry for FERRY_INVOKER=process, bundled once at start-up with esbuild (packages
// stay external) so every child starts in a fraction of the CPU that loading TypeScript through tsx
// costs — a child starts at every hand-over. Without esbuild, the children run the source like this
// process does.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
const source = join(root, 'infra/local/replicator-process.ts');

/** Node arguments that start one replicator child (the job's JSON goes after them). */
export async function replicatorProcessArgs(): Promise<string[]> {
  try {
    const esbuild = await import('esbuild');
    // Two directories below the root, as the source is: the store finds infra/migrations from there.
    const outfile = join(root, 'node_modules', '.ferry-replicator', 'replicator-process.mjs');
    await esbuild.build({
      entryPoints: [source],
      outfile,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
    return [outfile];
  } catch {
    return [...process.execArgv, source];
  }
}

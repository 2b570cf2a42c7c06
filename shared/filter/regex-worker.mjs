// The regex safety analyser's worker thread (started by shared/filter/redos.ts). recheck's checks are
// synchronous and can take seconds, so they run here, off the event loop that answers requests.
// Plain JavaScript: a worker thread cannot load TypeScript through tsx, and esbuild bundles this file
// (with recheck inside) next to each function that checks patterns (infra/aws/esbuild-plugins.cjs).
import { parentPort } from 'node:worker_threads';
import recheck from 'recheck/lib/browser.js';

/** A fixed seed makes the fuzzing fallback give the same verdict every time. */
const check = (source, timeoutMs) => recheck.checkSync(source, '', { timeout: Math.max(1, timeoutMs), randomSeed: 42 });

// The first check pays for warming recheck up (seconds on a busy machine): pay it before any request waits.
check('^(?:[a-z]+-)*x$', 10_000);

parentPort?.on('message', (job) => {
  const started = Date.now();
  const remaining = () => Math.min(job.timeoutMs, job.deadline - Date.now());
  try {
    const d = check(job.source, remaining());
    // Only what the verdict needs crosses back (attack strings can be long).
    parentPort.postMessage({
      id: job.id,
      status: d.status,
      complexity: d.status === 'vulnerable' ? { type: d.complexity.type, degree: d.complexity.degree ?? 0 } : undefined,
      error: d.status === 'unknown' ? { kind: d.error.kind, message: d.error.message } : undefined,
      ms: Date.now() - started,
    });
  } catch (err) {
    parentPort.postMessage({ id: job.id, status: 'failed', message: err instanceof Error ? err.message : String(err) });
  }
});

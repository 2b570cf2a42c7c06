// What an idle `npm start` costs: resident memory and CPU of the local runtime — the bundle
// `prestart` builds (dist/local/main.mjs), run as `npm start` runs it, with its reconciler and
// metadata-sync timers and no tasks — on the embedded store (PGlite) and on PostgreSQL.
// `npm run bench -- footprint [idle seconds, default 30]`.
//
// How to read the figures:
// - embedded_first: a first start (the data directory is created); embedded: a later start on that
//   directory, the usual case; postgres: a throwaway database on FERRY_TEST_DATABASE_URL's server.
// - startMs: from spawning the process to the first healthy answer of GET /v1/health.
// - rssMb: resident set after a settle period (10 s) and the idle window, from /proc/<pid>/status
//   VmRSS; peakRssMb is VmHWM, the most it ever held (start-up included).
// - idleCpuPct: CPU time of the process over the idle window divided by its length (100 = one core).
// - Only the runtime process is measured (PostgreSQL is a separate server, not counted).
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { throwawayDataDir, throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { freePortBlock } from '../testbed/ports.ts';
import { cpuSecondsOf, peakRssKb } from './_proc-stats.ts';
import type { Bench } from './run.ts';

const root = join(import.meta.dirname, '..', '..');
const SETTLE_MS = 10_000;

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const mb = (kb: number) => Math.round(kb / 102.4) / 10;

async function measure(storeEnv: Record<string, string>, idleSeconds: number) {
  const port = await freePortBlock(1);
  const t0 = performance.now();
  // As package.json's "start" runs it.
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'dist/local/main.mjs')], {
    cwd: root,
    // A token given, so a first start prints none.
    env: {
      ...process.env,
      DATABASE_URL: '',
      FERRY_DATA_DIR: '',
      ...storeEnv,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      FERRY_API_TOKEN: `bench-${randomBytes(12).toString('hex')}`,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the runtime exited with ${child.exitCode}`);
      if (performance.now() - t0 > 180_000) throw new Error('the runtime did not answer within 180 s');
      try {
        if ((await fetch(`http://127.0.0.1:${port}/v1/health`)).ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const startMs = Math.round(performance.now() - t0);
    const pid = child.pid!;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const cpu0 = cpuSecondsOf(pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleCpuPct = Math.round(((cpuSecondsOf(pid) - cpu0) / ((performance.now() - w0) / 1000)) * 1000) / 10;
    return { startMs, rssMb: mb(rssKb(pid)), peakRssMb: mb(peakRssKb(pid)), idleCpuPct };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

const footprint: Bench = async (args) => {
  const idleSeconds = Number(args[0] ?? 30);
  execFileSync('npm', ['run', '-s', 'build:runtime'], { cwd: root, stdio: 'inherit' });
  const figures: Record<string, number> = {};
  const dir: Throwaway<string> = await throwawayDataDir();
  const pg: Throwaway<string> = await throwawayPostgres();
  try {
    const runs: [string, Record<string, string>][] = [
      ['embedded_first', { FERRY_DATA_DIR: dir.value }],
      ['embedded', { FERRY_DATA_DIR: dir.value }],
      ['postgres', { DATABASE_URL: pg.value }],
    ];
    for (const [name, env] of runs) {
      const m = await measure(env, idleSeconds);
      console.log(
        `${name.padEnd(15)} start ${m.startMs} ms  rss ${m.rssMb} MB  peak rss ${m.peakRssMb} MB  ` +
          `idle cpu ${m.idleCpuPct}% of a core over ${idleSeconds} s`,
      );
      for (const [k, v] of Object.entries(m)) figures[`${name}_${k}`] = v;
    }
  } finally {
    await dir.drop();
    await pg.drop();
  }
  return { idleSeconds, ...figures };
};

export default footprint;

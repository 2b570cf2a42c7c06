// `npm test`: runs the unit and contract files (two at a time) while the shared RocketMQ clusters start
// (when integration tests are selected), then the integration and e2e files one at a time, then stops
// the clusters whatever happened.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { RocketMQCluster, type ClusterInfo } from './testbed/cluster.ts';
import { TESTBED_CLUSTERS, TESTBED_ENV, type TestbedKey } from './support/testbed.ts';

const root = join(import.meta.dirname, '..');
const SUITES = ['test/unit', 'test/contract', 'test/integration', 'test/e2e'];

function findTests(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(findTests(p));
    else if (e.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const args = process.argv.slice(2);
const files = (args.length ? args : SUITES).flatMap((a) => (a.endsWith('.ts') ? [a] : findTests(join(root, a))));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A test bed already running (FERRY_TESTBED from test/testbed/testbed-cli.ts) is reused as it is.
const needsClusters = files.some((f) => /test\/(integration|e2e)\//.test(f)) && !process.env[TESTBED_ENV];

const clusters: RocketMQCluster[] = [];
let stopping: Promise<void> | undefined;
const stopAll = () => (stopping ??= Promise.all(clusters.map((c) => c.stop())).then(() => undefined));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void stopAll().finally(() => process.exit(130));
  });
}

/** Unit and contract files need no cluster and are short: they run two at a time while the clusters start. */
const isLight = (f: string) => /^test\/(unit|contract)\//.test(f);
const light = files.filter(isLight);
const heavy = files.filter((f) => !isLight(f));

// Human-readable spec output on stdout; TAP to files, whose totals become one plain closing line.
const tapDir = mkdtempSync(join(tmpdir(), 'ferry-tap-'));
let lane = 0;
/** One `node --test` over `list`; its TAP file is counted at the end. */
function runFiles(list: string[], env: NodeJS.ProcessEnv, concurrency: number): Promise<number> {
  if (list.length === 0) return Promise.resolve(0);
  const tapFile = join(tapDir, `results-${lane++}.tap`);
  const reporters = [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
  ];
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...reporters, ...list];
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function startClusters(env: NodeJS.ProcessEnv): Promise<void> {
  const t0 = Date.now();
  const keys = Object.keys(TESTBED_CLUSTERS) as TestbedKey[];
  const infos: Partial<Record<TestbedKey, ClusterInfo>> = {};
  const results = await Promise.allSettled(
    keys.map(async (k) => {
      const c = await RocketMQCluster.start({ ...TESTBED_CLUSTERS[k], name: `t-${k}` });
      clusters.push(c);
      infos[k] = c.info;
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  console.log(`# test bed: ${keys.length} clusters ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  env[TESTBED_ENV] = JSON.stringify(infos);
}

let exitCode = 1;
try {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const ready = needsClusters ? startClusters(env) : Promise.resolve();
  // Keep a failed start from being an unhandled rejection while the light files run.
  ready.catch(() => undefined);
  const lightCode = await runFiles(light, { ...process.env }, 2);
  await ready;
  const heavyCode = await runFiles(heavy, env, 1);
  exitCode = lightCode || heavyCode;
  let passed = 0;
  let failed = 0;
  for (const f of readdirSync(tapDir)) {
    const tap = readFileSync(join(tapDir, f), 'utf8');
    const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
    passed += count('pass');
    failed += count('fail') + count('cancelled');
  }
  if (failed > 0 || passed === 0) exitCode ||= 1;
  console.log(`tests: ${passed} passed, ${failed} failed`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  rmSync(tapDir, { recursive: true, force: true });
  await stopAll();
}
process.exit(exitCode);

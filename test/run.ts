// `npm test`: starts the shared RocketMQ clusters once (when integration tests are selected), runs
// every test file with Node's test runner, then stops the clusters whatever happened.
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

let exitCode = 1;
try {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (needsClusters) {
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
  // Human-readable spec output on stdout; TAP to a file, whose totals become one plain closing line.
  const tapDir = mkdtempSync(join(tmpdir(), 'ferry-tap-'));
  const tapFile = join(tapDir, 'results.tap');
  const reporters = [
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
  ];
  exitCode = await new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...reporters, ...files], { cwd: root, env, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  const tap = readFileSync(tapFile, 'utf8');
  rmSync(tapDir, { recursive: true, force: true });
  const count = (k: string) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  if (failed > 0 || passed === 0) exitCode ||= 1;
  console.log(`tests: ${passed} passed, ${failed} failed`);
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await stopAll();
}
process.exit(exitCode);

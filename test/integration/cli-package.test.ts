// The `ferry` command as a package: `npm pack` builds dist/ferry.mjs (prepack), and the tarball,
// installed without dev dependencies and without install scripts into an empty project, runs
// `ferry --help` and a real API call against the local runtime.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startRuntime, type Runtime } from '../support/runtime.ts';

const exec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

describe('ferry from npm pack', () => {
  let dir: string;
  let rt: Runtime;
  let bin: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ferry-pack-'));
    await Promise.all([
      exec('npm', ['pack', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 }),
      (async () => {
        rt = await startRuntime({ store: 'embedded', env: { FERRY_RECONCILE_INTERVAL_MS: '86400000' } });
      })(),
    ]);
    const tgz = join(dir, (await readdir(dir)).find((f) => f.endsWith('.tgz'))!);
    const project = join(dir, 'project');
    await exec('mkdir', ['-p', project]);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'ferry-pack-check', version: '1.0.0', private: true }));
    await exec('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tgz], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
    bin = join(project, 'node_modules', '.bin', 'ferry');
  });
  after(async () => {
    await rt?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('packs only the built CLI, not the sources', async () => {
    const installed = join(dir, 'project', 'node_modules', 'ferry');
    const files = (await readdir(installed, { recursive: true })).map(String).sort();
    assert.ok(files.includes(join('dist', 'ferry.mjs')), files.join(', '));
    assert.ok(!files.some((f) => f.startsWith('shared') || f.startsWith('test') || f.endsWith('.ts')), files.join(', '));
    // No dev dependency came along: esbuild and tsx are not installed.
    const modules = await readdir(join(dir, 'project', 'node_modules'));
    for (const dev of ['esbuild', 'tsx', 'typescript']) assert.ok(!modules.includes(dev), `${dev} is installed`);
  });

  it('runs --help, and an API call against the local runtime', async () => {
    const help = await exec(bin, ['--help']);
    assert.match(help.stdout, /^Usage: ferry \[options\] \[command\]/);
    assert.match(help.stdout, /tasks\s/);
    const env = { ...process.env, FERRY_URL: rt.baseUrl, FERRY_TOKEN: rt.adminToken };
    const listed = await exec(bin, ['tasks', 'list', '-o', 'json'], { env });
    assert.deepEqual(JSON.parse(listed.stdout), []);
    const yaml = await exec(bin, ['tokens', 'list', '-o', 'yaml'], { env });
    assert.match(yaml.stdout, /^items:\n/);
  });
});

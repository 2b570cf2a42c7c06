// The SCF code packages `deploy:tencent` uploads (infra/tencent/package.ts): each under 1.5 MB,
// deterministic (the same sources give the same SHA-256, so an unchanged function is not
// re-uploaded), without the AWS SDK or source maps, the regex analyser only in api and reconciler;
// and, unpacked, SCF's entry `index.main_handler` serves /v1/health on PostgreSQL from an SCF
// function-URL event and runs a replicator job with an SCF context, with settings as SCF gives them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildScfPackages, SCF_FUNCTIONS, type CodePackage, type ScfFunctionKey } from '../../infra/tencent/package.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const MAX_ZIP_BYTES = 1.5 * 1024 * 1024;

describe('SCF packages', () => {
  let packages: Record<ScfFunctionKey, CodePackage>;
  let work: string;
  const unpacked = (fn: ScfFunctionKey) => join(work, fn);
  before(async () => {
    packages = await buildScfPackages();
    work = mkdtempSync(join(tmpdir(), 'ferry-scf-pkg-'));
    for (const fn of SCF_FUNCTIONS) {
      writeFileSync(join(work, `${fn}.zip`), packages[fn].zip);
      await run('unzip', ['-q', join(work, `${fn}.zip`), '-d', unpacked(fn)]);
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it(`are each under ${MAX_ZIP_BYTES / 1024 / 1024} MB (read and compiled at every cold start)`, () => {
    const sizes = Object.fromEntries(SCF_FUNCTIONS.map((fn) => [fn, packages[fn].zip.length]));
    for (const fn of SCF_FUNCTIONS) assert.ok(sizes[fn]! <= MAX_ZIP_BYTES, `${fn}: ${JSON.stringify(sizes)}`);
  });

  it('are deterministic, and hold the entry, the handler bundle and the migrations', async () => {
    const again = await buildScfPackages();
    for (const fn of SCF_FUNCTIONS) {
      assert.equal(again[fn].sha256, packages[fn].sha256, `${fn} rebuilt identically`);
      const { stdout: listing } = await run('unzip', ['-l', join(work, `${fn}.zip`)]);
      for (const path of ['index.js', `functions/${fn}/handler.mjs`, 'infra/migrations/001_initial.sql'])
        assert.ok(listing.includes(path), `${path} in ${fn}.zip`);
      assert.ok(!listing.includes('.map') && !listing.includes('node_modules/') && !listing.includes('__only_'), listing);
      const worker = listing.includes('regex-worker');
      assert.equal(worker, fn === 'api' || fn === 'reconciler', `regex worker in ${fn}: ${worker}`);
      const grpc = listing.includes('grpc-client.mjs');
      assert.equal(grpc, fn === 'replicator', `gRPC client in ${fn}: ${grpc}`);
    }
    assert.ok((await run('unzip', ['-l', join(work, 'api.zip')])).stdout.includes('console/dist/index.html'));
  });

  it('leave the AWS SDK out (SCF invokes through the Tencent SDK)', () => {
    for (const fn of SCF_FUNCTIONS) {
      const text = readFileSync(join(unpacked(fn), 'functions', fn, 'handler.mjs'), 'utf8');
      // Only the Lambda invoker's import of it stays, external and never taken on SCF.
      assert.ok(!text.includes('smithy') && !text.includes('amazonaws.com'), `AWS SDK code in ${fn}`);
      assert.ok(text.includes('import("@aws-sdk/client-lambda")'), `${fn}: the Lambda SDK left external`);
    }
    const replicator = readFileSync(join(unpacked('replicator'), 'functions/replicator/handler.mjs'), 'utf8');
    assert.ok(replicator.includes('scf.tencentcloudapi.com') || replicator.includes('tencentcloudapi.com'), 'the SCF SDK is bundled');
  });

  describe('unpacked, through index.main_handler', () => {
    let db: Throwaway<string>;
    before(async () => {
      db = await throwawayPostgres();
    });
    after(() => db.drop());

    // As SCF sets them: SCF_NAMESPACE and TENCENTCLOUD_REGION by the platform, the rest by deploy:tencent.
    const scfEnv = () => ({
      PATH: process.env.PATH,
      SCF_NAMESPACE: 'ferry',
      TENCENTCLOUD_REGION: 'ap-guangzhou',
      DATABASE_URL: db.value,
      FERRY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
      FERRY_INVOKER: 'tencent-scf',
      FERRY_REPLICATOR_FUNCTION: 'ferry-dev-replicator',
      LOG_LEVEL: 'silent',
    });
    const invoke = async (fn: ScfFunctionKey, event: unknown, context: unknown) => {
      const script = `
        const { main_handler } = require(${JSON.stringify(join(unpacked(fn), 'index.js'))});
        main_handler(${JSON.stringify(event)}, ${JSON.stringify(context)}).then(
          (r) => { console.log(JSON.stringify(r)); process.exit(0); },
          (e) => { console.error(e); process.exit(1); });`;
      const { stdout } = await run(process.execPath, ['-e', script], { cwd: unpacked(fn), env: scfEnv(), timeout: 60_000 });
      return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    };

    it('api: answers /v1/health from an SCF function-URL event on PostgreSQL', async () => {
      const event = JSON.parse(readFileSync(join(root, 'test/fixtures/events/scf-function-url-health.json'), 'utf8')) as unknown;
      const res = await invoke('api', event, { time_limit_in_ms: 30_000, request_id: 'r-1' });
      assert.equal(res.statusCode, 200);
      assert.equal((JSON.parse(String(res.body)) as { status: string; store: string }).store, 'postgres');
    });

    it('replicator: runs a job with an SCF context (a task that does not exist ends at once)', async () => {
      const job = { tenant: 'default', taskId: 'task-scf-none', flow: 'forward', shard: 0 };
      const res = await invoke('replicator', job, { time_limit_in_ms: 900_000, request_id: 'r-2', memory_limit_in_mb: 1024 });
      assert.equal(typeof res.exit, 'string');
    });
  });
});

// `npm run deploy:tencent` against a fake SCF API that checks TC3 signatures (test/support/
// fake-scf-api.ts): the first run creates the four functions and three triggers, a second run
// changes nothing, a changed setting or package updates only that function and field, --plan needs
// no keys and ends with one JSON line, secrets come from SSM and are never printed, and a request
// signed with the wrong key is refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { zip } from '../../infra/tencent/zip.ts';
import { FakeScfApi } from '../support/fake-scf-api.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const KEYS = { AKIDdeploy: 'deploy-secret-key' };
const DB_URL = 'postgres://ferry:s3cret-db-password@10.0.0.5:5432/ferry';
const SECRET_KEY = Buffer.alloc(32, 9).toString('base64');
const REGION = 'ap-guangzhou';
const FUNCTIONS = ['api', 'reconciler', 'replicator', 'metadata-sync'] as const;

/** Runs the CLI; resolves with its exit code and output whatever the code. */
async function deploy(args: string[], env: Record<string, string | undefined> = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TENCENTCLOUD_')));
  try {
    const r = await run(process.execPath, ['--import', 'tsx', join(root, 'infra/tencent/deploy-cli.ts'), ...args], {
      cwd: root,
      env: { ...clean, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('deploy:tencent', () => {
  const fake = new FakeScfApi(KEYS);
  let zips: string;
  let common: string[];
  const withKeys = { TENCENTCLOUD_SECRETID: 'AKIDdeploy', TENCENTCLOUD_SECRETKEY: 'deploy-secret-key' };
  const writeZips = (version: Record<string, string>) => {
    for (const fn of FUNCTIONS)
      writeFileSync(join(zips, `${fn}.zip`), zip([{ name: 'index.js', data: Buffer.from(`// ${fn} ${version[fn] ?? 'v1'}\n`) }]));
  };

  before(async () => {
    await fake.start();
    fake.secrets.set('ferry-prod-database-url@v1', DB_URL);
    fake.secrets.set('ferry-prod-secret-key@v1', `${SECRET_KEY}\n`);
    zips = mkdtempSync(join(tmpdir(), 'ferry-scf-zips-'));
    writeZips({});
    common = [
      `--region=${REGION}`,
      '--namespace=ferry',
      '--stage=prod',
      '--vpc-id=vpc-1a2b',
      '--subnet-id=subnet-3c4d',
      '--role=FerryScfRole',
      '--cls-logset-id=logset-1',
      '--cls-topic-id=topic-1',
      `--zips=${zips}`,
      `--endpoint=${fake.url}`,
    ];
  });
  after(async () => {
    await fake.stop();
    rmSync(zips, { recursive: true, force: true });
  });

  it('--plan needs no keys and ends with one JSON line naming the functions and triggers, secrets by reference', async () => {
    const r = await deploy(['--plan', ...common]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fake.calls.length, 0, 'a plan calls no API');
    const lines = r.stdout.trim().split('\n');
    const plan = JSON.parse(lines.at(-1)!) as {
      functions: { name: string; memory: number; env: Record<string, string>; secrets: Record<string, string>; vpc: unknown }[];
      triggers: { function: string; name: string; type: string; desc: string }[];
    };
    assert.deepEqual(
      plan.functions.map((f) => f.name),
      FUNCTIONS.map((f) => `ferry-prod-${f}`),
    );
    const api = plan.functions[0]!;
    assert.deepEqual(api.secrets, { DATABASE_URL: 'ssm:ferry-prod-database-url@v1', FERRY_SECRET_KEY: 'ssm:ferry-prod-secret-key@v1' });
    assert.equal(api.env.FERRY_INVOKER, 'tencent-scf');
    assert.equal(api.env.FERRY_REPLICATOR_FUNCTION, 'ferry-prod-replicator');
    assert.deepEqual(api.vpc, { vpcId: 'vpc-1a2b', subnetId: 'subnet-3c4d' });
    assert.deepEqual(
      plan.triggers.map((t) => `${t.function}:${t.type}`),
      ['ferry-prod-api:http', 'ferry-prod-reconciler:timer', 'ferry-prod-metadata-sync:timer'],
    );
    assert.ok(
      lines.slice(0, -1).every((l) => !l.startsWith('{')),
      'one JSON line, the last',
    );
  });

  it('refuses a request signed with the wrong SecretKey (the fake checks TC3 signatures)', async () => {
    const r = await deploy(common, { TENCENTCLOUD_SECRETID: 'AKIDdeploy', TENCENTCLOUD_SECRETKEY: 'not-the-key' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /AuthFailure\.SignatureFailure/);
    assert.equal(fake.mutatingCalls().length, 0);
    assert.equal(fake.functions.size, 0);
    fake.calls.length = 0;
  });

  it('first run: creates the four functions with environment, VPC, role and CLS, and the three triggers', async () => {
    const r = await deploy(common, withKeys);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      fake.mutatingCalls().map((c) => c.action),
      [...FUNCTIONS.map(() => 'CreateFunction'), 'UpdateFunctionEventInvokeConfig', 'CreateTrigger', 'CreateTrigger', 'CreateTrigger'],
    );
    // The replicator's failed asynchronous invocations are not retried (the reconciler re-dispatches).
    assert.deepEqual(fake.fn(REGION, 'ferry', 'ferry-prod-replicator')!.asyncConfig.RetryConfig, [{ RetryNum: 0 }]);
    // The only refusals: the first look-up of each function, which does not exist yet.
    const refused = fake.calls.filter((c) => c.error);
    assert.deepEqual(
      refused.map((c) => `${c.action} ${c.error}`),
      FUNCTIONS.map(() => 'GetFunction ResourceNotFound.Function'),
    );
    const replicator = fake.fn(REGION, 'ferry', 'ferry-prod-replicator')!.config;
    assert.equal(replicator.MemorySize, 1024);
    assert.equal(replicator.Timeout, 900);
    assert.equal(replicator.Handler, 'index.main_handler');
    assert.equal(replicator.Runtime, 'Nodejs18.15');
    assert.deepEqual(replicator.VpcConfig, { VpcId: 'vpc-1a2b', SubnetId: 'subnet-3c4d' });
    assert.equal(replicator.Role, 'FerryScfRole');
    assert.equal(replicator.ClsTopicId, 'topic-1');
    const env = Object.fromEntries(replicator.Environment!.Variables!.map((v) => [v.Key, v.Value]));
    assert.equal(env.DATABASE_URL, DB_URL);
    assert.equal(env.FERRY_SECRET_KEY, SECRET_KEY, 'read from SSM, trimmed');
    assert.equal(env.FERRY_INVOKER, 'tencent-scf');
    assert.equal(env.FERRY_INVOKER_REGION, REGION);
    const timer = fake.fn(REGION, 'ferry', 'ferry-prod-reconciler')!.triggers;
    assert.deepEqual(
      timer.map((t) => [t.Type, t.TriggerName]),
      [['timer', 'ferry-every-minute']],
    );
    const url = fake.fn(REGION, 'ferry', 'ferry-prod-api')!.triggers[0]!;
    assert.equal(url.Type, 'http');
    assert.equal(JSON.parse(url.TriggerDesc!).AuthType, 'NONE');
    // Secret values never reach the output.
    for (const text of [r.stdout, r.stderr]) assert.ok(!text.includes('s3cret-db-password') && !text.includes(SECRET_KEY), text);
  });

  it('second run with the same settings: no mutating call', async () => {
    fake.calls.length = 0;
    const r = await deploy(common, withKeys);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(fake.mutatingCalls(), []);
    assert.match(r.stdout, /nothing to change/);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { actions: unknown[] };
    assert.deepEqual(last.actions, []);
  });

  it("a changed memory size updates only that function's memory", async () => {
    fake.calls.length = 0;
    const r = await deploy([...common, '--memory=replicator=2048'], withKeys);
    assert.equal(r.code, 0, r.stderr);
    const m = fake.mutatingCalls();
    assert.deepEqual(
      m.map((c) => [c.action, c.body.FunctionName]),
      [['UpdateFunctionConfiguration', 'ferry-prod-replicator']],
    );
    assert.deepEqual(Object.keys(m[0]!.body).sort(), ['FunctionName', 'MemorySize', 'Namespace']);
    assert.equal(m[0]!.body.MemorySize, 2048);
  });

  it('a changed environment variable updates only the environment; a changed package only that code', async () => {
    fake.calls.length = 0;
    let r = await deploy([...common, '--memory=replicator=2048', '--env=LOG_LEVEL=debug'], withKeys);
    assert.equal(r.code, 0, r.stderr);
    let m = fake.mutatingCalls();
    assert.deepEqual(
      m.map((c) => [c.action, Object.keys(c.body).filter((k) => k !== 'FunctionName' && k !== 'Namespace')]),
      FUNCTIONS.map(() => ['UpdateFunctionConfiguration', ['Environment']]),
    );
    fake.calls.length = 0;
    writeZips({ reconciler: 'v2' });
    r = await deploy([...common, '--memory=replicator=2048', '--env=LOG_LEVEL=debug'], withKeys);
    assert.equal(r.code, 0, r.stderr);
    m = fake.mutatingCalls();
    assert.deepEqual(
      m.map((c) => [c.action, c.body.FunctionName]),
      [['UpdateFunctionCode', 'ferry-prod-reconciler']],
    );
  });

  it('refuses secrets given as --env values, and a half-given VPC', async () => {
    let r = await deploy(['--plan', ...common, '--env=DATABASE_URL=postgres://x@y/z']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /secrets are given by reference/);
    r = await deploy(['--plan', `--region=${REGION}`, '--vpc-id=vpc-1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /give both --vpc-id and --subnet-id/);
  });
});

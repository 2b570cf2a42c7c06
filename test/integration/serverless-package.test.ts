// `npx serverless package` works offline and yields the four functions; the packaged API bundle
// (no PGlite inside) starts and answers on PostgreSQL, as it would on Lambda.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

describe('serverless package', () => {
  let out: string;
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'ferry-sls-'));
    await run('npx', ['serverless', 'package', '--package', out], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('builds an artifact per function and a template listing all four', () => {
    const files = readdirSync(out);
    for (const fn of ['api', 'reconciler', 'replicator', 'metadataSync'])
      assert.ok(files.includes(`${fn}.zip`), `${fn}.zip in ${files.join(', ')}`);
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const lambdas = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([k]) => k)
      .sort();
    assert.deepEqual(lambdas, ['ApiLambdaFunction', 'MetadataSyncLambdaFunction', 'ReconcilerLambdaFunction', 'ReplicatorLambdaFunction']);
    const rules = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => r.Properties?.ScheduleExpression);
    assert.deepEqual(rules, ['rate(1 minute)', 'rate(1 minute)']);
    const routes = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties?.RouteKey);
    assert.ok(routes.includes('POST /v1/tasks') && routes.includes('GET /v1/tasks/{id}/metrics'), routes.join(', '));
  });

  describe('the packaged API bundle', () => {
    let db: Throwaway<string>;
    let dir: string;
    before(async () => {
      db = await throwawayPostgres();
      dir = mkdtempSync(join(tmpdir(), 'ferry-sls-api-'));
      await run('unzip', ['-q', join(out, 'api.zip'), '-d', dir]);
    });
    after(async () => {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    });

    it('answers /v1/health on PostgreSQL from a Lambda HTTP API event', async () => {
      const script = `
        const { handler, closeApi } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions/api/handler.mjs')).href)});
        const event = JSON.parse(${JSON.stringify(readFileSync(join(root, 'test/fixtures/events/aws-http-api-health.json'), 'utf8'))});
        const res = await handler(event, {});
        console.log(JSON.stringify(res));
        await closeApi();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: db.value,
          FERRY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
          LOG_LEVEL: 'silent',
        },
        timeout: 60_000,
      });
      const res = JSON.parse(stdout.trim().split('\n').at(-1)!) as { statusCode: number; body: string };
      assert.equal(res.statusCode, 200);
      assert.deepEqual(JSON.parse(res.body), { status: 'ok', store: 'postgres' });
    });

    it('serves the web console, built at package time, from the same function', async () => {
      const script = `
        const { handler, closeApi } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions/api/handler.mjs')).href)});
        const base = JSON.parse(${JSON.stringify(readFileSync(join(root, 'test/fixtures/events/aws-http-api-health.json'), 'utf8'))});
        const get = (path) =>
          handler({ ...base, rawPath: path, requestContext: { ...base.requestContext, http: { ...base.requestContext.http, path } } }, {});
        const index = await get('/tasks/task-1');
        const js = /src="([^"]+)"/.exec(index.body)[1];
        const asset = await get(js);
        console.log(JSON.stringify({
          index: [index.statusCode, index.headers['content-type']],
          asset: [asset.statusCode, asset.headers['content-type'], asset.body.length > 10000],
        }));
        await closeApi();`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: db.value,
          FERRY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
          LOG_LEVEL: 'silent',
        },
        timeout: 60_000,
      });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), {
        index: [200, 'text/html; charset=utf-8'],
        asset: [200, 'text/javascript; charset=utf-8', true],
      });
    });
  });
});

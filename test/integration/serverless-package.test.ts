// `npx serverless package` works offline and yields the four functions; the packaged API bundle
// (no PGlite inside) starts and answers on PostgreSQL, as it would on Lambda.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { issueToken } from '../../shared/auth/tokens.ts';
import { reconcilerRecords, replicatorRecords } from '../../shared/monitoring/emf-records.ts';
import { openStore } from '../../shared/store/index.ts';
import { throwawayPostgres, type Throwaway } from '../support/databases.ts';
import { side } from '../support/sides.ts';
import { testCluster } from '../support/testbed.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const SLS_ENV = { SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
const LEAK_URL = `postgres://leak-check-${randomUUID()}@db.example:5432/ferry`;
const LEAK_KEY = randomBytes(32).toString('base64');
const PARAMS = [
  '--param=databaseUrlSecret=prod/ferry/database-url',
  '--param=secretKeySecret=arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:prod/ferry/key-AbCdEf',
  '--param=vpcSubnetIds=subnet-0aaa, subnet-0bbb',
  '--param=vpcSecurityGroupIds=sg-0ccc',
];

/** Every function bundle, zipped, stays under this: the whole file is read and compiled at each cold start. */
const MAX_ZIP_BYTES = 1.5 * 1024 * 1024;

const selfBuilt = (nameServer: string) => ({
  clusterType: 'self-built',
  clusterId: `c-${nameServer.replace(/\W/g, '')}`,
  protocol: 'remoting',
  nameServer,
  networkType: 'public',
  acl: { enabled: false },
});

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
const readTemplate = (dir: string) => JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
const lambdasOf = (t: Template) => Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

describe('serverless package', () => {
  let out: string;
  let packageOutput = '';
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'ferry-sls-'));
    const packaged = await run('npx', ['serverless', 'package', '--package', out, ...PARAMS], {
      cwd: root,
      // Values in the deployer's environment must not reach the template (they once came from ${env:…}).
      env: { ...process.env, ...SLS_ENV, DATABASE_URL: LEAK_URL, FERRY_SECRET_KEY: LEAK_KEY },
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    packageOutput = packaged.stdout + packaged.stderr;
  });
  after(() => rmSync(out, { recursive: true, force: true }));

  it('packages without configuration warnings', () => {
    assert.ok(!/Invalid configuration|Warning/i.test(packageOutput), packageOutput);
  });

  it(`keeps every function's zip under ${MAX_ZIP_BYTES / 1024 / 1024} MB, without source maps or the SCF SDK`, async () => {
    for (const fn of ['api', 'reconciler', 'replicator', 'metadataSync']) {
      const size = statSync(join(out, `${fn}.zip`)).size;
      assert.ok(size <= MAX_ZIP_BYTES, `${fn}.zip is ${size} bytes`);
      const { stdout: listing } = await run('unzip', ['-l', join(out, `${fn}.zip`)]);
      assert.ok(!listing.includes('.map') && !listing.includes('node_modules/'), listing);
    }
    for (const [, fn] of lambdasOf(readTemplate(out))) {
      const vars = (fn.Properties!.Environment as { Variables: Record<string, string> }).Variables;
      assert.equal(vars.NODE_OPTIONS, undefined, 'no --enable-source-maps at run time');
    }
  });

  it('builds an artifact per function and a template listing all four', () => {
    const files = readdirSync(out);
    for (const fn of ['api', 'reconciler', 'replicator', 'metadataSync'])
      assert.ok(files.includes(`${fn}.zip`), `${fn}.zip in ${files.join(', ')}`);
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
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

  describe('the CloudFormation template', () => {
    let template: Template;
    const lambdas = () => lambdasOf(template);
    const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
    before(() => {
      template = readTemplate(out);
    });

    it('takes DATABASE_URL and FERRY_SECRET_KEY as Secrets Manager references named by params, never as values', () => {
      assert.equal(lambdas().length, 4);
      for (const [name, fn] of lambdas()) {
        const vars = (fn.Properties!.Environment as { Variables: Record<string, string> }).Variables;
        assert.equal(vars.DATABASE_URL, '{{resolve:secretsmanager:prod/ferry/database-url:SecretString}}', name);
        assert.equal(
          vars.FERRY_SECRET_KEY,
          '{{resolve:secretsmanager:arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:prod/ferry/key-AbCdEf:SecretString}}',
          name,
        );
      }
      for (const file of ['cloudformation-template-update-stack.json', 'serverless-state.json']) {
        const text = readFileSync(join(out, file), 'utf8');
        assert.ok(
          !text.includes(LEAK_URL) && !text.includes('postgres://') && !text.includes('postgresql://'),
          `a database URL in ${file}`,
        );
        assert.ok(!text.includes(LEAK_KEY), `the secret key in ${file}`);
      }
    });

    it('puts every function in the VPC the params name, with the role to create its network interfaces', () => {
      for (const [name, fn] of lambdas())
        assert.deepEqual(fn.Properties?.VpcConfig, { SecurityGroupIds: ['sg-0ccc'], SubnetIds: ['subnet-0aaa', 'subnet-0bbb'] }, name);
      const role = JSON.stringify(template.Resources.IamRoleLambdaExecution);
      assert.ok(role.includes('AWSLambdaVPCAccessExecutionRole'), role);
    });

    it('throttles the HTTP API stage', () => {
      const settings = template.Resources.HttpApiStage?.Properties?.DefaultRouteSettings;
      assert.deepEqual(settings, { DetailedMetricsEnabled: false, ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    });

    it("sends the replicator's failed async invocations to an SQS dead-letter queue it may write to", () => {
      const configs = ofType('AWS::Lambda::EventInvokeConfig');
      assert.equal(configs.length, 1);
      const config = configs[0]![1] as { Properties: Record<string, unknown> };
      assert.deepEqual(config.Properties.FunctionName, { Ref: 'ReplicatorLambdaFunction' });
      assert.equal(config.Properties.MaximumRetryAttempts, 0);
      const dlqArn = { 'Fn::GetAtt': ['ReplicatorDeadLetterQueue', 'Arn'] };
      assert.deepEqual(config.Properties.DestinationConfig, { OnFailure: { Destination: dlqArn } });
      assert.equal(template.Resources.ReplicatorDeadLetterQueue?.Type, 'AWS::SQS::Queue');
      const role = JSON.stringify(template.Resources.IamRoleLambdaExecution);
      assert.ok(role.includes('sqs:SendMessage') && role.includes(JSON.stringify(dlqArn)), role);
    });

    it('alarms on lag, delay, failures, replicator errors and a silent reconciler, on metrics the functions emit', () => {
      const alarms = new Map(
        ofType('AWS::CloudWatch::Alarm').map(([, a]) => [String(a.Properties?.AlarmName).replace('ferry-dev-', ''), a.Properties!]),
      );
      assert.deepEqual([...alarms.keys()].sort(), [
        'delay',
        'failures',
        'lag',
        'reconciler-silent',
        'replicator-dead-letters',
        'replicator-errors',
      ]);
      for (const a of alarms.values()) assert.deepEqual(a.AlarmActions, [{ Ref: 'AlarmTopic' }]);
      // The names the queries and metrics use are the ones the EMF records carry.
      const replicatorLine = replicatorRecords({
        exit: 'retried',
        job: { tenant: 'default', taskId: 't1', flow: 'forward', shard: 0 },
        durationMs: 1,
        task: { name: 't', route: 'A->B' },
        totals: {
          consumed: 1,
          replicated: 1,
          filtered: 0,
          loopSkipped: 0,
          failed: 0,
          throttled: 0,
          lag: 1,
          delay: { values: [1], counts: [1], min: 1, max: 1, sum: 1, count: 1 },
        },
      })[0]!;
      const emitted = [...replicatorLine.metrics.map((m) => m.name), ...(replicatorLine.distributions ?? []).map((d) => d.name)];
      const schema = `SCHEMA("Ferry", ${Object.keys(replicatorLine.dimensions[0]!).sort().join(', ')})`;
      const query = (name: string) => (alarms.get(name)!.Metrics as { Expression: string }[])[0]!.Expression;
      for (const [alarm, metric] of [
        ['lag', 'Lag'],
        ['delay', 'SyncDelay'],
        ['failures', 'MessagesFailed'],
      ]) {
        assert.ok(emitted.includes(metric!), `${metric} in ${emitted.join(', ')}`);
        assert.match(query(alarm!), new RegExp(`^SELECT (MAX|SUM)\\(${metric}\\) FROM ${schema.replace(/[()]/g, '\\$&')}$`));
      }
      const reconcilerTotal = reconcilerRecords(
        {
          tasks: 0,
          started: 0,
          failed: 0,
          dispatched: 0,
          byStatus: { initializing: 0, running: 0, stopping: 0, stopped: 0, start_failed: 0, deleting: 0 },
        },
        5,
      )[0]!;
      const silent = alarms.get('reconciler-silent')!;
      assert.deepEqual(reconcilerTotal.dimensions, [{}]);
      assert.ok(reconcilerTotal.metrics.some((m) => m.name === silent.MetricName));
      assert.deepEqual([silent.Namespace, silent.Statistic, silent.TreatMissingData], ['Ferry', 'SampleCount', 'breaching']);
      assert.deepEqual(alarms.get('replicator-errors')!.Dimensions, [{ Name: 'FunctionName', Value: { Ref: 'ReplicatorLambdaFunction' } }]);
    });

    it('has a dashboard of the EMF metrics', () => {
      const [dashboard] = ofType('AWS::CloudWatch::Dashboard');
      const body = JSON.parse(String(dashboard![1].Properties?.DashboardBody)) as { widgets: { properties: { title: string } }[] };
      const titles = body.widgets.map((w) => w.properties.title).join(' | ');
      for (const word of ['Lag', 'delay p99', 'failed', 'Replicator invocations', 'Tasks by status', 'API requests'])
        assert.ok(titles.includes(word), titles);
    });

    it('leaves the functions outside a VPC when no VPC params are given', async () => {
      const { stdout } = await run('npx', ['serverless', 'print', '--format', 'json'], {
        cwd: root,
        env: { ...process.env, ...SLS_ENV },
        timeout: 120_000,
      });
      const config = JSON.parse(stdout) as { provider: Record<string, unknown> };
      assert.equal(config.provider.runtime, 'nodejs20.x');
      // null: serverless.yml's fallback, which the framework treats as no VPC (no VpcConfig at all).
      assert.equal(config.provider.vpc ?? null, null, JSON.stringify(config.provider));
    });
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

    it('checks topic patterns with the regex analyser it loads on first need (a 400 naming the unsafe pattern)', async () => {
      const store = await openStore({ databaseUrl: db.value, dataDir: '' });
      const token = await issueToken(store, 'default', 'admin', 'serverless-package test').finally(() => store.close());
      const body = {
        name: `redos-${randomUUID().slice(0, 8)}`,
        direction: 'one-way',
        source: selfBuilt('10.0.0.1:9876'),
        target: selfBuilt('10.0.0.2:9876'),
        filter: { topics: { include: ['(a|a)*b'] } },
        start: false,
      };
      const script = `
        const { handler, closeApi } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions/api/handler.mjs')).href)});
        const base = JSON.parse(${JSON.stringify(readFileSync(join(root, 'test/fixtures/events/aws-http-api-health.json'), 'utf8'))});
        const http = { ...base.requestContext.http, method: 'POST', path: '/v1/tasks' };
        const res = await handler({
          ...base, rawPath: '/v1/tasks', requestContext: { ...base.requestContext, http },
          headers: { ...base.headers, authorization: 'Bearer ${token}', 'content-type': 'application/json' },
          body: ${JSON.stringify(JSON.stringify(body))},
        }, {});
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
      assert.equal(res.statusCode, 400, res.body);
      assert.match(res.body, /exponentially/);
    });

    it('refuses to start as a Lambda function without DATABASE_URL and FERRY_SECRET_KEY: one line, no local store', async () => {
      const script = `
        const { handler } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions/api/handler.mjs')).href)});
        const event = JSON.parse(${JSON.stringify(readFileSync(join(root, 'test/fixtures/events/aws-http-api-health.json'), 'utf8'))});
        try { await handler(event, {}); console.log('started'); } catch (err) { console.log(JSON.stringify([err.name, err.message])); }`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: { PATH: process.env.PATH, AWS_LAMBDA_FUNCTION_NAME: 'ferry-test-api', LOG_LEVEL: 'silent' },
        timeout: 60_000,
      });
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)!), [
        'ConfigError',
        'DATABASE_URL and FERRY_SECRET_KEY must be set in a cloud function (the embedded store and a generated key do not persist)',
      ]);
      assert.ok(!readdirSync(dir).includes('.ferry'), 'no embedded store or key file written');
    });
  });

  it('ships the regex analyser as a worker beside the api and reconciler handlers only', async () => {
    for (const [fn, worker] of [
      ['api', 'functions/api/regex-worker.mjs'],
      ['reconciler', 'functions/reconciler/regex-worker.mjs'],
      ['replicator', undefined],
      ['metadataSync', undefined],
    ] as const) {
      const { stdout: listing } = await run('unzip', ['-l', join(out, `${fn}.zip`)]);
      if (worker) assert.ok(listing.includes(worker), `${worker} in ${fn}.zip: ${listing}`);
      else assert.ok(!listing.includes('regex-worker'), `no worker in ${fn}.zip: ${listing}`);
      assert.ok(!listing.includes('__only_'), listing);
    }
  });

  it('the replicator and metadata sync bundles leave the regex analyser out and still load', async () => {
    for (const [fn, path] of [
      ['replicator', 'functions/replicator/handler.mjs'],
      ['metadataSync', 'functions/metadata-sync/handler.mjs'],
    ] as const) {
      const dir = mkdtempSync(join(tmpdir(), `ferry-sls-${fn}-`));
      try {
        await run('unzip', ['-q', join(out, `${fn}.zip`), '-d', dir]);
        const text = readFileSync(join(dir, path), 'utf8');
        assert.ok(!text.includes('codes.quine.labs.recheck') && !text.includes('recheck-core'), `recheck in ${fn}`);
        const script = `await import(${JSON.stringify(pathToFileURL(join(dir, path)).href)}); console.log('loaded');`;
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
          cwd: dir,
          env: { PATH: process.env.PATH },
          timeout: 60_000,
        });
        assert.equal(stdout.trim(), 'loaded');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it('ships the gRPC client beside the replicator only; without node_modules it works with a 5.x proxy', async () => {
    for (const fn of ['api', 'reconciler', 'replicator', 'metadataSync']) {
      const { stdout: listing } = await run('unzip', ['-l', join(out, `${fn}.zip`)]);
      const dir = fn === 'metadataSync' ? 'metadata-sync' : fn;
      assert.equal(listing.includes(`functions/${dir}/grpc-client.mjs`), fn === 'replicator', `${fn}: ${listing}`);
    }
    const v5 = side(await testCluster('v5'));
    const topic = `sls_grpc_${Date.now()}`;
    await v5.admin.createOrUpdateTopicInCluster(v5.c.name, { topicName: topic, readQueueNums: 2, writeQueueNums: 2, perm: 6 });
    const dir = mkdtempSync(join(tmpdir(), 'ferry-sls-grpc-'));
    try {
      await run('unzip', ['-q', join(out, 'replicator.zip'), '-d', dir]);
      const bundle = readFileSync(join(dir, 'functions/replicator/handler.mjs'), 'utf8');
      assert.ok(bundle.includes('./grpc-client.mjs'), 'the handler loads the client from beside itself');
      // The client's own API, as library.ts uses it; a received body is checked against the proxy's
      // CRC-32 digest (the JavaScript CRC-32 in place of the native addon): a mismatch is marked `corrupted`.
      const script = `
        const { client } = await import(${JSON.stringify(pathToFileURL(join(dir, 'functions/replicator/grpc-client.mjs')).href)});
        const lib = 'Producer' in client ? client : client.default;
        const quiet = { info() {}, debug() {}, warn() {}, error() {} };
        const endpoints = ${JSON.stringify(v5.c.grpcEndpoint)};
        const topic = ${JSON.stringify(topic)};
        const consumer = new lib.SimpleConsumer({ endpoints, namespace: '', consumerGroup: topic + '_g',
          awaitDuration: 2000, requestTimeout: 10000, logger: quiet,
          subscriptions: new Map([[topic, new lib.FilterExpression('*')]]) });
        await consumer.startup();
        const producer = new lib.Producer({ endpoints, namespace: '', logger: quiet });
        await producer.startup();
        const body = Buffer.from('bundled client ' + Date.now());
        const receipt = await producer.send({ topic, body, tag: 't' });
        let got;
        for (let i = 0; i < 30 && !got; i++)
          for (const v of await consumer.receive(16, 10000)) {
            if (Buffer.from(v.body).equals(body)) got = v;
            await consumer.ack(v);
          }
        console.log(JSON.stringify({ sent: receipt.messageId, got: got?.messageId, corrupted: got?.corrupted === true }));
        await producer.shutdown();
        await consumer.shutdown();
        process.exit(0);`;
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: dir },
        timeout: 120_000,
      });
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { sent: string; got?: string; corrupted?: boolean };
      assert.equal(r.got, r.sent, 'the message sent came back');
      assert.equal(r.corrupted, false, 'its body checksum matched');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      v5.remoting.close();
    }
  });
});

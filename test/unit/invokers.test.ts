// The platform invokers against local HTTP endpoints that check what each SDK really sends: the
// Lambda Invoke REST call and the Tencent Cloud API 3.0 call, whose TC3 signature the fake verifies.
import assert from 'node:assert/strict';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { AwsLambdaInvoker } from '../../shared/invoker/aws-lambda.ts';
import { createInvoker } from '../../shared/invoker/index.ts';
import { InvokeError } from '../../shared/invoker/invoke-error.ts';
import type { Invoker, ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { TencentScfInvoker } from '../../shared/invoker/tencent-scf.ts';

const job: ReplicatorJob = { tenant: 't1', taskId: 'task-1', flow: 'forward', shard: 2 };

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A fake endpoint on 127.0.0.1: records each request and answers with what `reply` says. */
function fakeEndpoint(reply: (s: Seen) => Reply) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(r.body ?? '');
    });
  });
  return {
    seen,
    last: (): Seen => {
      const s = seen.at(-1);
      assert.ok(s, 'the fake endpoint saw no request');
      return s;
    },
    start: () =>
      new Promise<string>((ok) =>
        server.listen(0, '127.0.0.1', () => {
          const addr = server.address();
          assert.ok(addr && typeof addr === 'object');
          ok(`http://127.0.0.1:${addr.port}`);
        }),
      ),
    stop: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** Sets environment variables for one test and puts the previous values back afterwards. */
async function withEnv(vars: Record<string, string | undefined>, fn: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (v: Record<string, string | undefined>) => {
    for (const [k, val] of Object.entries(v)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  };
  apply(vars);
  try {
    await fn();
  } finally {
    apply(saved);
  }
}

const isInvokeError = (check: (e: InvokeError) => void) => (e: unknown) => {
  assert.ok(e instanceof InvokeError, `expected an InvokeError, got ${String(e)}`);
  check(e);
  return true;
};

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

/** Checks a request's SigV4 signature from the request alone and the secret for its access key. */
function sigV4Problem(r: Seen, secrets: Record<string, string>): string | undefined {
  const m = SIGV4.exec(String(r.headers.authorization));
  if (!m) return `malformed Authorization: ${String(r.headers.authorization)}`;
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const secret = secrets[keyId];
  if (!secret) return `unknown access key ${keyId}`;
  const amzDate = String(r.headers['x-amz-date']);
  if (!amzDate.startsWith(date)) return 'credential scope date does not match X-Amz-Date';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host and x-amz-date must be signed';
  const canonicalHeaders = names
    .map(
      (h) =>
        `${h}:${String(r.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const url = new URL(r.url, 'http://fake');
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .sort()
    .join('&');
  const canonicalRequest = [r.method, url.pathname, query, canonicalHeaders, signedHeaders, sha256Hex(r.body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? undefined : 'signature mismatch';
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

// Fixed credentials always, so the SDK's default chain never goes looking for an instance role.
const awsCredentials = { accessKeyId: 'AKIDFERRYTEST', secretAccessKey: 'ferry-test-secret' };

describe('AWS Lambda invoker (InvocationType Event)', () => {
  let reply: Reply = { status: 202 };
  // Like Lambda: a bad signature is refused before anything else is looked at.
  const fake = fakeEndpoint((r) => {
    const problem = sigV4Problem(r, { [awsCredentials.accessKeyId]: awsCredentials.secretAccessKey });
    return problem
      ? { status: 403, headers: { 'x-amzn-errortype': 'InvalidSignatureException' }, body: JSON.stringify({ message: problem }) }
      : reply;
  });
  let endpoint: string;
  before(async () => {
    endpoint = await fake.start();
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.seen.length = 0;
  });

  const invoker = (functionName = 'ferry-dev-replicator') =>
    new AwsLambdaInvoker({ functionName, region: 'ap-southeast-1', endpoint, credentials: awsCredentials });

  it('sends the job as the payload of an asynchronous invoke, SigV4-signed; 202 resolves', async () => {
    reply = { status: 202 };
    await invoker().invokeReplicator(job);
    assert.equal(fake.seen.length, 1);
    const r = fake.last();
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/2015-03-31/functions/ferry-dev-replicator/invocations');
    assert.equal(r.headers['x-amz-invocation-type'], 'Event');
    assert.match(
      String(r.headers.authorization),
      new RegExp(
        /^AWS4-HMAC-SHA256 Credential=AKIDFERRYTEST\/\d{8}\/ap-southeast-1\/lambda\/aws4_request, /.source +
          /SignedHeaders=[a-z0-9;-]*x-amz-invocation-type[a-z0-9;-]*, Signature=[0-9a-f]{64}$/.source,
      ),
    );
    assert.equal(sigV4Problem(r, { [awsCredentials.accessKeyId]: awsCredentials.secretAccessKey }), undefined);
    assert.deepEqual(JSON.parse(r.body.toString('utf8')), job);
  });

  it('rejects a missing function with a typed error naming it and carrying the code (not retried)', async () => {
    reply = {
      status: 404,
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException', 'x-amzn-requestid': 'req-404' },
      body: JSON.stringify({ Type: 'User', Message: 'Function not found: arn:aws:lambda:ap-southeast-1:123456789012:function:missing-fn' }),
    };
    await assert.rejects(
      invoker('missing-fn').invokeReplicator(job),
      isInvokeError((e) => {
        assert.equal(e.platform, 'aws-lambda');
        assert.equal(e.functionName, 'missing-fn');
        assert.equal(e.code, 'ResourceNotFoundException');
        assert.equal(e.status, 404);
        assert.equal(e.requestId, 'req-404');
        assert.match(e.message, /missing-fn/);
      }),
    );
    assert.equal(fake.seen.length, 1);
  });

  it('rejects a 500 with a typed error after the SDK retried it', async () => {
    reply = { status: 500, headers: { 'x-amzn-errortype': 'ServiceException' }, body: JSON.stringify({ Message: 'internal failure' }) };
    await assert.rejects(
      invoker().invokeReplicator(job),
      isInvokeError((e) => {
        assert.equal(e.functionName, 'ferry-dev-replicator');
        assert.equal(e.code, 'ServiceException');
        assert.equal(e.status, 500);
      }),
    );
    assert.equal(fake.seen.length, 3, 'the SDK default: 3 attempts for a server error');
  });

  it('treats any status but 202 as not queued, and a FunctionError as an error', async () => {
    reply = { status: 200, body: '{}' };
    await assert.rejects(
      invoker().invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.status, 200)),
    );
    reply = { status: 202, headers: { 'x-amz-function-error': 'Unhandled' } };
    await assert.rejects(
      invoker().invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.code, 'Unhandled')),
    );
  });

  it('is refused by the verifying fake when signed with the wrong secret', async () => {
    reply = { status: 202 };
    const inv = new AwsLambdaInvoker({
      functionName: 'f',
      region: 'ap-southeast-1',
      endpoint,
      credentials: { ...awsCredentials, secretAccessKey: 'wrong' },
    });
    await assert.rejects(
      inv.invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.code, 'InvalidSignatureException')),
    );
  });

  it('rejects with a typed error when nothing answers', async () => {
    const gone = fakeEndpoint(() => ({ status: 202 }));
    const url = await gone.start();
    await gone.stop();
    const inv = new AwsLambdaInvoker({
      functionName: 'f',
      region: 'ap-southeast-1',
      endpoint: url,
      credentials: awsCredentials,
      maxAttempts: 1,
    });
    await assert.rejects(
      inv.invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.code, 'ECONNREFUSED')),
    );
  });
});

// --- Tencent Cloud API 3.0 -------------------------------------------------------------------

const TC3 =
  /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;
/**
 * Checks a request's TC3-HMAC-SHA256 signature the way the Cloud API does, from the request alone
 * and the secret known for its SecretId. Returns why it fails, or undefined when it is valid.
 */
function tc3Problem(r: Seen, secrets: Record<string, string>, nowS = Date.now() / 1000): string | undefined {
  const m = TC3.exec(String(r.headers.authorization));
  if (!m) return `malformed Authorization: ${String(r.headers.authorization)}`;
  const [, secretId, date, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string];
  const secretKey = secrets[secretId];
  if (!secretKey) return `unknown SecretId ${secretId}`;
  // The Cloud API takes the service from the host (scf.tencentcloudapi.com → scf). The SDK signs the
  // host without a port, so the fake's port is dropped here.
  const hostname = String(r.headers.host).replace(/:\d+$/, '');
  if (service !== hostname.split('.')[0]) return `credential scope service ${service} does not match host ${hostname}`;
  const timestamp = Number(r.headers['x-tc-timestamp']);
  if (!Number.isInteger(timestamp) || Math.abs(nowS - timestamp) > 300) return 'X-TC-Timestamp missing or more than 5 minutes off';
  if (date !== new Date(timestamp * 1000).toISOString().slice(0, 10)) return 'credential scope date does not match X-TC-Timestamp';
  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('content-type')) return 'content-type and host must be signed';
  const canonicalHeaders = names
    .map((h) => `${h}:${(h === 'host' ? hostname : String(r.headers[h] ?? '')).trim().toLowerCase()}\n`)
    .join('');
  const url = new URL(r.url, 'http://fake');
  const canonicalRequest = [r.method, url.pathname, url.search.slice(1), canonicalHeaders, signedHeaders, sha256Hex(r.body)].join('\n');
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/${service}/tc3_request`, sha256Hex(canonicalRequest)].join('\n');
  const kSigning = hmac(hmac(hmac(`TC3${secretKey}`, date), service), 'tc3_request');
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex')) ? undefined : 'signature mismatch';
}

const cloudApiError = (code: string, message: string, requestId: string): Reply => ({
  status: 200,
  body: JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } }),
});

describe('Tencent SCF invoker (Invoke, InvocationType Event)', () => {
  const secrets: Record<string, string> = { AKIDscftest: 'scf-test-secret', AKIDtemp: 'temp-secret' };
  // Like the Cloud API: a bad signature is an AuthFailure before anything else is looked at.
  let reply: (r: Seen) => Reply = () => ({
    status: 200,
    body: JSON.stringify({ Response: { Result: { FunctionRequestId: 'f-1' }, RequestId: 'r-1' } }),
  });
  const fake = fakeEndpoint((r) => {
    const problem = tc3Problem(r, secrets);
    return problem ? cloudApiError('AuthFailure.SignatureFailure', problem, 'r-auth') : reply(r);
  });
  let endpoint: string;
  before(async () => {
    endpoint = await fake.start();
  });
  after(() => fake.stop());
  beforeEach(() => {
    fake.seen.length = 0;
    reply = () => ({ status: 200, body: JSON.stringify({ Response: { Result: { FunctionRequestId: 'f-1' }, RequestId: 'r-1' } }) });
  });

  const invoker = (extra: Partial<ConstructorParameters<typeof TencentScfInvoker>[0]> = {}) =>
    new TencentScfInvoker({
      functionName: 'ferry-replicator',
      region: 'ap-guangzhou',
      secretId: 'AKIDscftest',
      secretKey: 'scf-test-secret',
      endpoint,
      ...extra,
    });

  it('calls the Cloud API Invoke action with the job as ClientContext, TC3-signed; success resolves', async () => {
    await invoker().invokeReplicator(job);
    assert.equal(fake.seen.length, 1);
    const r = fake.last();
    assert.equal(tc3Problem(r, secrets), undefined);
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/');
    assert.equal(r.headers['x-tc-action'], 'Invoke');
    assert.equal(r.headers['x-tc-version'], '2018-04-16');
    assert.equal(r.headers['x-tc-region'], 'ap-guangzhou');
    assert.equal(r.headers['x-tc-token'], undefined);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const body = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['ClientContext', 'FunctionName', 'InvocationType', 'Namespace']);
    assert.equal(body.FunctionName, 'ferry-replicator');
    assert.equal(body.InvocationType, 'Event');
    assert.equal(body.Namespace, 'default');
    assert.equal(typeof body.ClientContext, 'string');
    assert.deepEqual(JSON.parse(String(body.ClientContext)), job);
  });

  it('sends Namespace and Qualifier when given', async () => {
    await invoker({ namespace: 'ferry', qualifier: 'live' }).invokeReplicator(job);
    const body = JSON.parse(fake.last().body.toString('utf8')) as Record<string, unknown>;
    assert.equal(body.Namespace, 'ferry');
    assert.equal(body.Qualifier, 'live');
  });

  it("rejects a Cloud API error with a typed error carrying the API's code", async () => {
    reply = () => cloudApiError('ResourceNotFound.Function', 'The function does not exist.', 'r-404');
    await assert.rejects(
      invoker({ functionName: 'missing-fn' }).invokeReplicator(job),
      isInvokeError((e) => {
        assert.equal(e.platform, 'tencent-scf');
        assert.equal(e.functionName, 'missing-fn');
        assert.equal(e.code, 'ResourceNotFound.Function');
        assert.equal(e.requestId, 'r-404');
        assert.match(e.message, /missing-fn.*The function does not exist/);
      }),
    );
  });

  it('is refused by the verifying fake when signed with the wrong secret', async () => {
    await assert.rejects(
      invoker({ secretKey: 'not-the-secret' }).invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.code, 'AuthFailure.SignatureFailure')),
    );
  });

  it('rejects a non-200 answer with its HTTP status', async () => {
    reply = () => ({ status: 502, body: 'bad gateway' });
    await assert.rejects(
      invoker().invokeReplicator(job),
      isInvokeError((e) => assert.equal(e.status, 502)),
    );
  });

  it("reads the role's temporary keys and session token from the environment at each call", async () => {
    await withEnv(
      { TENCENTCLOUD_SECRETID: 'AKIDtemp', TENCENTCLOUD_SECRETKEY: 'temp-secret', TENCENTCLOUD_SESSIONTOKEN: 'tok-1' },
      async () => {
        const inv = new TencentScfInvoker({ functionName: 'ferry-replicator', region: 'ap-guangzhou', endpoint });
        await inv.invokeReplicator(job);
        assert.equal(fake.last().headers['x-tc-token'], 'tok-1');
        assert.match(String(fake.last().headers.authorization), /Credential=AKIDtemp\//);
        process.env.TENCENTCLOUD_SESSIONTOKEN = 'tok-2';
        await inv.invokeReplicator(job);
        assert.equal(fake.last().headers['x-tc-token'], 'tok-2');
      },
    );
  });

  it('fails before sending when there are no credentials at all', async () => {
    await withEnv({ TENCENTCLOUD_SECRETID: undefined, TENCENTCLOUD_SECRETKEY: undefined }, async () => {
      await assert.rejects(
        new TencentScfInvoker({ functionName: 'f', region: 'ap-guangzhou', endpoint }).invokeReplicator(job),
        isInvokeError((e) => assert.equal(e.code, 'CredentialsMissing')),
      );
    });
    assert.equal(fake.seen.length, 0);
  });
});

describe('createInvoker', () => {
  const local: Invoker = { invokeReplicator: async () => undefined };

  it('is local by default, and only where a local runtime provides one', () => {
    const config = loadConfig({});
    assert.equal(config.invoker, 'local');
    assert.equal(config.replicatorFunction, 'ferry-dev-replicator');
    assert.equal(
      createInvoker(config, () => local),
      local,
    );
    assert.throws(() => createInvoker(config), /local runtime/);
  });

  it('rejects an unknown FERRY_INVOKER', () => {
    assert.throws(() => loadConfig({ FERRY_INVOKER: 'gcp' }), /FERRY_INVOKER/);
  });

  it('builds the AWS Lambda adapter from the environment settings, once per setting', async () => {
    const fake = fakeEndpoint(() => ({ status: 202 }));
    const endpoint = await fake.start();
    try {
      // Keys in the environment: the SDK's default chain takes them before any instance-role lookup.
      await withEnv(
        { AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined },
        async () => {
          const config = loadConfig({
            FERRY_INVOKER: 'aws-lambda',
            FERRY_REPLICATOR_FUNCTION: 'ferry-prod-replicator',
            FERRY_INVOKER_REGION: 'eu-west-1',
            FERRY_INVOKER_ENDPOINT: endpoint,
          });
          const inv = createInvoker(config);
          assert.ok(inv instanceof AwsLambdaInvoker);
          assert.equal(createInvoker(config), inv);
          await inv.invokeReplicator(job);
          assert.equal(fake.last().url, '/2015-03-31/functions/ferry-prod-replicator/invocations');
          assert.match(String(fake.last().headers.authorization), /Credential=AKIDENV\/\d{8}\/eu-west-1\/lambda\//);
        },
      );
    } finally {
      await fake.stop();
    }
  });

  it('builds the Tencent SCF adapter from the environment settings', async () => {
    const secrets = { AKIDenv: 'env-secret' };
    const fake = fakeEndpoint((r) =>
      tc3Problem(r, secrets)
        ? cloudApiError('AuthFailure.SignatureFailure', 'bad', 'x')
        : { status: 200, body: JSON.stringify({ Response: { Result: {}, RequestId: 'x' } }) },
    );
    const endpoint = await fake.start();
    try {
      await withEnv(
        {
          TENCENTCLOUD_SECRETID: 'AKIDenv',
          TENCENTCLOUD_SECRETKEY: 'env-secret',
          TENCENTCLOUD_SESSIONTOKEN: undefined,
          SCF_NAMESPACE: undefined,
        },
        async () => {
          const config = loadConfig({
            FERRY_INVOKER: 'tencent-scf',
            FERRY_REPLICATOR_FUNCTION: 'ferry-prod-replicator',
            FERRY_INVOKER_REGION: 'ap-shanghai',
            FERRY_INVOKER_ENDPOINT: endpoint,
          });
          const inv = createInvoker(config);
          assert.ok(inv instanceof TencentScfInvoker);
          await inv.invokeReplicator(job);
          const r = fake.last();
          assert.equal(r.headers['x-tc-region'], 'ap-shanghai');
          const body = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
          assert.equal(body.FunctionName, 'ferry-prod-replicator');
          assert.equal(body.Namespace, 'default');
        },
      );
    } finally {
      await fake.stop();
    }
  });

  it('needs a region for Tencent SCF', async () => {
    await withEnv({ TENCENTCLOUD_REGION: undefined }, async () => {
      assert.throws(() => createInvoker(loadConfig({ FERRY_INVOKER: 'tencent-scf', FERRY_REPLICATOR_FUNCTION: 'no-region-fn' })), /region/);
    });
  });
});

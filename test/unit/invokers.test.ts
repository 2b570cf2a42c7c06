// The platform invokers against local HTTP endpoints that check what each SDK really sends.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { AwsLambdaInvoker, InvokeError } from '../../shared/invoker/aws-lambda.ts';
import type { ReplicatorJob } from '../../shared/invoker/invoker.ts';
import { TencentScfInvoker } from '../../shared/invoker/tencent-scf.ts';

const job: ReplicatorJob = { tenant: 't1', taskId: 'task-1', flow: 'forward', shard: 2 };

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }

/** A fake endpoint: records each request and answers with what `reply` says. */
function fakeEndpoint(reply: (s: Seen) => { status: number; body: string }) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(s);
      const r = reply(s);
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body);
    });
  });
  return {
    seen,
    server,
    start: () => new Promise<string>((ok) => server.listen(0, '127.0.0.1', () => ok(`127.0.0.1:${(server.address() as { port: number }).port}`))),
    stop: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

describe('AWS Lambda invoker (Event invoke)', () => {
  let status = 202;
  const fake = fakeEndpoint(() => ({ status, body: status === 202 ? '' : '{"Type":"User","message":"Function not found"}' }));
  let address: string;
  before(async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret-test';
    address = await fake.start();
  });
  after(() => fake.stop());

  it('sends the job as the payload of an asynchronous invoke, signed with SigV4', async () => {
    await new AwsLambdaInvoker('ferry-dev-replicator', { region: 'ap-southeast-1', endpoint: `http://${address}` }).invokeReplicator(job);
    const r = fake.seen.at(-1)!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/2015-03-31/functions/ferry-dev-replicator/invocations');
    assert.equal(r.headers['x-amz-invocation-type'], 'Event');
    assert.match(String(r.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/ap-southeast-1\/lambda\/aws4_request/);
    assert.deepEqual(JSON.parse(r.body), job);
  });

  it('rejects with a typed error naming the function when the invoke is refused', async () => {
    status = 404;
    await assert.rejects(
      new AwsLambdaInvoker('missing-fn', { region: 'ap-southeast-1', endpoint: `http://${address}` }).invokeReplicator(job),
      (e: unknown) => e instanceof InvokeError && e.functionName === 'missing-fn',
    );
  });
});

describe('Tencent SCF invoker (Invoke, InvocationType Event)', () => {
  let fail = false;
  const fake = fakeEndpoint(() =>
    fail
      ? { status: 200, body: JSON.stringify({ Response: { Error: { Code: 'ResourceNotFound.Function', Message: 'function not found' }, RequestId: 'r2' } }) }
      : { status: 200, body: JSON.stringify({ Response: { Result: { FunctionRequestId: 'f1' }, RequestId: 'r1' } }) },
  );
  let address: string;
  before(async () => {
    address = await fake.start();
  });
  after(() => fake.stop());

  const invoker = () => new TencentScfInvoker({ functionName: 'ferry-replicator', region: 'ap-guangzhou', secretId: 'AKIDscf', secretKey: 'scf-secret', endpoint: address, protocol: 'http:' });

  it('calls the Cloud API Invoke action with the job as ClientContext, TC3-signed', async () => {
    await invoker().invokeReplicator(job);
    const r = fake.seen.at(-1)!;
    assert.equal(r.method, 'POST');
    assert.equal(r.headers['x-tc-action'], 'Invoke');
    assert.equal(r.headers['x-tc-version'], '2018-04-16');
    assert.equal(r.headers['x-tc-region'], 'ap-guangzhou');
    // The credential scope's service comes from the endpoint host (scf.tencentcloudapi.com in production).
    assert.match(String(r.headers.authorization), /^TC3-HMAC-SHA256 Credential=AKIDscf\/\d{4}-\d{2}-\d{2}\/[^/]+\/tc3_request, SignedHeaders=.+, Signature=[0-9a-f]{64}$/);
    const body = JSON.parse(r.body) as Record<string, string>;
    assert.equal(body.FunctionName, 'ferry-replicator');
    assert.equal(body.InvocationType, 'Event');
    assert.equal(body.Namespace, 'default');
    assert.deepEqual(JSON.parse(body.ClientContext!), job);
  });

  it("rejects with the Cloud API's error code", async () => {
    fail = true;
    await assert.rejects(invoker().invokeReplicator(job), (e: unknown) => e instanceof InvokeError && e.message.includes('ResourceNotFound.Function'));
  });
});

// Edge adapters: provider events (fixtures written from each provider's documented event structure)
// → ApiRequest, ApiResponse → provider result, shape detection, and the API handler end to end on
// the embedded store for every edge.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as awsHttpApi from '../../shared/api/edge/aws-http-api.ts';
import { detectHttpEvent, type HttpEvent, type HttpEventKind } from '../../shared/api/edge/detect.ts';
import { decodeBody, lowerCaseHeaders, parseQueryString, stripBasePath } from '../../shared/api/edge/normalize.ts';
import * as scfApiGateway from '../../shared/api/edge/scf-api-gateway.ts';
import * as scfFunctionUrl from '../../shared/api/edge/scf-function-url.ts';
import type { ApiResponse } from '../../shared/api/http.ts';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/events/${name}.json`, import.meta.url), 'utf8'));

type EventOf<K extends HttpEventKind> = Extract<HttpEvent, { kind: K }>['event'];

// Detects a fixture and hands back the event typed for its adapter, failing if the kind is wrong.
function detected<K extends HttpEventKind>(name: string, kind: K): EventOf<K> {
  const d = detectHttpEvent(fixture(name));
  assert.equal(d?.kind, kind, `${name} detected as ${d?.kind ?? 'null'}`);
  return d!.event as EventOf<K>;
}

const RESPONSE: ApiResponse = {
  status: 201,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r-1' },
  body: '{"id":"t-1","name":"订单-dr"}',
};

describe('detectHttpEvent', () => {
  const cases: [string, HttpEventKind][] = [
    ['aws-http-api', 'aws-http-api'],
    ['aws-http-api-health', 'aws-http-api'],
    ['aws-function-url', 'aws-function-url'],
    ['aws-function-url-health', 'aws-function-url'],
    ['scf-api-gateway', 'scf-api-gateway'],
    ['scf-api-gateway-health', 'scf-api-gateway'],
    ['scf-function-url', 'scf-function-url'],
    ['scf-function-url-health', 'scf-function-url'],
  ];
  for (const [name, kind] of cases) it(`${name}.json is ${kind}`, () => void detected(name, kind));

  it('returns null for events that are not HTTP events it knows', () => {
    const notHttp: unknown[] = [
      null,
      'GET /v1/health',
      [],
      {},
      // SCF timer trigger
      { Type: 'Timer', TriggerName: 'EveryMinute', Time: '2026-03-10T13:40:00Z', Message: '' },
      // AWS REST API (payload 1.0): has httpMethod and path too
      {
        version: '1.0',
        resource: '/{proxy+}',
        path: '/v1/health',
        httpMethod: 'GET',
        headers: {},
        multiValueHeaders: {},
        requestContext: { stage: 'prod' },
      },
      { resource: '/{proxy+}', path: '/v1/health', httpMethod: 'GET', headers: {}, requestContext: {} },
      // AWS payload 2.0 with a field of the wrong type
      {
        version: '2.0',
        rawPath: '/v1/health',
        rawQueryString: '',
        headers: { accept: 1 },
        requestContext: { http: { method: 'GET' } },
        isBase64Encoded: false,
      },
      { version: '2.0', rawPath: '/v1/health', requestContext: {}, isBase64Encoded: false },
      // SCF shape with a non-string body
      { httpMethod: 'POST', path: '/v1/tasks', headers: {}, body: { name: 'x' } },
      { httpMethod: 'GET', path: '/v1/tasks', queryString: { limit: 10 } },
    ];
    for (const e of notHttp) assert.equal(detectHttpEvent(e), null, JSON.stringify(e));
  });
});

describe('aws-http-api adapter (API Gateway HTTP API payload 2.0 and Lambda function URL)', () => {
  it('maps method, path, multi-value query, headers, cookies and a base64 body', () => {
    const req = awsHttpApi.toApiRequest(detected('aws-http-api', 'aws-http-api'), { basePath: '/prod' });
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/tasks');
    assert.deepEqual(req.query, { status: 'running,stopped', name: 'orders dr' });
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers.authorization, 'Bearer t0ken-example');
    assert.equal(req.headers['x-ferry-tag'], 'a,b');
    assert.equal(req.headers.cookie, 'session=abc123; theme=dark');
    assert.equal(req.body, '{"name":"orders-dr","direction":"one-way","✓":1}');
  });

  it('keeps the stage in the path when no base path is configured', () => {
    assert.equal(awsHttpApi.toApiRequest(detected('aws-http-api', 'aws-http-api')).path, '/prod/v1/tasks');
  });

  it('falls back to rawQueryString when queryStringParameters is absent', () => {
    const event = detected('aws-http-api', 'aws-http-api');
    const { queryStringParameters: _dropped, ...rest } = event;
    assert.deepEqual(awsHttpApi.toApiRequest(rest).query, { status: 'running,stopped', name: 'orders dr' });
  });

  it('adds cookies to a cookie header that is already there', () => {
    const event = { ...detected('aws-http-api', 'aws-http-api'), headers: { cookie: 'a=1' } };
    assert.equal(awsHttpApi.toApiRequest(event).headers.cookie, 'a=1; session=abc123; theme=dark');
  });

  it('maps a Lambda function URL event (base64 body without content-type)', () => {
    const req = awsHttpApi.toApiRequest(detected('aws-function-url', 'aws-function-url'));
    assert.deepEqual(req, {
      method: 'POST',
      path: '/v1/tasks/t-123/reset-offset',
      query: { dryRun: 'true' },
      headers: {
        accept: '*/*',
        authorization: 'Bearer t0ken-example',
        'content-length': '27',
        host: 'dlq7mxmplbkrcs4x5ky3t6bdeu0ajdqb.lambda-url.ap-southeast-1.on.aws',
        'user-agent': 'python-requests/2.32.3',
        'x-amzn-trace-id': 'Root=1-65f0c2b3-1a2b3c4d5e6f7a8b9c0d1e2f',
        'x-forwarded-for': '198.51.100.23',
        'x-forwarded-port': '443',
        'x-forwarded-proto': 'https',
      },
      body: '{"timestamp":1764000000000}',
    });
  });

  it('maps a GET without query or body', () => {
    const req = awsHttpApi.toApiRequest(detected('aws-http-api-health', 'aws-http-api'));
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/health');
    assert.deepEqual(req.query, {});
    assert.equal(req.body, undefined);
    assert.equal(req.headers.cookie, undefined);
  });

  it('maps the response back as a structured text result', () => {
    const out = awsHttpApi.fromApiResponse(RESPONSE);
    assert.deepEqual(out, { statusCode: 201, headers: RESPONSE.headers, body: RESPONSE.body, isBase64Encoded: false });
    assert.notEqual(out.headers, RESPONSE.headers, 'headers are copied, not shared');
  });
});

describe('scf-api-gateway adapter (SCF API Gateway trigger)', () => {
  it('maps method, full path minus the base path, array query, header case and a base64 body', () => {
    const req = scfApiGateway.toApiRequest(detected('scf-api-gateway', 'scf-api-gateway'), { basePath: '/ferry' });
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/v1/tasks');
    assert.deepEqual(req.query, { status: 'running,stopped', name: 'orders-dr' });
    assert.deepEqual(req.headers, {
      accept: 'application/json',
      authorization: 'Bearer t0ken-example',
      'content-type': 'application/json',
      host: 'service-f94sy04v-1250000000.gz.apigw.tencentcs.com',
      'user-agent': 'curl/8.4.0',
      'x-anonymous-consumer': 'true',
      'x-api-requestid': 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      'x-b3-traceid': 'a1b2c3d4e5f60718',
      'x-qualifier': '$LATEST',
    });
    assert.equal(req.body, '{"name":"订单-dr","direction":"two-way"}');
  });

  it('strips the base path only when the path starts with it', () => {
    const event = detected('scf-api-gateway', 'scf-api-gateway');
    assert.equal(scfApiGateway.toApiRequest(event).path, '/ferry/v1/tasks');
    assert.equal(scfApiGateway.toApiRequest(event, { basePath: '/other' }).path, '/ferry/v1/tasks');
    assert.equal(scfApiGateway.toApiRequest(event, { basePath: '/fer' }).path, '/ferry/v1/tasks');
    assert.equal(scfApiGateway.toApiRequest(event, { basePath: 'ferry/' }).path, '/v1/tasks');
  });

  it('treats the empty body of a GET as no body', () => {
    const req = scfApiGateway.toApiRequest(detected('scf-api-gateway-health', 'scf-api-gateway'), { basePath: '/ferry' });
    assert.deepEqual(
      { method: req.method, path: req.path, query: req.query, body: req.body },
      { method: 'GET', path: '/v1/health', query: {}, body: undefined },
    );
  });

  it('uses the declared query parameters when queryString is missing', () => {
    const event = { ...detected('scf-api-gateway', 'scf-api-gateway'), queryString: undefined, queryStringParameters: { limit: '5' } };
    assert.deepEqual(scfApiGateway.toApiRequest(event).query, { limit: '5' });
  });

  it('maps the response to the integration response', () => {
    assert.deepEqual(scfApiGateway.fromApiResponse(RESPONSE), {
      isBase64Encoded: false,
      statusCode: 201,
      headers: RESPONSE.headers,
      body: RESPONSE.body,
    });
  });
});

describe('scf-function-url adapter (SCF function URL, event function)', () => {
  it('maps the documented event', () => {
    assert.deepEqual(scfFunctionUrl.toApiRequest(detected('scf-function-url', 'scf-function-url')), {
      method: 'PATCH',
      path: '/v1/tasks/t-123',
      query: { a: '1', b: '2' },
      headers: {
        accept: '*/*',
        'accept-encoding': 'gzip, deflate, br',
        authorization: 'Bearer t0ken-example',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'content-length': '34',
        'content-type': 'application/json',
        'x-scf-remote-addr': '111.206.96.145',
      },
      body: '{"name":"orders-dr-2","version":3}',
    });
  });

  it('maps the event as delivered, with the API-Gateway-only fields present but empty', () => {
    const req = scfFunctionUrl.toApiRequest(detected('scf-function-url-health', 'scf-function-url'));
    assert.deepEqual(
      { method: req.method, path: req.path, query: req.query, body: req.body },
      { method: 'GET', path: '/v1/health', query: {}, body: undefined },
    );
    assert.equal(req.headers['x-scf-remote-addr'], '111.206.96.145');
  });

  it('decodes a base64 body if one is flagged', () => {
    const event = { httpMethod: 'post', path: '/v1/tasks', body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true };
    const req = scfFunctionUrl.toApiRequest(event);
    assert.equal(req.method, 'POST');
    assert.equal(req.body, '{"a":1}');
  });

  it('maps the response', () => {
    assert.deepEqual(scfFunctionUrl.fromApiResponse(RESPONSE), {
      isBase64Encoded: false,
      statusCode: 201,
      headers: RESPONSE.headers,
      body: RESPONSE.body,
    });
  });
});

describe('edge normalization rules', () => {
  it('lower-cases header names and joins names that collide', () => {
    assert.deepEqual(lowerCaseHeaders({ 'X-Trace': 'a', 'x-trace': 'b', Accept: 'text/plain', Skip: undefined }), {
      'x-trace': 'a,b',
      accept: 'text/plain',
    });
  });

  it('parses a raw query string, joining repeated keys', () => {
    assert.deepEqual(parseQueryString('a=1&a=2&b=x%20y&c='), { a: '1,2', b: 'x y', c: '' });
    assert.deepEqual(parseQueryString(''), {});
  });

  it('decodes bodies to UTF-8 text', () => {
    assert.equal(decodeBody(Buffer.from('{"名":"✓"}').toString('base64'), true), '{"名":"✓"}');
    assert.equal(decodeBody('{"a":1}', false), '{"a":1}');
    assert.equal(decodeBody('', true), undefined);
    assert.equal(decodeBody(null, false), undefined);
  });

  it('strips base paths at segment boundaries only', () => {
    assert.equal(stripBasePath('/ferry', '/ferry'), '/');
    assert.equal(stripBasePath('/ferry/v1/health', '/ferry/'), '/v1/health');
    assert.equal(stripBasePath('/ferryx/v1', '/ferry'), '/ferryx/v1');
    assert.equal(stripBasePath('/v1/health', '/'), '/v1/health');
    assert.equal(stripBasePath('v1/health', undefined), '/v1/health');
  });
});

describe('functions/api handler end to end (embedded store)', () => {
  let dataDir: string;
  let api: typeof import('../../functions/api/handler.ts');
  const saved = { ...process.env };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ferry-edge-'));
    // The handler reads its configuration at cold start, so the environment is set before the first call.
    process.env.FERRY_DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
    process.env.FERRY_API_BASE_PATH = '/ferry';
    process.env.LOG_LEVEL = 'silent';
    api = await import('../../functions/api/handler.ts');
  });

  after(async () => {
    await api.closeApi();
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const name of ['aws-http-api-health', 'aws-function-url-health', 'scf-api-gateway-health', 'scf-function-url-health']) {
    it(`answers GET /v1/health from ${name}.json`, async () => {
      const out = await api.handler(fixture(name), {});
      assert.equal(out.statusCode, 200);
      assert.equal(out.isBase64Encoded, false);
      assert.match(out.headers['content-type'] ?? '', /^application\/json/);
      assert.deepEqual(JSON.parse(out.body), { status: 'ok', store: 'embedded' });
    });
  }

  it('fails the invocation for an event that is not an HTTP event', async () => {
    await assert.rejects(
      api.handler({ Type: 'Timer', TriggerName: 'EveryMinute', Time: '2026-03-10T13:40:00Z', Message: '' }),
      /not an HTTP event/,
    );
  });
});

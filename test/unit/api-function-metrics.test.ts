// Prometheus `GET /metrics` from the deployed API function (functions/api/handler.ts), not only the
// local runtime: through an AWS HTTP API event on the embedded store, bearer token required, and a
// scrape shows the token's tenant only.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueToken } from '../../shared/auth/tokens.ts';
import { parseExposition } from '../support/prometheus-text.ts';

const endpoint = (clusterId: string, nameServer: string) => ({
  clusterType: 'self-built',
  clusterId,
  protocol: 'remoting',
  nameServer,
  networkType: 'public',
});

/** An API Gateway HTTP API (payload 2.0) event for `GET <path>`. */
const httpApiEvent = (path: string, method = 'GET', authorization?: string) => ({
  version: '2.0',
  routeKey: '$default',
  rawPath: path,
  rawQueryString: '',
  headers: { accept: '*/*', ...(authorization ? { authorization } : {}) },
  requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7' }, stage: '$default' },
  isBase64Encoded: false,
});

describe('GET /metrics from the API function', () => {
  let dataDir: string;
  let api: typeof import('../../functions/api/handler.ts');
  let mine: string;
  let theirs: string;
  let myTask: string;
  let theirTask: string;
  const saved = { ...process.env };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ferry-fn-metrics-'));
    process.env.FERRY_DATA_DIR = dataDir;
    delete process.env.DATABASE_URL;
    delete process.env.FERRY_API_BASE_PATH;
    process.env.LOG_LEVEL = 'silent';
    api = await import('../../functions/api/handler.ts');
    const { ferryFromEnv } = await import('../../shared/runtime/root.ts');
    const ferry = await ferryFromEnv();
    mine = await issueToken(ferry.store, 'team-a', 'reader', 'scraper a');
    theirs = await issueToken(ferry.store, 'team-b', 'admin', 'admin b');
    const create = async (tenant: string, name: string) =>
      (
        await ferry.api.tasks.create(
          { tenant, role: 'admin', subject: 'test' },
          {
            name,
            direction: 'one-way',
            source: endpoint('c-a', '127.0.0.1:9876'),
            target: endpoint('c-b', '127.0.0.1:9877'),
            start: false,
          },
        )
      ).id;
    myTask = await create('team-a', 'mine');
    theirTask = await create('team-b', 'theirs');
    // A minute of replication for each task, as a replicator writes it.
    const minuteMs = Math.floor(Date.now() / 60_000) * 60_000;
    await ferry.store.addMetrics([
      { taskId: myTask, flow: 'forward', minuteMs, consumed: 7, replicated: 5, lag: 3 },
      { taskId: theirTask, flow: 'forward', minuteMs, consumed: 9, replicated: 9, lag: 0 },
    ]);
  });

  after(async () => {
    await api.closeApi();
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers the token's tenant only, in the Prometheus text format", async () => {
    const out = await api.handler(httpApiEvent('/metrics', 'GET', `Bearer ${mine}`), {});
    assert.equal(out.statusCode, 200, out.body);
    assert.equal(out.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parseExposition(out.body);
    assert.equal(types.get('ferry_messages_replicated_total'), 'counter');
    const replicated = samples.filter((s) => s.name === 'ferry_messages_replicated_total');
    assert.deepEqual(
      replicated.map((s) => [s.labels.task_id, s.labels.tenant, s.value]),
      [[myTask, 'team-a', 5]],
    );
    assert.equal(samples.find((s) => s.name === 'ferry_replication_lag_messages' && s.labels.task_id === myTask)?.value, 3);
    assert.ok(!out.body.includes(theirTask), "another tenant's task is not in the scrape");
    // The function's own process metrics come along, as on the local runtime.
    assert.ok(samples.some((s) => s.name === 'process_cpu_user_seconds_total'));
  });

  it('refuses a scrape without a valid bearer token, and methods other than GET', async () => {
    const none = await api.handler(httpApiEvent('/metrics'), {});
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).error.code, 'UNAUTHENTICATED');
    const bad = await api.handler(httpApiEvent('/metrics', 'GET', 'Bearer not-a-real-token-at-all'), {});
    assert.equal(bad.statusCode, 401);
    const post = await api.handler(httpApiEvent('/metrics', 'POST', `Bearer ${theirs}`), {});
    assert.equal(post.statusCode, 405);
    assert.equal(post.headers.allow, 'GET');
  });
});

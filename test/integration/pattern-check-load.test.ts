// Topic patterns are analysed in worker threads (shared/filter/redos.ts): while ten slow patterns
// are being checked, /v1/health keeps answering, and every create gets its answer (400 naming the
// pattern when the request's time budget ran out or it is unsafe), never a 5xx. Over real HTTP on
// the local runtime. How fast health answers meanwhile is a benchmark figure (npm run bench -- api).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';

const side = (ns: string) => ({
  clusterType: 'self-built',
  clusterId: `c-${ns.replace(/\W/g, '')}`,
  nameServer: ns,
  networkType: 'public',
});
const validTask = (over: Record<string, unknown>) => ({
  direction: 'one-way',
  source: side('127.0.0.1:9876'),
  target: side('10.0.0.2:9876'),
  start: false,
  ...over,
});

/** Each takes recheck its whole 2-s limit (distinct, and "unknown" verdicts are never cached). */
export const slowPattern = (i: number) => `([a-z0-9]{1,${20 + i}}-){1,20}[a-z0-9]{1,20}(_[a-z]{1,20}){1,20}`;

describe('pattern analysis off the event loop', () => {
  let rt: Runtime;
  before(async () => {
    rt = await startRuntime({ store: 'embedded', env: { FERRY_RECONCILE_INTERVAL_MS: '86400000', LOG_LEVEL: 'info' } });
  });
  after(async () => {
    await rt?.stop();
  });

  it('answers /v1/health while ten slow patterns are checked, and answers every create', async () => {
    const call = client(rt);
    const run = Math.random().toString(36).slice(2, 8);
    const creates = Array.from({ length: 10 }, (_, i) =>
      call('POST', '/v1/tasks', validTask({ name: `slow-${run}-${i}`, filter: { topics: { include: [slowPattern(i)], exclude: [] } } })),
    );
    let settled = false;
    const all = Promise.all(creates).finally(() => (settled = true));
    const during: number[] = [];
    // Health asked back to back while the checks run (after the first, which may meet the runtime's start-up).
    while (!settled) {
      const t0 = performance.now();
      const h = await call('GET', '/v1/health');
      assert.equal(h.status, 200, h.text);
      if (!settled) during.push(performance.now() - t0);
    }
    const results = await all;
    during.sort((a, b) => a - b);
    const median = during[Math.floor(during.length / 2)];
    console.log(
      `  ${during.length} health answers while the patterns were checked: median ${median?.toFixed(1)} ms, ` +
        `max ${during.at(-1)?.toFixed(1)} ms; creates answered ${results.map((r) => r.status).join(' ')}`,
    );
    // The checks took seconds; health answered many times meanwhile (on the event loop they blocked it).
    assert.ok(during.length >= 10, `${during.length} health answers`);
    for (const r of results) {
      assert.ok(r.status === 201 || r.status === 400, `${r.status} ${r.text}`);
      if (r.status === 400) {
        assert.equal(r.body.error.code, 'VALIDATION_FAILED');
        assert.equal(r.body.error.field, 'filter.topics.include.0');
      }
    }
    assert.ok(!/"level":(50|60)/.test(rt.output()), 'no error logged');
  });

  it('refuses a repetition count over 1000 at once, naming the field', async () => {
    const r = await client(rt)('POST', '/v1/tasks', validTask({ name: 'big-count', filter: { topics: { include: ['x', 'a{5000}'] } } }));
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.field, 'filter.topics.include.1');
    assert.match(r.body.error.message, /repetition count of 5000 is over 1000/);
  });
});

// The task API over real HTTP at a fixed offered load (autocannon, 200 requests/s overall over 10
// connections), on the embedded store and then on PostgreSQL: create (POST /v1/tasks, stopped),
// list (GET /v1/tasks?limit=50 over ~200 tasks) and describe (GET /v1/tasks/{id}), with the per-token
// rate limiter on (FERRY_RATE_LIMIT_RPS above the offered load, so it is paid for but never refuses);
// then GET /v1/health at the same load while ten slow topic patterns (each takes the analyser its whole
// 2-s limit) are checked at all times, which the worker threads keep off the event loop.
// `npm run bench -- api [seconds per kind, default 10]`.
//
// How to read the figures:
// - Latencies are taken from every response (any status), in ms with sub-ms precision, from
//   autocannon's per-response event. Its own histogram is whole milliseconds, and its
//   coordinated-omission correction uses an expected interval of ceil(1/rate) = 1 ms here (1/rate
//   is in seconds, the histogram in ms), so it adds 1 ms-spaced synthetic samples below every slow
//   response; that correction is turned off.
// - autocannon's "rate" is a per-connection budget per second (20 requests here), not a pacer:
//   each connection sends back to back until its budget is spent, then idles until the second ends.
//   The offered load is therefore ~200 requests at the start of every second with up to 10 in
//   flight, not one request every 5 ms. `sendSpanMs` (median, per second, from the first to the
//   last request sent) shows how bunched the sending was: ~1000 would be evenly paced.
// - Kinds run in this order on one runtime: seed 200 tasks, list, describe, create, so the list
//   pages over ~200 tasks rather than over everything the create run adds.
// - A non-2xx response is counted and printed, with a few bodies, never dropped.
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { client, startRuntime, type Runtime } from '../support/runtime.ts';
import type { Bench } from './run.ts';

// autocannon is CommonJS without bundled types; this is the slice of its API used here.
interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
  onResponse?: (status: number, body: string) => void;
}
interface AutocannonResult {
  duration: number; // seconds
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number }; // completed responses (its `sent` over-counts the first requests)
}
interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  on(event: 'reqError', fn: (err: Error) => void): void;
  stop(): void;
}
type Autocannon = (
  opts: {
    url: string;
    connections: number;
    overallRate: number;
    duration: number;
    ignoreCoordinatedOmission: boolean;
    headers: Record<string, string>;
    requests: AutocannonRequest[];
  },
  cb: (err: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const RATE = 200;
/** Per token: above the offered load, so every request pays for the limiter and none is refused. */
const RATE_LIMIT_RPS = 1000;
/** Create requests with a slow pattern kept in flight during the health run. */
const SLOW_PATTERNS = 10;
/** Distinct (verdicts are cached), each taking recheck its whole 2-s limit (measured: "unknown, timeout"). */
const slowPattern = (i: number) => `([a-z0-9]{1,${20 + (i % 200)}}-){1,${20 + Math.floor(i / 200)}}[a-z0-9]{1,20}(_[a-z]{1,20}){1,20}`;
const CONNECTIONS = 10;
const SEED = 200;
const KINDS = ['create', 'list', 'get'] as const;
type Kind = (typeof KINDS)[number];
type Measured = Record<Kind, KindFigures> & { healthUnderPatterns: KindFigures; patternAnswers: string };
type StoreKind = 'embedded' | 'postgres';

// The shape of test/integration/api-http.test.ts's validTask(), created stopped so nothing replicates.
const selfBuilt = (ns: string, acl = false) => ({
  clusterType: 'self-built',
  clusterId: `c-${ns.replace(/\W/g, '')}`,
  protocol: 'remoting',
  nameServer: ns,
  networkType: 'public',
  acl: acl ? { enabled: true, accessKey: 'ak-bench-1234', secretKey: 'sk-bench-secret' } : { enabled: false },
});
const taskBody = (name: string) =>
  JSON.stringify({
    name,
    direction: 'one-way',
    source: selfBuilt('127.0.0.1:9876;127.0.0.1:9877', true),
    target: selfBuilt('10.0.0.2:9876'),
    startOffset: { type: 'latest' },
    filter: { topics: { include: ['orders-.*'], exclude: ['orders-tmp'] }, expression: { type: 'SQL92', value: "a > 5 AND b = 'x'" } },
    tpsLimit: 5000,
    idempotentResume: true,
    start: false,
  });

interface KindFigures {
  p50: number;
  p99: number;
  max: number;
  rps: number;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statuses: string;
  sendSpanMs: number;
  samples: string[]; // a few non-2xx bodies and error messages
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

async function load(rt: Runtime, request: AutocannonRequest, seconds: number): Promise<KindFigures> {
  const latencies: number[] = [];
  const sentAt: number[] = [];
  const samples: string[] = [];
  const note = (s: string) => {
    if (samples.length < 5) samples.push(s);
  };
  const t0 = performance.now();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const instance = autocannon(
      {
        url: rt.baseUrl,
        connections: CONNECTIONS,
        overallRate: RATE,
        duration: seconds,
        ignoreCoordinatedOmission: true,
        headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
        requests: [
          {
            ...request,
            onResponse: (status, body) => {
              if (status < 200 || status > 299) note(`${status} ${body.slice(0, 300)}`);
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, ms) => {
      latencies.push(ms);
      sentAt.push(performance.now() - ms - t0);
    });
    instance.on('reqError', (err) => note(`error ${err.message}`));
  });

  latencies.sort((a, b) => a - b);
  // Per one-second window of the run: how long from its first send to its last.
  const spans = new Map<number, [number, number]>();
  for (const t of sentAt) {
    const w = Math.floor(t / 1000);
    const s = spans.get(w);
    spans.set(w, s ? [Math.min(s[0], t), Math.max(s[1], t)] : [t, t]);
  }
  const completed = result.requests.total;
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? 0,
    rps: result.duration > 0 ? completed / result.duration : 0,
    completed,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses: Object.entries(result.statusCodeStats)
      .map(([code, { count }]) => `${code}×${count}`)
      .join(' '),
    sendSpanMs: median([...spans.values()].map(([a, b]) => b - a)),
    samples,
  };
}

/** Health at the offered load while SLOW_PATTERNS creates with slow patterns are in flight the whole time. */
async function healthUnderPatterns(rt: Runtime, seconds: number, run: string): Promise<[KindFigures, string]> {
  const api = client(rt);
  const statuses = new Map<number, number>();
  let next = 0;
  let done = false;
  const keepChecking = async () => {
    while (!done) {
      const i = next++;
      const body = JSON.parse(taskBody(`bench-slow-${run}-${i}`)) as Record<string, unknown>;
      const r = await api('POST', '/v1/tasks', { ...body, filter: { topics: { include: [slowPattern(i)], exclude: [] } } });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
  };
  const checkers = Array.from({ length: SLOW_PATTERNS }, keepChecking);
  // The first checks start the analyser's workers; measure once they are busy.
  await new Promise((r) => setTimeout(r, 3000));
  const figures = await load(rt, { method: 'GET', path: '/v1/health' }, seconds);
  done = true;
  await Promise.all(checkers);
  return [figures, [...statuses].map(([s, n]) => `${s}×${n}`).join(' ')];
}

async function measureStore(store: StoreKind, seconds: number): Promise<Measured> {
  // Per-request debug lines would be measured too: info.
  // The create run adds ~2,000 tasks to the 200 seeded: the tenant quota is counted on every create but never reached.
  const env = { LOG_LEVEL: 'info', FERRY_RATE_LIMIT_RPS: String(RATE_LIMIT_RPS), FERRY_MAX_TASKS_PER_TENANT: '100000' };
  const rt = await startRuntime({ store, env });
  try {
    const api = client(rt);
    const run = Math.random().toString(36).slice(2, 8);
    const ids: string[] = [];
    for (let i = 0; i < SEED; i++) {
      const r = await api('POST', '/v1/tasks', undefined, taskBody(`bench-seed-${run}-${i}`));
      if (r.status !== 201) throw new Error(`seeding task ${i} on ${store}: ${r.status} ${r.text}`);
      ids.push(r.body.id as string);
    }
    const id = ids[Math.floor(ids.length / 2)]!;
    for (let i = 0; i < 20; i++) {
      await api('GET', '/v1/tasks?limit=50');
      await api('GET', `/v1/tasks/${id}`);
    }

    let n = 0;
    const list = await load(rt, { method: 'GET', path: '/v1/tasks?limit=50' }, seconds);
    const get = await load(rt, { method: 'GET', path: `/v1/tasks/${id}` }, seconds);
    const create = await load(
      rt,
      { method: 'POST', path: '/v1/tasks', setupRequest: (req) => ({ ...req, body: taskBody(`bench-${run}-${n++}`) }) },
      seconds,
    );
    const [healthUnder, patternAnswers] = await healthUnderPatterns(rt, seconds, run);
    return { create, list, get, healthUnderPatterns: healthUnder, patternAnswers };
  } finally {
    await rt.stop();
  }
}

const ms = (x: number) => x.toFixed(2).padStart(8);

function print(store: StoreKind, figures: Measured, load1m: number) {
  console.log(
    `\n${store}: ${RATE} req/s offered over ${CONNECTIONS} connections (1-min load average ${load1m.toFixed(2)} on ` +
      `${availableParallelism()} cores at the end)`,
  );
  console.log(`  kind     p50 ms   p99 ms   max ms      rps   done  non2xx  errors  send span/s  statuses`);
  for (const kind of KINDS) {
    const f = figures[kind];
    console.log(
      `  ${kind.padEnd(6)} ${ms(f.p50)} ${ms(f.p99)} ${ms(f.max)} ${f.rps.toFixed(1).padStart(8)} ` +
        `${String(f.completed).padStart(6)} ${String(f.non2xx).padStart(7)} ${String(f.errors).padStart(7)} ` +
        `${(`${f.sendSpanMs.toFixed(0)} ms`).padStart(12)}  ${f.statuses}`,
    );
  }
  const h = figures.healthUnderPatterns;
  console.log(
    `  health while ${SLOW_PATTERNS} slow patterns are checked: p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms, ` +
      `max ${h.max.toFixed(2)} ms, ${h.completed} answers (${h.statuses}); the creates answered ${figures.patternAnswers}`,
  );
  for (const kind of KINDS) {
    const f = figures[kind];
    if (f.non2xx || f.errors)
      console.log(`  ! ${kind}: ${f.non2xx} non-2xx, ${f.errors} errors (${f.timeouts} timeouts); e.g. ${f.samples.join(' | ')}`);
  }
}

const bench: Bench = async (args) => {
  const seconds = Number(args[0] ?? 10);
  const r = (x: number) => Math.round(x * 100) / 100;
  const out: Record<string, number | string | null> = {};
  for (const store of ['embedded', 'postgres'] as const) {
    const figures = await measureStore(store, seconds);
    const load1m = loadavg()[0] ?? 0; // the machine is shared: a busy one explains outliers
    print(store, figures, load1m);
    out[`${store}LoadAvg1m`] = r(load1m);
    out[`${store}P99Ms`] = r(Math.max(...KINDS.map((k) => figures[k].p99)));
    out[`${store}Rps`] = r(KINDS.reduce((s, k) => s + figures[k].rps, 0) / KINDS.length);
    for (const kind of KINDS) {
      const f = figures[kind];
      const key = `${store}${kind[0]!.toUpperCase()}${kind.slice(1)}`;
      out[`${key}P50Ms`] = r(f.p50);
      out[`${key}P99Ms`] = r(f.p99);
      out[`${key}Rps`] = r(f.rps);
      out[`${key}Non2xx`] = f.non2xx;
      out[`${key}Errors`] = f.errors;
      out[`${key}SendSpanMs`] = r(f.sendSpanMs);
    }
    out[`${store}HealthUnderPatternsP50Ms`] = r(figures.healthUnderPatterns.p50);
    out[`${store}HealthUnderPatternsP99Ms`] = r(figures.healthUnderPatterns.p99);
    out[`${store}HealthUnderPatternsNon2xx`] = figures.healthUnderPatterns.non2xx;
    out[`${store}PatternCreates`] = figures.patternAnswers;
  }
  out.offeredRps = RATE;
  out.rateLimitRps = RATE_LIMIT_RPS;
  out.slowPatternsInFlight = SLOW_PATTERNS;
  out.connections = CONNECTIONS;
  out.secondsPerKind = seconds;
  return out;
};
export default bench;

// What a cold start of each deployed function costs: the packaged bundles (`serverless package`,
// as Lambda gets them), each in a fresh Node process, on PostgreSQL.
// `npm run bench -- coldstart [--dir <a serverless package output>] [--runs N (5)]`.
//
// How to read the figures:
// - zipKb: the function's zip as uploaded.
// - importMs: `await import(handler)` in a fresh process (Node's own start not included) — module
//   parse, compile and top-level evaluation; the median of the runs.
// - firstMs: the first invocation after that (api: GET /v1/health; reconciler and metadata sync: a
//   run over an empty store; replicator: a job for a task that does not exist), which opens the store
//   (migrations already applied by a warm-up run) and loads whatever the handler loads lazily.
// - The template's NODE_OPTIONS for the function (e.g. --enable-source-maps) are applied as Lambda would.
// - Without --dir the bench packages the current sources first (about a minute).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { throwawayPostgres } from '../support/databases.ts';
import type { Bench } from './run.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

const FUNCTIONS = {
  api: { logicalId: 'ApiLambdaFunction', handler: 'functions/api/handler.mjs' },
  reconciler: { logicalId: 'ReconcilerLambdaFunction', handler: 'functions/reconciler/handler.mjs' },
  replicator: { logicalId: 'ReplicatorLambdaFunction', handler: 'functions/replicator/handler.mjs' },
  metadataSync: { logicalId: 'MetadataSyncLambdaFunction', handler: 'functions/metadata-sync/handler.mjs' },
} as const;
type FunctionName = keyof typeof FUNCTIONS;

const healthEvent = readFileSync(join(root, 'test/fixtures/events/aws-http-api-health.json'), 'utf8');
const events: Record<FunctionName, string> = {
  api: healthEvent,
  reconciler: '{}',
  replicator: JSON.stringify({ tenant: 'default', taskId: 'task-coldstart-none', flow: 'forward', shard: 0 }),
  metadataSync: '{}',
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number) => Math.round(x * 10) / 10;

/** One fresh process: import the handler, invoke it once, print both durations. */
function probe(handlerPath: string, event: string): string {
  return `
    const t0 = performance.now();
    const mod = await import(${JSON.stringify(pathToFileURL(handlerPath).href)});
    const t1 = performance.now();
    const ctx = { getRemainingTimeInMillis: () => 60000 };
    await mod.handler(JSON.parse(${JSON.stringify(event)}), ctx);
    const t2 = performance.now();
    console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1 }));
    process.exit(0);`;
}

const coldstart: Bench = async (args) => {
  const { values } = parseArgs({ args, options: { dir: { type: 'string' }, runs: { type: 'string', default: '5' } } });
  const runs = Math.max(1, Number(values.runs));
  let out = values.dir;
  const packaged = !out;
  if (!out) {
    out = mkdtempSync(join(tmpdir(), 'ferry-coldstart-'));
    console.log(`packaging into ${out} …`);
    await run('npx', ['serverless', 'package', '--package', out], {
      cwd: root,
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as {
    Resources: Record<string, { Properties?: { Environment?: { Variables?: Record<string, string> } } }>;
  };
  const db = await throwawayPostgres();
  const figures: Record<string, number> = {};
  try {
    for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
      const dir = mkdtempSync(join(tmpdir(), `ferry-coldstart-${fn}-`));
      try {
        await run('unzip', ['-q', join(out, `${fn}.zip`), '-d', dir]);
        const vars = template.Resources[FUNCTIONS[fn].logicalId]?.Properties?.Environment?.Variables ?? {};
        const env = {
          PATH: process.env.PATH,
          DATABASE_URL: db.value,
          FERRY_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
          FERRY_INVOKER: 'aws-lambda',
          FERRY_INVOKER_REGION: 'us-east-1',
          // Nothing is dispatched over an empty store; a stray invoke would fail fast here.
          FERRY_INVOKER_ENDPOINT: 'http://127.0.0.1:9',
          FERRY_EMF: '0',
          LOG_LEVEL: 'silent',
          ...(vars.NODE_OPTIONS ? { NODE_OPTIONS: vars.NODE_OPTIONS } : {}),
        };
        const script = probe(join(dir, FUNCTIONS[fn].handler), events[fn]);
        const once = async () => {
          const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, timeout: 120_000 });
          return JSON.parse(stdout.trim().split('\n').at(-1)!) as { importMs: number; firstMs: number };
        };
        await once(); // warm-up: applies the migrations, fills the OS file cache
        const samples = [];
        for (let i = 0; i < runs; i++) samples.push(await once());
        const zipKb = Math.round(statSync(join(out, `${fn}.zip`)).size / 1024);
        const importMs = round(median(samples.map((s) => s.importMs)));
        const firstMs = round(median(samples.map((s) => s.firstMs)));
        console.log(`${fn.padEnd(13)} zip ${String(zipKb).padStart(5)} KiB   import ${importMs} ms   first invocation ${firstMs} ms`);
        Object.assign(figures, { [`${fn}_zip_kb`]: zipKb, [`${fn}_import_ms`]: importMs, [`${fn}_first_ms`]: firstMs });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await db.drop();
    if (packaged) rmSync(out, { recursive: true, force: true });
  }
  return { runs, ...figures };
};

export default coldstart;

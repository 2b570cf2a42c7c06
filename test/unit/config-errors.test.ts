// A bad setting is one clear line: loadConfig names every wrong variable (never its value), `npm
// start`'s entry prints that line and exits 1 without a stack trace, and a function's cold start
// fails with the same message for the platform to log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../shared/config.ts';
import { handler as reconcilerHandler } from '../../functions/reconciler/handler.ts';
import { throwawayDataDir } from '../support/databases.ts';

const root = join(import.meta.dirname, '..', '..');

const refusal = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
};

describe('configuration errors', () => {
  it('names the variable and what it must be, in one line, without its value', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'abc' }, 'invalid environment variable: PORT must be a whole number from 0 to 65535'],
      [{ PORT: '3000.5' }, 'invalid environment variable: PORT must be a whole number from 0 to 65535'],
      [{ FERRY_INVOKER: 'nope' }, 'invalid environment variable: FERRY_INVOKER must be one of local, process, aws-lambda, tencent-scf'],
      [
        { FERRY_RECONCILE_INTERVAL_MS: '5' },
        'invalid environment variable: FERRY_RECONCILE_INTERVAL_MS must be a whole number of at least 200',
      ],
      [{ FERRY_API_TOKEN: 'short-secret' }, 'invalid environment variable: FERRY_API_TOKEN must be at least 16 characters'],
      [
        { DATABASE_URL: 'db.example:5432' },
        'invalid environment variable: DATABASE_URL must be a PostgreSQL URL such as postgres://user@host:5432/db',
      ],
      [{ FERRY_INVOKER: 'process' }, 'invalid environment variable: FERRY_INVOKER "process" needs DATABASE_URL (PostgreSQL)'],
    ];
    for (const [env, message] of cases) {
      const err = refusal(env);
      assert.equal(err.message, message);
      assert.ok(!err.message.includes('\n'));
    }
    // A variable's value may be a secret (a token, a database password): it is not repeated.
    assert.ok(!refusal({ FERRY_API_TOKEN: 'short-secret' }).message.includes('short-secret'));
    assert.ok(!refusal({ DATABASE_URL: 'mysql://root:hunter2@db' }).message.includes('hunter2'));
  });

  it('names every wrong variable at once, and checks the secret key before anything is encrypted with it', () => {
    const err = refusal({ PORT: '-1', FERRY_EMF: 'yes', FERRY_SECRET_KEY: 'c2hvcnQ=' });
    assert.deepEqual(err.variables.sort(), ['FERRY_EMF', 'FERRY_SECRET_KEY', 'PORT']);
    assert.match(
      err.message,
      /^invalid environment variables: .*PORT must be .*FERRY_SECRET_KEY must be 32 bytes, as 64 hex characters or base64/,
    );
    assert.ok(!err.message.includes('c2hvcnQ='));
    assert.equal(loadConfig({ FERRY_SECRET_KEY: 'ab'.repeat(32) }).secretKey, 'ab'.repeat(32));
    assert.equal(loadConfig({ FERRY_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') }).port, 3000);
  });

  it('npm start with a bad variable: one line on stderr naming it, exit 1, no stack trace', async () => {
    const dir = await throwawayDataDir();
    try {
      for (const [variable, value] of [
        ['PORT', 'abc'],
        ['FERRY_INVOKER', 'nope'],
      ] as const) {
        const r = await runMain({ FERRY_DATA_DIR: dir.value, [variable]: value });
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stdout, '');
        const lines = r.stderr.trimEnd().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0]!, new RegExp(`^ferry: invalid environment variable: ${variable} must be `));
      }
    } finally {
      await dir.drop();
    }
  });

  it('npm start against a database that is not there: one line naming DATABASE_URL, exit 1', async () => {
    const r = await runMain({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/ferry' });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, 'ferry: cannot open the PostgreSQL store at DATABASE_URL (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1)\n');
  });

  it("a function's cold start fails with the same clear message (the platform logs it)", async () => {
    const saved = process.env.FERRY_INVOKER;
    process.env.FERRY_INVOKER = 'nope';
    try {
      await assert.rejects(reconcilerHandler(), {
        name: 'ConfigError',
        message: 'invalid environment variable: FERRY_INVOKER must be one of local, process, aws-lambda, tencent-scf',
      });
    } finally {
      if (saved === undefined) delete process.env.FERRY_INVOKER;
      else process.env.FERRY_INVOKER = saved;
    }
  });
});

function runMain(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'infra/local/main.ts')], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: '', FERRY_DATA_DIR: '', PORT: '0', FERRY_INVOKER: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// In a cloud function (Lambda or Tencent SCF) the embedded store and a generated key would vanish with
// the instance: a missing DATABASE_URL or FERRY_SECRET_KEY stops the start with one ConfigError line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../shared/config.ts';

const KEY = Buffer.alloc(32, 9).toString('base64');
const DB = 'postgres://ferry@db.internal:5432/ferry';

const refusal = (env: Record<string, string>): ConfigError => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
};

describe('configuration in a cloud function', () => {
  for (const [platform, marker] of [
    ['Lambda', { AWS_LAMBDA_FUNCTION_NAME: 'ferry-prod-api' }],
    ['Tencent SCF', { SCF_NAMESPACE: 'default' }],
  ] as const) {
    it(`${platform}: refuses to start without DATABASE_URL or FERRY_SECRET_KEY, naming what is missing in one line`, () => {
      const both = refusal({ ...marker });
      assert.deepEqual(both.variables, ['DATABASE_URL', 'FERRY_SECRET_KEY']);
      assert.equal(
        both.message,
        'DATABASE_URL and FERRY_SECRET_KEY must be set in a cloud function (the embedded store and a generated key do not persist)',
      );
      assert.deepEqual(refusal({ ...marker, FERRY_SECRET_KEY: KEY }).variables, ['DATABASE_URL']);
      const noKey = refusal({ ...marker, DATABASE_URL: DB, FERRY_SECRET_KEY: '' });
      assert.deepEqual(noKey.variables, ['FERRY_SECRET_KEY']);
      assert.ok(!noKey.message.includes('\n') && !noKey.message.includes(DB), noKey.message);
      const ok = loadConfig({ ...marker, DATABASE_URL: DB, FERRY_SECRET_KEY: KEY });
      assert.equal(ok.databaseUrl, DB);
      assert.equal(ok.secretKey, KEY);
    });
  }

  it('locally both stay optional: the embedded store and a generated key are the default', () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.secretKey, undefined);
  });
});

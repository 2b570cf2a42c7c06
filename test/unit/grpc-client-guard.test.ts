// The guard around the gRPC client (library.ts): an unhandled rejection raised inside
// rocketmq-client-nodejs (its timers and streams can leave some) is absorbed and counted instead of
// ending the replicator; any other unhandled rejection still ends the process, as Node does.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const child = join(import.meta.dirname, '..', 'support', 'grpc-guard-child.ts');
const start = (mode: string) => run(process.execPath, ['--import', 'tsx', child, mode], { timeout: 60_000 });

describe('gRPC client guard', () => {
  it("absorbs the client's own unhandled rejection and lives on", async () => {
    const { stdout } = await start('client');
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { alive: boolean; absorbed: { count: number; last: string } };
    assert.equal(report.alive, true);
    assert.equal(report.absorbed.count, 1);
    assert.match(report.absorbed.last, /not running/);
  });

  it('leaves any other unhandled rejection fatal', async () => {
    await assert.rejects(start('ours'), (err: { code?: number; stderr?: string; stdout?: string }) => {
      assert.notEqual(err.code, 0);
      assert.match(err.stderr ?? '', /a rejection of our own/);
      assert.doesNotMatch(err.stdout ?? '', /alive/);
      return true;
    });
  });
});

// How long an invocation may still run, from each platform's context: Lambda says what is left;
// SCF gives the function's timeout (time_limit_in_ms), so what is left counts from the invocation's start.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { invocationDeadline, msUntil } from '../../functions/runtime-context.ts';

describe('invocation deadline', () => {
  it('Lambda: now plus what getRemainingTimeInMillis reports', () => {
    assert.equal(invocationDeadline({ getRemainingTimeInMillis: () => 42_000 }, 1_000_000), 1_042_000);
  });

  it('SCF: the timeout counts from the handler entry, so time spent since is no longer left', () => {
    // An SCF context as the Node.js runtime passes it (time_limit_in_ms is the function's timeout).
    const scf = { time_limit_in_ms: 900_000, memory_limit_in_mb: 1024, request_id: 'r-1', function_name: 'ferry-replicator' };
    const entry = 5_000_000;
    const deadline = invocationDeadline(scf, entry)!;
    assert.equal(deadline, entry + 900_000);
    // 12 s of cold start (opening the store) later, 888 s are left — not the full timeout again.
    assert.equal(msUntil(deadline, entry + 12_000), 888_000);
    assert.equal(msUntil(deadline, entry + 901_000), 0);
  });

  it('prefers getRemainingTimeInMillis when an SCF runtime offers both', () => {
    assert.equal(invocationDeadline({ getRemainingTimeInMillis: () => 10_000, time_limit_in_ms: 900_000 }, 0), 10_000);
  });

  it('undefined without a usable context field (the caller falls back to its configured budget)', () => {
    assert.equal(invocationDeadline(undefined, 0), undefined);
    assert.equal(invocationDeadline({}, 0), undefined);
    assert.equal(invocationDeadline({ time_limit_in_ms: 0 }, 0), undefined);
  });
});

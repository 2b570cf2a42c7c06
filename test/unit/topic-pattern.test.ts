// Topic include/exclude patterns: anchored whole-name matching, validity, backtracking safety, limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTopicPatternsSafety,
  compileTopicPatterns,
  FilterPatternError,
  TOPIC_PATTERN_MAX_LENGTH,
  TOPIC_PATTERN_MAX_REPEAT,
  TOPIC_PATTERNS_MAX,
} from '../../shared/filter/index.ts';
import type { TopicPatternSpec } from '../../shared/filter/index.ts';

const fails = (spec: TopicPatternSpec, list: 'include' | 'exclude', index: number, reason: 'invalid' | 'unsafe') =>
  assert.throws(
    () => compileTopicPatterns(spec),
    (e: unknown) => e instanceof FilterPatternError && e.list === list && e.index === index && e.reason === reason,
  );

describe('compileTopicPatterns matching', () => {
  const matcher = compileTopicPatterns({ include: ['orders-.*', '^(a|b)-[0-9]+$', 'payments'], exclude: ['.*-dlq', '%RETRY%.*'] });
  const cases: [string, boolean][] = [
    ['orders-eu', true],
    ['orders-', true],
    ['orders-eu-dlq', false],
    ['xorders-eu', false], // anchored at the start...
    ['payments', true],
    ['payments-v2', false], // ...and at the end
    ['a-12', true],
    ['c-12', false],
    ['a-12x', false],
    ['%RETRY%orders-x', false],
  ];
  for (const [topic, expected] of cases) {
    it(`${topic} → ${expected}`, () => assert.equal(matcher(topic), expected));
  }

  it('takes everything with .* and nothing with no include pattern', () => {
    assert.equal(compileTopicPatterns({ include: ['.*'], exclude: [] })('anything_at-all'), true);
    assert.equal(compileTopicPatterns({ include: [], exclude: [] })('orders'), false);
  });

  it('accepts everyday patterns, lookarounds and alternations', () => {
    for (const p of [
      '[a-z]+(-[a-z]+)*',
      '.*-.*',
      '.*_.*_.*',
      '(?!rmq_sys_).*',
      '(?<=x)y|z',
      'CID_[A-Z]+_[a-z0-9-]+',
      '(orders|payments)-(eu|us)-\\d{1,4}',
    ]) {
      assert.doesNotThrow(() => compileTopicPatterns({ include: [p], exclude: [] }), p);
    }
  });

  it('finds them safe in the worker', async () => {
    await checkTopicPatternsSafety({ include: ['[a-z]+(-[a-z]+)*', '.*-.*', '(?!rmq_sys_).*', 'CID_[A-Z]+_[a-z0-9-]+'], exclude: [] });
  });
});

describe('compileTopicPatterns validation', () => {
  it('names the list and index of a pattern that does not compile', () => {
    fails({ include: ['ok', '[unclosed'], exclude: [] }, 'include', 1, 'invalid');
    fails({ include: ['.*'], exclude: ['(a'] }, 'exclude', 0, 'invalid');
    fails({ include: ['*'], exclude: [] }, 'include', 0, 'invalid');
    fails({ include: [''], exclude: [] }, 'include', 0, 'invalid');
  });

  it('refuses a pattern that would escape its anchoring', () => {
    // Wrapped, `a)|(b` would compile as ^(?:a)|(b)$ and match anywhere.
    fails({ include: ['a)|(b'], exclude: [] }, 'include', 0, 'invalid');
  });

  it('refuses patterns prone to catastrophic backtracking (checked in a worker thread)', async () => {
    for (const p of ['(a+)+', '(a|a)*', '(\\w|\\d)+', '(x+x+)+y', '([a-z]+.)+[A-Z]', '.*a.*b.*c.*d']) {
      // Syntax alone is fine: the analysis is the asynchronous step.
      assert.doesNotThrow(() => compileTopicPatterns({ include: ['.*'], exclude: [p] }));
      await assert.rejects(
        checkTopicPatternsSafety({ include: ['.*'], exclude: [p] }, Date.now() + 30_000),
        (e: unknown) => e instanceof FilterPatternError && e.list === 'exclude' && e.index === 0 && e.reason === 'unsafe',
        p,
      );
    }
  });

  it('says why', async () => {
    await assert.rejects(checkTopicPatternsSafety({ include: ['(a+)+'], exclude: [] }, Date.now() + 30_000), {
      message: 'topic include pattern #1 is unsafe: it can backtrack exponentially (catastrophically) on some names',
    });
  });

  it('gives one request one budget: patterns left when it runs out are refused by name, the event loop stays free', async () => {
    // Distinct hard patterns (a cached verdict would answer at once).
    // Each takes recheck its whole 2 s limit (measured: "unknown, timeout").
    const hard = Array.from({ length: 10 }, (_, i) => `([a-z0-9]{1,${20 + i}}-){1,20}[a-z0-9]{1,20}(_[a-z]{1,20}){1,20}`);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = Date.now();
    const err = await checkTopicPatternsSafety({ include: hard, exclude: [] }, Date.now() + 300).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = Date.now() - t0;
    clearInterval(timer);
    assert.ok(err instanceof FilterPatternError && err.reason === 'unsafe' && err.list === 'include', String(err));
    assert.match(err.message, /time allowed for one request/);
    // Answered near the budget (the worker is terminated past it), not after every pattern's own limit.
    assert.ok(elapsed < 5000, `${elapsed} ms`);
    // The main thread ran its timers meanwhile: the analysis did not block it.
    assert.ok(ticks >= 5, `${ticks} timer ticks in ${elapsed} ms`);
  });

  it(`refuses repetition counts over ${TOPIC_PATTERN_MAX_REPEAT}, naming the pattern`, () => {
    assert.doesNotThrow(() => compileTopicPatterns({ include: [`a{${TOPIC_PATTERN_MAX_REPEAT}}`, 'b{2,1000}', '[{]5000}'], exclude: [] }));
    fails({ include: ['x', 'a{1001}'], exclude: [] }, 'include', 1, 'invalid');
    fails({ include: ['.*'], exclude: ['(ab){2,5000}'] }, 'exclude', 0, 'invalid');
    fails({ include: ['a{99999,}'], exclude: [] }, 'include', 0, 'invalid');
    assert.doesNotThrow(() => compileTopicPatterns({ include: ['\\{5000}'], exclude: [] }));
  });

  it(`limits patterns to ${TOPIC_PATTERN_MAX_LENGTH} characters and ${TOPIC_PATTERNS_MAX} per list`, () => {
    assert.doesNotThrow(() => compileTopicPatterns({ include: ['x'.repeat(TOPIC_PATTERN_MAX_LENGTH)], exclude: [] }));
    fails({ include: ['x'.repeat(TOPIC_PATTERN_MAX_LENGTH + 1)], exclude: [] }, 'include', 0, 'invalid');
    assert.doesNotThrow(() => compileTopicPatterns({ include: Array(TOPIC_PATTERNS_MAX).fill('orders-.*'), exclude: [] }));
    fails({ include: ['.*'], exclude: Array(TOPIC_PATTERNS_MAX + 1).fill('x') }, 'exclude', TOPIC_PATTERNS_MAX, 'invalid');
  });
});

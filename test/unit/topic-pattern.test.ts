// Topic include/exclude patterns: anchored whole-name matching, validity, backtracking safety, limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileTopicPatterns, FilterPatternError, TOPIC_PATTERN_MAX_LENGTH, TOPIC_PATTERNS_MAX } from '../../shared/filter/index.ts';
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

  it('refuses patterns prone to catastrophic backtracking', () => {
    for (const p of ['(a+)+', '(a|a)*', '(\\w|\\d)+', '(x+x+)+y', '([a-z]+.)+[A-Z]', '.*a.*b.*c.*d']) {
      fails({ include: ['.*'], exclude: [p] }, 'exclude', 0, 'unsafe');
    }
  });

  it('says why', () => {
    assert.throws(() => compileTopicPatterns({ include: ['(a+)+'], exclude: [] }), {
      message: 'topic include pattern #1 is unsafe: it can backtrack exponentially (catastrophically) on some names',
    });
  });

  it(`limits patterns to ${TOPIC_PATTERN_MAX_LENGTH} characters and ${TOPIC_PATTERNS_MAX} per list`, () => {
    assert.doesNotThrow(() => compileTopicPatterns({ include: ['x'.repeat(TOPIC_PATTERN_MAX_LENGTH)], exclude: [] }));
    fails({ include: ['x'.repeat(TOPIC_PATTERN_MAX_LENGTH + 1)], exclude: [] }, 'include', 0, 'invalid');
    assert.doesNotThrow(() => compileTopicPatterns({ include: Array(TOPIC_PATTERNS_MAX).fill('orders-.*'), exclude: [] }));
    fails({ include: ['.*'], exclude: Array(TOPIC_PATTERNS_MAX + 1).fill('x') }, 'exclude', TOPIC_PATTERNS_MAX, 'invalid');
  });
});

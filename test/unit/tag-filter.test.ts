// RocketMQ TAG expressions: `*`/empty for all, otherwise exact tags joined by `||`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FilterSyntaxError, matchesTag, parseTagExpression } from '../../shared/filter/index.ts';

// [expression, tag of the message, passes]
const MATCHES: [string, string | undefined, boolean][] = [
  ['*', 'TagA', true],
  ['*', undefined, true],
  ['', 'TagA', true],
  ['', undefined, true],
  ['TagA', 'TagA', true],
  ['TagA', 'taga', false],
  ['TagA', 'TagB', false],
  ['TagA', undefined, false],
  ['TagA || TagB', 'TagB', true],
  ['TagA||TagB||TagC', 'TagC', true],
  ['  TagA  ||\tTagB ', 'TagA', true],
  ['TagA || TagB', 'TagA || TagB', false],
  ['Tag A', 'Tag A', true],
  ['标签', '标签', true],
];

// [expression, column of the error]
const INVALID: [string, number][] = [
  ['a || || b', 6],
  ['a ||', 5],
  ['|| a', 1],
  ['||', 1],
  [' ', 2],
  [' * ', 2],
  ['a || *', 6],
  ['a | b', 3],
  ['a|||b', 4],
];

describe('parseTagExpression + matchesTag', () => {
  for (const [expression, tag, expected] of MATCHES) {
    it(`${JSON.stringify(expression)} with tag ${JSON.stringify(tag)} → ${expected}`, () => {
      assert.equal(matchesTag(parseTagExpression(expression), tag), expected);
    });
  }

  it('gives the tags trimmed and deduplicated', () => {
    const expr = parseTagExpression(' a || b || a ');
    assert.equal(expr.kind, 'tags');
    assert.deepEqual(expr.kind === 'tags' ? [...expr.tags] : [], ['a', 'b']);
    assert.deepEqual(parseTagExpression('*'), { kind: 'all' });
  });
});

describe('parseTagExpression errors', () => {
  for (const [expression, column] of INVALID) {
    it(`${JSON.stringify(expression)} fails at column ${column}`, () => {
      assert.throws(
        () => parseTagExpression(expression),
        (e: unknown) => e instanceof FilterSyntaxError && e.language === 'TAG' && e.column === column,
      );
    });
  }

  it('says what is wrong', () => {
    assert.throws(() => parseTagExpression('a || || b'), {
      message: "TAG filter invalid at column 6: expected a tag between '||' separators, found '||'",
    });
  });
});

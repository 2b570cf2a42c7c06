// RocketMQ SQL92 filter: grammar, the broker's evaluation semantics (checked against a real 5.3.3
// broker in test/integration/sql92-broker.test.ts), errors with columns, and hostile input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  evaluateSql92,
  FilterSyntaxError,
  parseSql92,
  SQL92_MAX_LENGTH,
  sql92NeedsRocketMQ5,
  validateSql92,
} from '../../shared/filter/index.ts';

type Props = Record<string, string>;
const matches = (expression: string, props: Props) => evaluateSql92(parseSql92(expression), props);

// [expression, properties, passes]
const EVALUATIONS: [string, Props, boolean][] = [
  // equality on strings, and null (missing property) never passing a comparison
  ["a = 'x'", { a: 'x' }, true],
  ["a = 'x'", { a: 'y' }, false],
  ["a = 'x'", {}, false],
  ["a <> 'x'", { a: 'y' }, true],
  ["a <> 'x'", {}, false],
  // RocketMQ's equality is asymmetric: a literal on the left against null is FALSE, not unknown
  ["'x' <> a", {}, true],
  ["NOT ('x' = a)", {}, true],
  ["NOT (a = 'x')", {}, false],
  ['a = b', {}, true],
  ["q = 'it''s'", { q: "it's" }, true],
  ["e = ''", { e: '' }, true],
  ['A = 1', { a: '1' }, false],

  // a number literal converts the property with the literal's Java type
  ['a = 5', { a: '5' }, true],
  ['a = 5', { a: '+5' }, true],
  ['a = 5', { a: '\u0665' }, true], // Arabic-Indic five: Integer.valueOf takes any Unicode digit
  ['a = 5', { a: '5.0' }, false], // Integer.valueOf("5.0") throws
  ['NOT (a = 5)', { a: '5.0' }, false], // ... and a throw fails the whole filter
  ['a = 5', { a: ' 5' }, false],
  ['a = 5.0', { a: '5' }, true],
  ['a = 5.0', { a: ' 5 ' }, true], // Double.valueOf trims
  ['a = 5.0', { a: '5d' }, true],
  ['a = 5.0', { a: '0x1.4p2' }, true],
  ['a = 1e3', { a: '1000' }, true],
  ['a = .5', { a: '0.5' }, true],
  ['a = 5.', { a: '5' }, true],
  ['a = 1L', { a: '1' }, true],
  ['a = 5', { a: '3000000000' }, false], // beyond int: throws
  ['NOT (a = 5)', { a: '3000000000' }, false],
  ['a = 3000000000', { a: '3000000000' }, true],
  ['NOT (a = 3000000000)', { a: '5' }, true], // a long literal parses the property as long
  ['a = -4', { a: '-4' }, true],
  ['a > -2147483649', { a: '0' }, true],
  ['a > +5', { a: '6' }, true],
  ['-a = 4', { a: '-4' }, false], // minus on a string is unknown
  ['a > 10', { a: '11' }, true],
  ['a > 10', { a: '9' }, false],
  ['NOT (a > 10)', { a: '9' }, true],
  ['a > 10', { a: 'abc' }, false],
  ['NOT (a > 10)', { a: 'abc' }, false],
  ['a > 1.0', { a: 'NaN' }, true], // Double.compare puts NaN above everything
  ['a >= 1 AND a <= 5', { a: '5' }, true],
  ['a < 3', {}, false],
  // ordering two properties parses both as doubles
  ['a > b', { a: '10', b: '9' }, true],
  ['a > b', { a: ' 10', b: '9.5' }, true],
  ['a > b', { a: 'b', b: 'a' }, false],
  ['NOT (a > b)', { a: 'b', b: 'a' }, false],

  // an evaluation error anywhere sinks the message, even under OR TRUE; short-circuits avoid it
  ['a > 2 OR TRUE', { a: 'x' }, false],
  ['a > 2 OR TRUE', {}, true],
  ['TRUE OR a > 2', { a: 'x' }, true],
  ['FALSE AND a > 2', { a: 'x' }, false],
  ['NOT (FALSE AND a > 2)', { a: 'x' }, true],

  // booleans
  ['TRUE', {}, true],
  ['FALSE', {}, false],
  ['NULL', {}, false],
  ['NOT FALSE', {}, true],
  ['NOT NULL', {}, false],
  ['NULL IS NULL', {}, true],
  ['a = TRUE', { a: 'tRuE' }, true],
  ['a = TRUE', { a: 'yes' }, false],
  ['a = FALSE', { a: 'yes' }, true], // Boolean.valueOf: anything but "true" is false
  ['a', { a: 'true' }, false], // a property alone is a string, never TRUE
  ['NOT a', { a: 'true' }, true],
  ['(a = 1) = TRUE', { a: '1' }, true],
  ["(a = 'x') = 'y'", { a: 'x' }, false], // Boolean vs String throws in Java
  ['a IS NULL = TRUE', {}, true],

  // NOT binds tighter than comparisons: NOT a = 'x' is (NOT a) = 'x', which never passes
  ["NOT a = 'x'", { a: 'x' }, false],
  ["NOT a = 'x'", { a: 'y' }, false],
  ["NOT a = 'x'", {}, false],
  ["NOT (a = 'x')", { a: 'y' }, true],

  // IS NULL
  ['a IS NULL', {}, true],
  ['a IS NULL', { a: 'x' }, false],
  ['a IS NOT NULL', { a: 'x' }, true],
  ['a is not null', {}, false],
  ['constructor IS NULL', {}, true], // own properties only
  ["toString = 'x'", {}, false],

  // IN
  ["a IN ('x', 'y')", { a: 'y' }, true],
  ["a IN ('x', 'y')", { a: 'z' }, false],
  ["a IN ('x', 'y')", {}, false],
  ["a IN ('1', '2', '3', '4', '5', '6')", { a: '6' }, true],
  ["a NOT IN ('x')", { a: 'z' }, true],
  ["a NOT IN ('x')", {}, false],
  ["NOT (a IN ('x'))", {}, false],
  ["a IN ('1')", { a: '1' }, true],

  // BETWEEN is (>= AND <=), NOT BETWEEN is (< OR >)
  ['a BETWEEN 1 AND 5', { a: '3' }, true],
  ['a BETWEEN 1 AND 5', { a: '5' }, true],
  ['a BETWEEN 1 AND 5', { a: '6' }, false],
  ['a BETWEEN 1 AND 5', {}, false],
  ['a BETWEEN 1 AND 5', { a: 'x' }, false],
  ['a NOT BETWEEN 1 AND 5', { a: '0' }, true],
  ['a NOT BETWEEN 1 AND 5', { a: '3' }, false],
  ['a NOT BETWEEN 1 AND 5', {}, false],
  ['a NOT BETWEEN 1 AND 5', { a: 'x' }, false],
  ['a BETWEEN -5 AND -1', { a: '-3' }, true],
  ['a BETWEEN -1 AND -5', { a: '-3' }, false], // accepted: negative bounds aren't literals to RocketMQ
  ['a BETWEEN 1 AND 2.5', { a: '2' }, true],
  ['a BETWEEN 1 AND 2.5', { a: '2.5' }, false], // the int bound 1 parses "2.5" with Integer.valueOf: throws
  ['a BETWEEN 1.0 AND 2.5', { a: '2.5' }, true],
  ['a BETWEEN 2147483647 AND 3000000000', { a: '2147483648' }, false], // int bound parses as int: throws
  ['a BETWEEN 1 AND 5 AND b = 1', { a: '2', b: '1' }, true],

  // CONTAINS / STARTSWITH / ENDSWITH: FALSE (not unknown) for missing, so NOT (...) passes
  ["a CONTAINS 'b'", { a: 'abc' }, true],
  ["a CONTAINS 'B'", { a: 'abc' }, false],
  ["a NOT CONTAINS 'b'", { a: 'xyz' }, true],
  ["a NOT CONTAINS 'b'", {}, false],
  ["NOT (a CONTAINS 'b')", {}, true],
  ["a STARTSWITH 'ab'", { a: 'abc' }, true],
  ["a NOT STARTSWITH 'ab'", { a: 'abc' }, false],
  ["a ENDSWITH 'bc'", { a: 'abc' }, true],
  ["a NOT ENDSWITH 'x'", { a: 'abc' }, true],
  ["a CONTAINS ''", { a: 'abc' }, false],
  ["a NOT CONTAINS ''", { a: 'abc' }, false],
  ["'abc' CONTAINS 'b'", {}, true],

  // precedence: AND before OR, parentheses override
  ['a = 1 OR b = 1 AND c = 1', { a: '1' }, true],
  ['a = 1 OR b = 1 AND c = 1', { b: '1' }, false],
  ['a = 1 OR b = 1 AND c = 1', { b: '1', c: '1' }, true],
  ['(a = 1 OR b = 1) AND c = 1', { a: '1' }, false],
  ['a = 1 AND (b = 1 OR c = 1)', { a: '1', c: '1' }, true],
  ['NOT (a = 1 OR b = 1)', { a: '2', b: '2' }, true],
  ['NOT (a = 1 OR b = 1)', { a: '2' }, false], // NOT unknown is unknown

  // lexical details: case-insensitive keywords, comments, the grammar's blanks, names
  ['a = 1 and b = 2 Or c iS nOt NuLl', { c: 'x' }, true],
  ['a = 1 /* note */ AND b = 2', { a: '1', b: '2' }, true],
  ['a = 1 -- note\r\nAND b = 2', { a: '1', b: '3' }, false],
  ['a = 1 -- trailing note', { a: '1' }, true],
  ['\ta\n=\r1\f', { a: '1' }, true],
  ["$a_1 = 'x'", { $a_1: 'x' }, true],
  ["TAGS = 'TagA' AND KEYS IS NULL", { TAGS: 'TagA' }, true],
  ['notable = 1', { notable: '1' }, true],
];

// [expression, column of the error]
const INVALID: [string, number][] = [
  ['', 1],
  ['   ', 4],
  ['a =', 4],
  ['= 1', 1],
  ['a = NULL', 5],
  ['NULL = a', 1],
  ['a <> NULL', 6],
  ["a > 'x'", 5],
  ["'x' < a", 1],
  ['a > TRUE', 5],
  ['a > (b = 1)', 6],
  ['a BETWEEN 5 AND 3', 11],
  ["a BETWEEN 'a' AND 'b'", 11],
  ['a BETWEEN 1 5', 13],
  ['a IN ()', 7],
  ['a IN (1)', 7],
  ["a IN ('x',)", 11],
  ["a IN 'x'", 6],
  ["a IN ('x' 'y')", 11],
  ["'x' IN ('x')", 1],
  ["NOT a IN ('x')", 1],
  ['a > 0.0', 5],
  ['a > 1e400', 5],
  ['a = 9223372036854775808', 5],
  ['TRUE = 1', 8],
  ['NOT a > 1', 1],
  ['a.b = 1', 2],
  ['a != 1', 3],
  ['a == 1', 4],
  ["a = 'x", 5],
  ['a = 1 /* x', 7],
  ['(a = 1', 7],
  ['a = 1)', 6],
  ['a = 1 b = 2', 7],
  ['a = 007', 6],
  ['a IS 1', 6],
  ['a IS NOT 1', 10],
  ['a NOT = 1', 7],
  ['a CONTAINS b', 12],
  ['a CONTAINS 1', 12],
  ['5', 1],
  ["'x'", 1],
  ['-a', 1],
  ['a = 1 AND', 10],
  ['AND a = 1', 1],
  ['a = 1 OR OR b = 1', 10],
  ['a = 1 AND 5', 11],
  ['a \uff1d 1', 3],
  ['a\u00a0= 1', 2],
  ['a\v= 1', 2],
  ['a > --5', 8],
];

describe('parseSql92 + evaluateSql92', () => {
  for (const [expression, props, expected] of EVALUATIONS) {
    it(`${JSON.stringify(expression)} over ${JSON.stringify(props)} → ${expected}`, () => {
      assert.equal(matches(expression, props), expected);
    });
  }

  it('tells which filters only RocketMQ 5 understands', () => {
    for (const e of [
      "s CONTAINS 'o'",
      "a = 1 AND (b = 2 OR NOT (s NOT ENDSWITH 'x'))",
      "(s STARTSWITH 'a') = TRUE",
      "a BETWEEN 1 AND -(s CONTAINS 'x')",
    ]) {
      assert.equal(sql92NeedsRocketMQ5(parseSql92(e)), true, e);
    }
    for (const e of ["a = 1 AND (b = 2 OR NOT (s IN ('x')))", 'a IS NULL', "s = 'CONTAINS'", 'TRUE']) {
      assert.equal(sql92NeedsRocketMQ5(parseSql92(e)), false, e);
    }
  });

  it('keeps the source text', () => {
    assert.equal(parseSql92("a = 'x'").source, "a = 'x'");
  });

  it('evaluates a long flat OR chain', () => {
    const expression = Array.from({ length: 400 }, (_, i) => `a=${i}`).join(' OR ');
    const expr = parseSql92(expression);
    assert.equal(evaluateSql92(expr, { a: '399' }), true);
    assert.equal(evaluateSql92(expr, { a: '400' }), false);
  });
});

describe('parseSql92 errors', () => {
  for (const [expression, column] of INVALID) {
    it(`${JSON.stringify(expression)} fails at column ${column}`, () => {
      assert.throws(
        () => parseSql92(expression),
        (e: unknown) => e instanceof FilterSyntaxError && e.column === column && e.language === 'SQL92',
      );
    });
  }

  it('explains what it expected and found, with the column', () => {
    const err = (() => {
      try {
        parseSql92('a = 1 AND b =');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof FilterSyntaxError);
    assert.equal(err.message, "SQL92 filter invalid at column 14: expected a value after '=', found end of input");
    assert.equal(err.column, 14);
    assert.equal(err.expected, "a value after '='");
    assert.equal(err.found, 'end of input');
  });

  it('validateSql92 reports the same without throwing', () => {
    assert.deepEqual(validateSql92("a = 'x' OR b IS NULL"), { ok: true });
    assert.deepEqual(validateSql92('a = '), {
      ok: false,
      column: 5,
      message: "SQL92 filter invalid at column 5: expected a value after '=', found end of input",
    });
  });
});

describe('parseSql92 on hostile input', () => {
  const rejects = (expression: string, column?: number) =>
    assert.throws(
      () => parseSql92(expression),
      (e: unknown) => e instanceof FilterSyntaxError && (column === undefined || e.column === column),
    );

  it(`takes ${SQL92_MAX_LENGTH} characters and refuses one more`, () => {
    const at = `a = '${'x'.repeat(SQL92_MAX_LENGTH - 6)}'`;
    assert.equal(at.length, SQL92_MAX_LENGTH);
    assert.equal(matches(at, { a: 'x'.repeat(SQL92_MAX_LENGTH - 6) }), true);
    rejects(`${at} `, SQL92_MAX_LENGTH + 1);
    rejects('a'.repeat(1_000_000), SQL92_MAX_LENGTH + 1);
  });

  it('refuses deep nesting with a syntax error, not a stack overflow', () => {
    assert.equal(matches(`${'('.repeat(64)}a = 1${')'.repeat(64)}`, { a: '1' }), true);
    rejects(`${'('.repeat(65)}a = 1${')'.repeat(65)}`, 65);
    rejects(`${'('.repeat(2000)}a = 1${')'.repeat(2000)}`, 65);
    rejects(`${'NOT '.repeat(1000)}a`);
    rejects(`${'- '.repeat(1000)}5 = a`);
    rejects(`${'+ '.repeat(1000)}5 = a`);
    rejects(`a${'=a'.repeat(2000)}`);
    rejects(`a${' IS NULL'.repeat(500)}`);
    rejects(`a${" CONTAINS 'x'".repeat(300)}`);
  });

  it('throws nothing but FilterSyntaxError for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        try {
          parseSql92(text);
        } catch (e) {
          if (!(e instanceof FilterSyntaxError)) throw e;
          assert.ok(e.column >= 1 && e.column <= text.length + 1);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Token soup reaches deep into the grammar, where random characters rarely get.
  const TOKENS = [
    'a',
    'b',
    'TAGS',
    '=',
    '<>',
    '>',
    '>=',
    '<',
    '<=',
    '(',
    ')',
    ',',
    '+',
    '-',
    'NOT',
    'AND',
    'OR',
    'BETWEEN',
    'IN',
    'IS',
    'NULL',
    'TRUE',
    'FALSE',
    'CONTAINS',
    'STARTSWITH',
    'ENDSWITH',
    "'x'",
    "'1'",
    "''",
    '1',
    '0',
    '2147483648',
    '1.5',
    '1e3',
    '0.0',
    '9223372036854775808',
    '--',
    '/**/',
    '.',
  ];
  const VALUES = ['1', '1.0', 'x', 'true', ' 2 ', '3000000000', 'NaN', '', '-0', '\u0661'];
  const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }).map((ts) => ts.join(' '));
  const props = fc.dictionary(fc.constantFrom('a', 'b', 'TAGS'), fc.constantFrom(...VALUES));

  it('parses or refuses token soup cleanly, and evaluates whatever it parses without throwing', () => {
    let parsed = 0;
    fc.assert(
      fc.property(soup, props, (text, properties) => {
        let expr: ReturnType<typeof parseSql92>;
        try {
          expr = parseSql92(text);
        } catch (e) {
          if (!(e instanceof FilterSyntaxError)) throw e;
          assert.equal(validateSql92(text).ok, false);
          return;
        }
        parsed++;
        assert.equal(typeof evaluateSql92(expr, properties), 'boolean');
        assert.deepEqual(validateSql92(text), { ok: true });
      }),
      // A fixed seed: how many soups happen to parse varies a lot between seeds.
      { numRuns: 5000, seed: 20261125 },
    );
    assert.ok(parsed > 50, `only ${parsed} soups parsed: the generator no longer exercises evaluation`);
  });
});

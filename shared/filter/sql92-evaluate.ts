// Evaluates a parsed SQL92 filter the way a RocketMQ broker does (ComparisonExpression,
// LogicExpression, UnaryExpression with CONVERT_STRING_EXPRESSIONS on, as SelectorParser sets it):
// - properties are strings; a missing one is null (unknown), and unknown propagates through
//   comparisons, NOT, AND and OR with SQL's three-valued logic;
// - comparing a string with a number converts the STRING with the number literal's Java type
//   (Integer.valueOf, Long.valueOf or Double.valueOf); > >= < <= between two strings parses both
//   as doubles;
// - where Java throws (text that is no number of that type, a boolean against a string), the
//   broker logs and drops the message, whatever the rest of the expression says. We model that as
//   a fault that makes the whole filter false.
import {
  compareDoubles,
  isJavaNumber,
  javaEquals,
  javaLong,
  negateJavaNumber,
  parseJavaDoubleValue,
  parseJavaIntValue,
  parseJavaLongValue,
  toJavaDouble,
  type JavaDouble,
  type JavaValue,
} from './java-value.ts';
import type { ComparisonNode, Sql92Node } from './sql92-ast.ts';

export type Properties = Readonly<Record<string, string>>;

/** Java threw while evaluating; the broker answers "no match" for the message. */
export class EvaluationFault extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'EvaluationFault';
  }
}

type Truth = boolean | null;

export function evaluateNode(node: Sql92Node, props: Properties): JavaValue {
  switch (node.kind) {
    case 'property':
      // Own keys only: a property named `constructor` must not find Object.prototype's.
      return Object.hasOwn(props, node.name) ? (props[node.name] ?? null) : null;
    case 'constant':
    case 'boolean-constant':
      return node.value;
    case 'negate': {
      const v = evaluateNode(node.operand, props);
      return isJavaNumber(v) ? negateJavaNumber(v) : null;
    }
    case 'not':
      return not(truth(node.operand, props));
    case 'boolean-cast': {
      const v = evaluateNode(node.operand, props);
      return v === null ? null : typeof v === 'boolean' ? v : false;
    }
    case 'and': {
      let acc = truth(node.operands[0]!, props);
      for (let i = 1; i < node.operands.length; i++) acc = and(acc, node.operands[i]!, props);
      return acc;
    }
    case 'or': {
      let acc = truth(node.operands[0]!, props);
      for (let i = 1; i < node.operands.length; i++) acc = or(acc, node.operands[i]!, props);
      return acc;
    }
    case 'comparison':
      return compare(node, props);
    case 'is-null': {
      const isNull = evaluateNode(node.operand, props) === null;
      return node.negated ? !isNull : isNull;
    }
    case 'between': {
      // createBetween is (x >= low AND x <= high); createNotBetween is (x < low OR x > high).
      if (!node.negated) {
        const lowOk = ordered('>=', node.operand, node.low, props);
        return lowOk === false ? false : andValues(lowOk, ordered('<=', node.operand, node.high, props));
      }
      const below = ordered('<', node.operand, node.low, props);
      return below === true ? true : orValues(below, ordered('>', node.operand, node.high, props));
    }
    case 'in': {
      const v = evaluateNode(node.property, props);
      if (typeof v !== 'string') return null;
      return node.values.includes(v) !== node.negated;
    }
    case 'string-match': {
      // Unlike comparisons these say FALSE, not unknown, for a missing property, for a
      // non-string and for an empty search text, NOT variants included.
      if (node.search === '') return false;
      const v = evaluateNode(node.operand, props);
      if (typeof v !== 'string') return false;
      const hit =
        node.operator === 'CONTAINS'
          ? v.includes(node.search)
          : node.operator === 'STARTSWITH'
            ? v.startsWith(node.search)
            : v.endsWith(node.search);
      return hit !== node.negated;
    }
  }
}

function truth(node: Sql92Node, props: Properties): Truth {
  const v = evaluateNode(node, props);
  if (v === null || typeof v === 'boolean') return v;
  // The parser only puts conditions here; Java would fail its (Boolean) cast.
  throw new EvaluationFault('a condition evaluated to a value');
}

const not = (v: Truth): Truth => (v === null ? null : !v);

// LogicExpression.createAND / createOR: the right side is skipped once the left decides.
function and(left: Truth, right: Sql92Node, props: Properties): Truth {
  return left === false ? false : andValues(left, truth(right, props));
}
function or(left: Truth, right: Sql92Node, props: Properties): Truth {
  return left === true ? true : orValues(left, truth(right, props));
}
function andValues(left: Truth, right: Truth): Truth {
  if (right === false) return false;
  return left === null || right === null ? null : true;
}
function orValues(left: Truth, right: Truth): Truth {
  if (right === true) return true;
  return left === null || right === null ? null : false;
}

function compare(node: ComparisonNode, props: Properties): Truth {
  switch (node.operator) {
    case '=':
      return equal(node.left, node.right, props);
    case '<>':
      return not(equal(node.left, node.right, props));
    default:
      return ordered(node.operator, node.left, node.right, props);
  }
}

/** The anonymous class of ComparisonExpression.doCreateEqual, null asymmetry included. */
function equal(left: Sql92Node, right: Sql92Node, props: Properties): Truth {
  const lv = evaluateNode(left, props);
  const rv = evaluateNode(right, props);
  if ((lv === null) !== (rv === null)) return lv === null ? null : false;
  if (lv === null || rv === null) return true;
  if (javaEquals(lv, rv)) return true;
  return compareJava(lv, rv) === 0;
}

/** ComparisonExpression.evaluate for > >= < <=: unknown if either side is. */
function ordered(op: '>' | '>=' | '<' | '<=', left: Sql92Node, right: Sql92Node, props: Properties): Truth {
  const lv = evaluateNode(left, props);
  if (lv === null) return null;
  const rv = evaluateNode(right, props);
  if (rv === null) return null;
  const c = typeof lv === 'string' && typeof rv === 'string' ? compareDoubles(doubleOf(lv).value, doubleOf(rv).value) : compareJava(lv, rv);
  switch (op) {
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
  }
}

function doubleOf(text: string): JavaDouble {
  const d = parseJavaDoubleValue(text);
  if (!d) throw new EvaluationFault(`'${text}' is not a number`);
  return d;
}

function parsedAs<T>(parsed: T | undefined, text: string, type: string): T {
  if (parsed === undefined) throw new EvaluationFault(`'${text}' is not a Java ${type}`);
  return parsed;
}

const sign = (n: number | bigint): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/**
 * ComparisonExpression.__compare with string conversion on. Values of different types are brought
 * to a common one; pairs it has no rule for compare as "less" (-1), which makes `=` false.
 */
function compareJava(lv: Exclude<JavaValue, null>, rv: Exclude<JavaValue, null>): number {
  if (typeof lv === 'boolean') {
    if (typeof rv === 'boolean') return lv === rv ? 0 : lv ? 1 : -1;
    // Java casts the Boolean itself to String here and fails.
    if (typeof rv === 'string') throw new EvaluationFault('a boolean compared with a string');
    return -1;
  }
  if (typeof lv === 'string') {
    if (typeof rv === 'string') return lv < rv ? -1 : lv > rv ? 1 : 0;
    if (typeof rv === 'boolean') return compareJava(lv.length === 4 && lv.toLowerCase() === 'true', rv);
    switch (rv.type) {
      case 'int':
        return compareJava(parsedAs(parseJavaIntValue(lv), lv, 'int'), rv);
      case 'long':
        return compareJava(parsedAs(parseJavaLongValue(lv), lv, 'long'), rv);
      case 'double':
        return compareJava(doubleOf(lv), rv);
    }
  }
  if (typeof rv === 'boolean') return -1;
  if (typeof rv === 'string') {
    switch (lv.type) {
      case 'int':
        return compareJava(lv, parsedAs(parseJavaIntValue(rv), rv, 'int'));
      case 'long':
        return compareJava(lv, parsedAs(parseJavaLongValue(rv), rv, 'long'));
      case 'double':
        return compareJava(lv, doubleOf(rv));
    }
  }
  if (lv.type === 'double' || rv.type === 'double') return compareDoubles(toJavaDouble(lv).value, toJavaDouble(rv).value);
  if (lv.type === 'int' && rv.type === 'int') return sign(lv.value - rv.value);
  const a = lv.type === 'long' ? lv : javaLong(BigInt(lv.value));
  const b = rv.type === 'long' ? rv : javaLong(BigInt(rv.value));
  return sign(a.value - b.value);
}

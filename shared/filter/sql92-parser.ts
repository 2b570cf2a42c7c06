// Recursive-descent parser for RocketMQ's SQL92 filter, following the rule structure and
// precedence of SelectorParser.jj (OR < AND < = <> IS < > >= < <= BETWEEN IN CONTAINS... < unary
// + - NOT), plus the checks RocketMQ makes while building its expression tree, so that what we
// accept is what a broker accepts. Two deliberate differences, both refusing text a broker would
// take: anything left over after the expression is an error (Java silently ignores it, so
// `a = 1 b = 2` would filter on `a = 1` alone), and nesting is capped (Java's limit is its stack).
import { FilterSyntaxError } from './errors.ts';
import { compareDoubles, describeJavaValue, javaDouble, javaInt, javaLong, type JavaNumber } from './java-value.ts';
import { quoteForMessage, Sql92Lexer, type Sql92Keyword, type Sql92Operator, type Token } from './sql92-lexer.ts';
import { isBooleanNode, type ComparisonOperator, type Sql92Node, type StringMatchOperator } from './sql92-ast.ts';

export interface Sql92Limits {
  /** Parentheses and prefix operators (NOT, -, +) open at once. */
  maxNesting: number;
  /** Depth of the resulting tree, which left-leaning chains like `a = b = c` also grow. */
  maxTreeDepth: number;
}

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MAX = 2n ** 63n - 1n;

const RELATIONAL: ReadonlySet<Sql92Operator> = new Set(['>', '>=', '<', '<=']);
const STRING_MATCH: ReadonlySet<Sql92Keyword> = new Set(['CONTAINS', 'STARTSWITH', 'ENDSWITH']);

interface Span {
  start: number;
  end: number;
}

export function parseSql92Tree(source: string, limits: Sql92Limits): Sql92Node {
  return new Sql92Parser(source, limits).parse();
}

class Sql92Parser {
  private readonly lexer: Sql92Lexer;
  private token: Token;
  /** End offset of the last consumed token. */
  private consumedEnd = 0;
  private nesting = 0;
  private readonly spans = new WeakMap<Sql92Node, Span>();
  private readonly depths = new WeakMap<Sql92Node, number>();

  constructor(
    private readonly source: string,
    private readonly limits: Sql92Limits,
  ) {
    this.lexer = new Sql92Lexer(source);
    this.token = this.lexer.next();
  }

  parse(): Sql92Node {
    const root = this.asCondition(this.orExpression('a condition'));
    if (this.token.kind !== 'eof') this.fail(this.token, 'AND, OR or the end of the filter');
    return root;
  }

  // ---- grammar rules -------------------------------------------------------------------------

  private orExpression(expected: string): Sql92Node {
    return this.logicChain(
      'OR',
      () => this.andExpression(expected),
      (e) => this.andExpression(e),
    );
  }

  private andExpression(expected: string): Sql92Node {
    return this.logicChain(
      'AND',
      () => this.equalityExpression(expected),
      (e) => this.equalityExpression(e),
    );
  }

  /** `x OP y OP z`: one node with all operands; a single operand is returned as it is (it may be a value in parentheses). */
  private logicChain(keyword: 'AND' | 'OR', first: () => Sql92Node, next: (expected: string) => Sql92Node): Sql92Node {
    const start = this.token.start;
    const head = first();
    if (!this.atKeyword(keyword)) return head;
    const operands = [this.asCondition(head)];
    while (this.atKeyword(keyword)) {
      const op = this.advance();
      operands.push(this.asCondition(next(`a condition after ${quoteForMessage(op.text)}`)));
    }
    return this.node({ kind: keyword === 'AND' ? 'and' : 'or', operands }, start, operands);
  }

  private equalityExpression(expected: string): Sql92Node {
    const start = this.token.start;
    let left = this.comparisonExpression(expected);
    for (;;) {
      const t = this.token;
      if (t.kind === 'operator' && (t.operator === '=' || t.operator === '<>')) {
        this.advance();
        const right = this.comparisonExpression(`a value after ${quoteForMessage(t.text)}`);
        this.checkEqualityOperands(left, right, t.operator);
        left = this.node({ kind: 'comparison', operator: t.operator, left, right }, start, [left, right]);
      } else if (t.kind === 'keyword' && t.keyword === 'IS') {
        this.advance();
        let negated = false;
        if (this.atKeyword('NOT')) {
          this.advance();
          negated = true;
        }
        if (!this.atKeyword('NULL')) this.fail(this.token, negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
        this.advance();
        left = this.node({ kind: 'is-null', negated, operand: left }, start, [left]);
      } else {
        return left;
      }
    }
  }

  private comparisonExpression(expected: string): Sql92Node {
    const start = this.token.start;
    let left = this.unaryExpression(expected);
    for (;;) {
      const t = this.token;
      if (t.kind === 'operator' && RELATIONAL.has(t.operator)) {
        this.advance();
        const right = this.unaryExpression(`a value after ${quoteForMessage(t.text)}`);
        this.checkOrderedOperand(left, t.text);
        this.checkOrderedOperand(right, t.text);
        left = this.node({ kind: 'comparison', operator: t.operator as ComparisonOperator, left, right }, start, [left, right]);
        continue;
      }
      if (t.kind !== 'keyword') return left;
      let negated = false;
      let op: Token = t;
      if (t.keyword === 'NOT') {
        this.advance();
        negated = true;
        op = this.token;
        const ok = op.kind === 'keyword' && (STRING_MATCH.has(op.keyword) || op.keyword === 'BETWEEN' || op.keyword === 'IN');
        if (!ok) this.fail(op, 'CONTAINS, STARTSWITH, ENDSWITH, BETWEEN or IN after NOT');
      }
      if (op.kind !== 'keyword') return left;
      if (STRING_MATCH.has(op.keyword)) {
        this.advance();
        const search = this.expectString(`a string in single quotes after ${op.keyword}`);
        left = this.node({ kind: 'string-match', operator: op.keyword as StringMatchOperator, negated, operand: left, search }, start, [
          left,
        ]);
      } else if (op.keyword === 'BETWEEN') {
        this.advance();
        const low = this.unaryExpression('a value after BETWEEN');
        if (!this.atKeyword('AND')) this.fail(this.token, 'AND between the two bounds of BETWEEN');
        this.advance();
        const high = this.unaryExpression("a value after BETWEEN's AND");
        this.checkBetween(left, low, high, negated);
        left = this.node({ kind: 'between', negated, operand: left, low, high }, start, [left, low, high]);
      } else if (op.keyword === 'IN') {
        this.advance();
        const values = this.inList();
        if (left.kind !== 'property') this.failAt(left, `a property name before ${negated ? 'NOT IN' : 'IN'}`);
        left = this.node({ kind: 'in', negated, property: left, values }, start, [left]);
      } else {
        return left;
      }
    }
  }

  private unaryExpression(expected: string): Sql92Node {
    const t = this.token;
    if (t.kind === 'operator' && (t.operator === '+' || t.operator === '-')) {
      this.enter(t);
      this.advance();
      const operand = this.unaryExpression(`a value after ${quoteForMessage(t.text)}`);
      this.nesting--;
      // Unary plus changes nothing; minus negates numbers (and makes anything else unknown).
      return t.operator === '+' ? operand : this.node({ kind: 'negate', operand }, t.start, [operand]);
    }
    if (t.kind === 'keyword' && t.keyword === 'NOT') {
      this.enter(t);
      this.advance();
      const operand = this.asCondition(this.unaryExpression(`a condition after ${quoteForMessage(t.text)}`));
      this.nesting--;
      return this.node({ kind: 'not', operand }, t.start, [operand]);
    }
    return this.primaryExpression(expected);
  }

  private primaryExpression(expected: string): Sql92Node {
    const t = this.token;
    switch (t.kind) {
      case 'string':
        this.advance();
        return this.node({ kind: 'constant', value: t.value }, t.start, []);
      case 'decimal':
        this.advance();
        return this.node({ kind: 'constant', value: this.integerLiteral(t) }, t.start, []);
      case 'float':
        this.advance();
        return this.node({ kind: 'constant', value: this.floatLiteral(t) }, t.start, []);
      case 'name':
        this.advance();
        return this.node({ kind: 'property', name: t.text }, t.start, []);
      case 'keyword':
        if (t.keyword === 'TRUE' || t.keyword === 'FALSE' || t.keyword === 'NULL') {
          this.advance();
          return this.node({ kind: 'boolean-constant', value: t.keyword === 'NULL' ? null : t.keyword === 'TRUE' }, t.start, []);
        }
        break;
      case 'operator':
        if (t.operator === '(') {
          this.enter(t);
          this.advance();
          const inner = this.orExpression("a condition or a value after '('");
          if (!(this.token.kind === 'operator' && this.token.operator === ')')) {
            this.fail(this.token, `')' to close the '(' at column ${t.start + 1}`);
          }
          this.advance();
          this.nesting--;
          return inner;
        }
        break;
    }
    return this.fail(t, expected);
  }

  private inList(): string[] {
    if (!(this.token.kind === 'operator' && this.token.operator === '(')) this.fail(this.token, "'(' after IN");
    this.advance();
    const values = [this.expectString('a string in single quotes (IN lists hold strings only)')];
    for (;;) {
      const t = this.token;
      if (t.kind === 'operator' && t.operator === ',') {
        this.advance();
        values.push(this.expectString("a string in single quotes after ','"));
      } else if (t.kind === 'operator' && t.operator === ')') {
        this.advance();
        return values;
      } else {
        return this.fail(t, "',' or ')' in the IN list");
      }
    }
  }

  // ---- literals ------------------------------------------------------------------------------

  /** ConstantExpression.createFromDecimal: int when it fits, else long; beyond long is an error. */
  private integerLiteral(t: Token): JavaNumber {
    const n = BigInt(t.text.replace(/[lL]$/, ''));
    if (n > LONG_MAX) this.fail(t, `an integer no larger than ${LONG_MAX}`);
    return n >= INT_MIN && n <= INT_MAX ? javaInt(Number(n)) : javaLong(n);
  }

  /** ConstantExpression.createFloat refuses infinity and anything below Double.MIN_VALUE, 0.0 included. */
  private floatLiteral(t: Token): JavaNumber {
    const v = Number(t.text);
    if (v === Infinity) this.fail(t, 'a decimal number no larger than 1.7976931348623157E308');
    if (v < Number.MIN_VALUE) this.fail(t, 'a decimal number of at least 4.9E-324 (RocketMQ rejects 0.0; write 0)');
    return javaDouble(v);
  }

  // ---- RocketMQ's tree-building checks -------------------------------------------------------

  /** asBooleanExpression: conditions pass, a bare property becomes a (never true for strings) test, values fail. */
  private asCondition(node: Sql92Node): Sql92Node {
    if (isBooleanNode(node)) return node;
    if (node.kind === 'property') {
      const span = this.spans.get(node)!;
      return this.node({ kind: 'boolean-cast', operand: node }, span.start, [node]);
    }
    return this.failAt(node, 'a condition');
  }

  /** checkEqualOperand / checkEqualOperandCompatability of ComparisonExpression.createEqual. */
  private checkEqualityOperands(left: Sql92Node, right: Sql92Node, op: string): void {
    for (const side of [left, right]) {
      if (side.kind === 'boolean-constant' && side.value === null) {
        this.failAt(side, `a value to compare with '${op}' (test for a missing property with IS NULL or IS NOT NULL)`);
      }
    }
    if (left.kind === 'boolean-constant' && right.kind === 'constant') {
      this.failAt(right, `TRUE or FALSE to compare with ${describeJavaValue(left.value)}`);
    }
  }

  /** checkLessThanOperand: only numbers, properties and negations may be ordered. */
  private checkOrderedOperand(node: Sql92Node, op: string): void {
    const bad = node.kind === 'constant' ? typeof node.value === 'string' : isBooleanNode(node);
    if (bad) this.failAt(node, `a number or a property name for ${quoteForMessage(op)}`);
  }

  private checkBetween(operand: Sql92Node, low: Sql92Node, high: Sql92Node, negated: boolean): void {
    const op = negated ? 'NOT BETWEEN' : 'BETWEEN';
    for (const n of [operand, low, high]) this.checkOrderedOperand(n, op);
    // createBetween compares two literal bounds (negative numbers are negations, not literals, so escape it).
    if (
      !negated &&
      low.kind === 'constant' &&
      high.kind === 'constant' &&
      typeof low.value !== 'string' &&
      typeof high.value !== 'string'
    ) {
      if (compareNumbers(high.value, low.value) < 0)
        this.failAt(low, `a lower bound no greater than the upper bound ${describeJavaValue(high.value)}`);
    }
  }

  // ---- plumbing ------------------------------------------------------------------------------

  private node<T extends Sql92Node>(node: T, start: number, children: readonly Sql92Node[]): T {
    let depth = 1;
    for (const c of children) depth = Math.max(depth, (this.depths.get(c) ?? 1) + 1);
    this.spans.set(node, { start, end: this.consumedEnd });
    this.depths.set(node, depth);
    if (depth > this.limits.maxTreeDepth) this.failAt(node, `at most ${this.limits.maxTreeDepth} levels of nested operations`);
    return node;
  }

  private enter(t: Token): void {
    if (++this.nesting > this.limits.maxNesting) this.fail(t, `at most ${this.limits.maxNesting} levels of parentheses and NOT/-/+`);
  }

  private atKeyword(keyword: Sql92Keyword): boolean {
    return this.token.kind === 'keyword' && this.token.keyword === keyword;
  }

  private advance(): Token {
    const t = this.token;
    this.consumedEnd = t.start + t.text.length;
    this.token = this.lexer.next();
    return t;
  }

  private expectString(expected: string): string {
    const t = this.token;
    if (t.kind !== 'string') return this.fail(t, expected);
    this.advance();
    return t.value;
  }

  private fail(t: Token, expected: string): never {
    const found =
      t.kind === 'eof' ? 'end of input' : t.kind === 'string' ? `the string ${quoteForMessage(t.value)}` : quoteForMessage(t.text);
    throw new FilterSyntaxError({ language: 'SQL92', column: t.start + 1, expected, found });
  }

  private failAt(node: Sql92Node, expected: string): never {
    const span = this.spans.get(node)!;
    const text = this.source.slice(span.start, span.end);
    const found =
      node.kind === 'constant' && typeof node.value === 'string' ? `the string ${quoteForMessage(node.value)}` : quoteForMessage(text);
    throw new FilterSyntaxError({ language: 'SQL92', column: span.start + 1, expected, found });
  }
}

function compareNumbers(a: JavaNumber, b: JavaNumber): number {
  if (a.type !== 'double' && b.type !== 'double') {
    const x = BigInt(a.value);
    const y = BigInt(b.value);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return compareDoubles(Number(a.value), Number(b.value));
}

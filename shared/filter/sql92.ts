// RocketMQ's SQL92 message filter (expressionType=SQL92): parse once, evaluate per message.
// Accepts what a 5.3.3 broker accepts (grammar and build-time checks of its SelectorParser),
// except trailing text and extreme nesting, which it refuses; evaluates as the broker does.
import { FilterSyntaxError } from './errors.ts';
import type { Sql92Expression, Sql92Node } from './sql92-ast.ts';
import { EvaluationFault, evaluateNode, type Properties } from './sql92-evaluate.ts';
import { parseSql92Tree } from './sql92-parser.ts';

export const SQL92_MAX_LENGTH = 4096;
const SQL92_MAX_NESTING = 64;
/** Tree depth cap: also bounds the evaluator's recursion, whatever the input. */
const SQL92_MAX_TREE_DEPTH = 256;

/** Parses a filter; throws FilterSyntaxError (with the column) for anything a broker would refuse. */
export function parseSql92(text: string): Sql92Expression {
  if (text.length > SQL92_MAX_LENGTH) {
    throw new FilterSyntaxError({
      language: 'SQL92',
      column: SQL92_MAX_LENGTH + 1,
      expected: `at most ${SQL92_MAX_LENGTH} characters`,
      found: `${text.length} characters`,
    });
  }
  return { source: text, root: parseSql92Tree(text, { maxNesting: SQL92_MAX_NESTING, maxTreeDepth: SQL92_MAX_TREE_DEPTH }) };
}

/**
 * Whether a message with these properties passes the filter: only a TRUE result passes; FALSE,
 * unknown (null, e.g. a missing property) and an evaluation error (e.g. `a > 5` when a is "abc",
 * which the broker logs and skips) do not. `properties` are the message's properties as stored,
 * system ones included (TAGS, KEYS, ...), since brokers evaluate against exactly those.
 */
export function evaluateSql92(expr: Sql92Expression, properties: Properties): boolean {
  try {
    return evaluateNode(expr.root, properties) === true;
  } catch (err) {
    if (err instanceof EvaluationFault) return false;
    throw err;
  }
}

/**
 * Whether the filter uses CONTAINS, STARTSWITH or ENDSWITH, which RocketMQ 5 added. A 4.x broker
 * reads those words as property names: `s CONTAINS 'o'` compiles there as plain `s` and passes
 * nothing, and `s NOT CONTAINS 'o'` fails to compile, which a pull answers UNFILTERED. So such a
 * filter must not be sent to a 4.x broker.
 */
export function sql92NeedsRocketMQ5(expr: Sql92Expression): boolean {
  const pending: Sql92Node[] = [expr.root];
  for (let node = pending.pop(); node; node = pending.pop()) {
    switch (node.kind) {
      case 'string-match':
        return true;
      case 'negate':
      case 'not':
      case 'boolean-cast':
      case 'is-null':
        pending.push(node.operand);
        break;
      case 'and':
      case 'or':
        pending.push(...node.operands);
        break;
      case 'comparison':
        pending.push(node.left, node.right);
        break;
      case 'between':
        pending.push(node.operand, node.low, node.high);
        break;
      case 'property':
      case 'constant':
      case 'boolean-constant':
      case 'in':
        break;
    }
  }
  return false;
}

export type Sql92Validation = { ok: true } | { ok: false; column: number; message: string };

export function validateSql92(text: string): Sql92Validation {
  try {
    parseSql92(text);
    return { ok: true };
  } catch (err) {
    if (err instanceof FilterSyntaxError) return { ok: false, column: err.column, message: err.message };
    throw err;
  }
}

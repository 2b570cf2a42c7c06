// The parsed form of a RocketMQ SQL92 filter. Node kinds follow RocketMQ's Java expression classes
// one to one where their evaluation differs (e.g. `<>` is NOT(=), BETWEEN is two comparisons),
// so the evaluator can reproduce the broker's answers, null handling and errors included.
import type { JavaNumber } from './java-value.ts';

/** A message property, looked up by its exact (case-sensitive) name. */
export interface PropertyNode {
  readonly kind: 'property';
  readonly name: string;
}

/** A string or numeric literal (decimals are Java int or long by range, others double). */
export interface ConstantNode {
  readonly kind: 'constant';
  readonly value: string | JavaNumber;
}

/** TRUE, FALSE or NULL: RocketMQ treats these as boolean expressions of their own. */
export interface BooleanConstantNode {
  readonly kind: 'boolean-constant';
  readonly value: boolean | null;
}

/** Unary minus: a number negated, anything else unknown (null). */
export interface NegateNode {
  readonly kind: 'negate';
  readonly operand: Sql92Node;
}

export interface NotNode {
  readonly kind: 'not';
  readonly operand: Sql92Node;
}

/** A bare property used as a condition: true only if its value is a boolean TRUE, which a string never is. */
export interface BooleanCastNode {
  readonly kind: 'boolean-cast';
  readonly operand: PropertyNode;
}

/** `a AND b AND c` (or OR), evaluated left to right as nested pairs would be. */
export interface LogicNode {
  readonly kind: 'and' | 'or';
  readonly operands: readonly Sql92Node[];
}

export type ComparisonOperator = '=' | '<>' | '>' | '>=' | '<' | '<=';

export interface ComparisonNode {
  readonly kind: 'comparison';
  readonly operator: ComparisonOperator;
  readonly left: Sql92Node;
  readonly right: Sql92Node;
}

export interface IsNullNode {
  readonly kind: 'is-null';
  readonly negated: boolean;
  readonly operand: Sql92Node;
}

export interface BetweenNode {
  readonly kind: 'between';
  readonly negated: boolean;
  readonly operand: Sql92Node;
  readonly low: Sql92Node;
  readonly high: Sql92Node;
}

export interface InNode {
  readonly kind: 'in';
  readonly negated: boolean;
  readonly property: PropertyNode;
  readonly values: readonly string[];
}

export type StringMatchOperator = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

export interface StringMatchNode {
  readonly kind: 'string-match';
  readonly operator: StringMatchOperator;
  readonly negated: boolean;
  readonly operand: Sql92Node;
  readonly search: string;
}

export type Sql92Node =
  | PropertyNode
  | ConstantNode
  | BooleanConstantNode
  | NegateNode
  | NotNode
  | BooleanCastNode
  | LogicNode
  | ComparisonNode
  | IsNullNode
  | BetweenNode
  | InNode
  | StringMatchNode;

/** A validated filter: its text as given (what a broker is sent) and its tree. */
export interface Sql92Expression {
  readonly source: string;
  readonly root: Sql92Node;
}

/** Mirrors Java's `instanceof BooleanExpression`, which decides where a node may stand. */
export function isBooleanNode(node: Sql92Node): boolean {
  return node.kind !== 'property' && node.kind !== 'constant' && node.kind !== 'negate';
}

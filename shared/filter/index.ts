// Message filters: RocketMQ SQL92 and TAG expressions, and topic include/exclude patterns.
export { FilterPatternError, FilterSyntaxError } from './errors.ts';
export type { FilterLanguage, FilterPatternProblem, FilterSyntaxErrorDetails, TopicPatternList } from './errors.ts';
export { evaluateSql92, parseSql92, SQL92_MAX_LENGTH, SQL92_MAX_NESTING, SQL92_MAX_TREE_DEPTH, sql92NeedsRocketMQ5, validateSql92 } from './sql92.ts';
export type { Sql92Validation } from './sql92.ts';
export type { Sql92Expression, Sql92Node } from './sql92-ast.ts';
export { matchesTag, parseTagExpression } from './tag.ts';
export type { TagExpression } from './tag.ts';
export { compileTopicPatterns, TOPIC_PATTERN_MAX_LENGTH, TOPIC_PATTERNS_MAX } from './topic-pattern.ts';
export { matchTopicPatterns, type TopicMatcher, type TopicPatternSpec } from './topic-match.ts';

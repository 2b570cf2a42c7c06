// Message filters: RocketMQ SQL92 and TAG expressions, and topic include/exclude patterns.
export { FilterPatternError, FilterSyntaxError } from './errors.ts';
export { evaluateSql92, parseSql92, SQL92_MAX_LENGTH, sql92NeedsRocketMQ5, validateSql92 } from './sql92.ts';
export { matchesTag, parseTagExpression } from './tag.ts';
export {
  checkTopicPatternsSafety,
  compileTopicPatterns,
  PATTERN_CHECK_BUDGET_MS,
  patternCheckDeadline,
  TOPIC_PATTERN_MAX_LENGTH,
  TOPIC_PATTERN_MAX_REPEAT,
  TOPIC_PATTERNS_MAX,
  topicPatternsKnownSafe,
} from './topic-pattern.ts';
export { loadRegexAnalyser } from './redos.ts';
export type { TopicPatternSpec } from './topic-match.ts';

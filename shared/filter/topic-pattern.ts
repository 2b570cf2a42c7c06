// Which topics a task replicates: a topic is taken when some include pattern matches its WHOLE
// name and no exclude pattern does. Patterns are JavaScript regular expressions (no flags),
// anchored here so `orders` does not also take `orders-dlq`; each must compile on its own (so a
// stray `)` cannot break out of the anchoring) and pass a backtracking-safety check, since topic
// names come from the clusters, not from whoever wrote the pattern.
import { FilterPatternError, type TopicPatternList } from './errors.ts';
import { CHECK_TIMEOUT_MS, checkRegexSafety } from './redos.ts';
import { anchorTopicPattern, matchTopicPatterns, type TopicMatcher, type TopicPatternSpec } from './topic-match.ts';

export const TOPIC_PATTERN_MAX_LENGTH = 512;
export const TOPIC_PATTERNS_MAX = 100;
/** Safety checks of one compile share this much time, so a list of hard patterns can't hold a request for minutes. */
const TOPIC_PATTERNS_CHECK_BUDGET_MS = 15_000;

/** Compiles and checks every pattern; throws FilterPatternError naming the first bad one. */
export function compileTopicPatterns(spec: TopicPatternSpec): TopicMatcher {
  const deadline = Date.now() + TOPIC_PATTERNS_CHECK_BUDGET_MS;
  checkList('include', spec.include, deadline);
  checkList('exclude', spec.exclude, deadline);
  return matchTopicPatterns(spec);
}

function checkList(list: TopicPatternList, patterns: readonly string[], deadline: number): void {
  if (patterns.length > TOPIC_PATTERNS_MAX) {
    throw new FilterPatternError(list, TOPIC_PATTERNS_MAX, 'invalid', `a list holds at most ${TOPIC_PATTERNS_MAX} patterns`);
  }
  patterns.forEach((pattern, index) => {
    checkPattern(list, index, pattern, deadline);
  });
}

function checkPattern(list: TopicPatternList, index: number, pattern: string, deadline: number): void {
  const invalid = (detail: string) => new FilterPatternError(list, index, 'invalid', detail);
  if (pattern.length > TOPIC_PATTERN_MAX_LENGTH) throw invalid(`longer than ${TOPIC_PATTERN_MAX_LENGTH} characters`);
  if (pattern === '') throw invalid('empty (use .* for every topic)');
  try {
    new RegExp(pattern);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const anchored = anchorTopicPattern(pattern);
  const remaining = deadline - Date.now();
  if (remaining <= 0) {
    throw new FilterPatternError(
      list,
      index,
      'unsafe',
      'it could not be checked for safety: checking the patterns before it used up the time allowed',
    );
  }
  const verdict = checkRegexSafety(anchored, Math.min(CHECK_TIMEOUT_MS, remaining));
  if (!verdict.safe) throw new FilterPatternError(list, index, 'unsafe', verdict.reason);
}

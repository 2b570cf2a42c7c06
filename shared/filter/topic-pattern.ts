// Which topics a task replicates: a topic is taken when some include pattern matches its WHOLE
// name and no exclude pattern does. Patterns are JavaScript regular expressions (no flags),
// anchored here so `orders` does not also take `orders-dlq`; each must compile on its own (so a
// stray `)` cannot break out of the anchoring) and pass a backtracking-safety check, since topic
// names come from the clusters, not from whoever wrote the pattern.
//
// Two steps: compileTopicPatterns (synchronous, cheap: lengths, syntax, repetition counts) and
// checkTopicPatternsSafety (asynchronous: the analysis runs in a worker thread, redos.ts).
import { FilterPatternError, type TopicPatternList } from './errors.ts';
import { checkRegexSafety, knownVerdict, type SafetyVerdict } from './redos.ts';
import { anchorTopicPattern, matchTopicPatterns, type TopicMatcher, type TopicPatternSpec } from './topic-match.ts';

export const TOPIC_PATTERN_MAX_LENGTH = 512;
export const TOPIC_PATTERNS_MAX = 100;
/** `{n}`, `{n,}` and `{n,m}` may count to this: larger counts only serve to make matching slow. */
export const TOPIC_PATTERN_MAX_REPEAT = 1000;
/** The safety checks of one request (every pattern list it holds) share this much time. */
export const PATTERN_CHECK_BUDGET_MS = 10_000;

/** The deadline for one request's pattern checks. */
export const patternCheckDeadline = (budgetMs = PATTERN_CHECK_BUDGET_MS) => Date.now() + budgetMs;

/**
 * Compiles every pattern after the cheap checks (length, syntax, repetition counts); throws
 * FilterPatternError naming the first bad one. Backtracking safety is NOT checked here:
 * checkTopicPatternsSafety does that, off the event loop.
 */
export function compileTopicPatterns(spec: TopicPatternSpec): TopicMatcher {
  checkList('include', spec.include);
  checkList('exclude', spec.exclude);
  return matchTopicPatterns(spec);
}

/**
 * The backtracking analysis of every pattern, in worker threads, all within `deadline` (epoch ms,
 * one per request). Throws FilterPatternError ('unsafe') naming the first pattern found unsafe or
 * left unchecked when the time ran out.
 */
export async function checkTopicPatternsSafety(spec: TopicPatternSpec, deadline = patternCheckDeadline()): Promise<void> {
  compileTopicPatterns(spec);
  const all = [...spec.include.map((p, i) => ['include', i, p] as const), ...spec.exclude.map((p, i) => ['exclude', i, p] as const)];
  const verdicts = await Promise.all(all.map(([, , p]) => checkRegexSafety(anchorTopicPattern(p), deadline)));
  const bad = verdicts.findIndex((v) => !v.safe);
  if (bad < 0) return;
  const [list, index] = all[bad]!;
  throw new FilterPatternError(list, index, 'unsafe', (verdicts[bad] as Extract<SafetyVerdict, { safe: false }>).reason);
}

/** Every pattern already known safe (literal, or checked before): an edit re-planned after its check may rely on it. */
export function topicPatternsKnownSafe(spec: TopicPatternSpec): boolean {
  return [...spec.include, ...spec.exclude].every((p) => knownVerdict(anchorTopicPattern(p))?.safe === true);
}

function checkList(list: TopicPatternList, patterns: readonly string[]): void {
  if (patterns.length > TOPIC_PATTERNS_MAX) {
    throw new FilterPatternError(list, TOPIC_PATTERNS_MAX, 'invalid', `a list holds at most ${TOPIC_PATTERNS_MAX} patterns`);
  }
  patterns.forEach((pattern, index) => {
    checkPattern(list, index, pattern);
  });
}

function checkPattern(list: TopicPatternList, index: number, pattern: string): void {
  const invalid = (detail: string) => new FilterPatternError(list, index, 'invalid', detail);
  if (pattern.length > TOPIC_PATTERN_MAX_LENGTH) throw invalid(`longer than ${TOPIC_PATTERN_MAX_LENGTH} characters`);
  if (pattern === '') throw invalid('empty (use .* for every topic)');
  try {
    new RegExp(pattern);
  } catch (err) {
    throw invalid((err as Error).message);
  }
  const count = largestRepeatCount(pattern);
  if (count > TOPIC_PATTERN_MAX_REPEAT) {
    throw invalid(`a repetition count of ${count} is over ${TOPIC_PATTERN_MAX_REPEAT} (use * or + instead)`);
  }
}

/** The largest n or m of the `{n}`, `{n,}`, `{n,m}` quantifiers (outside classes, not escaped); 0 when none. */
function largestRepeatCount(pattern: string): number {
  let largest = 0;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '{') {
      const m = /^\{(\d+)(?:,(\d*))?\}/.exec(pattern.slice(i));
      if (m) largest = Math.max(largest, Number(m[1]), m[2] ? Number(m[2]) : 0);
    }
  }
  return largest;
}

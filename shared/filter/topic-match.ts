// Topic patterns as the replicator runs them: anchored and compiled, without the backtracking
// analysis. A task's patterns were analysed when the API accepted them and again when the
// reconciler started the task (topic-pattern.ts); the replicator trusts that and stays without
// the analyser, which alone would add ~30 MiB to every replicator process.

export interface TopicPatternSpec {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export type TopicMatcher = (topic: string) => boolean;

/** The pattern as it runs: matching the WHOLE topic name. */
export const anchorTopicPattern = (pattern: string) => `^(?:${pattern})$`;

/** A matcher for patterns already checked by compileTopicPatterns. */
export function matchTopicPatterns(spec: TopicPatternSpec): TopicMatcher {
  const include = spec.include.map((p) => new RegExp(anchorTopicPattern(p)));
  const exclude = spec.exclude.map((p) => new RegExp(anchorTopicPattern(p)));
  return (topic) => include.some((re) => re.test(topic)) && !exclude.some((re) => re.test(topic));
}

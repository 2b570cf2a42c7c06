// The backtracking analysis of a request's regular expressions (topic and group patterns), run
// before any transaction opens: it is asynchronous (worker threads) and may take seconds, and a
// transaction held that long would hold the store. One deadline covers every list in the request.
import { FerryError } from '../errors.ts';
import {
  checkTopicPatternsSafety,
  FilterPatternError,
  patternCheckDeadline,
  topicPatternsKnownSafe,
  type TopicPatternSpec,
} from '../filter/index.ts';

/** The pattern lists a create, preview or edit body may hold. */
export interface PatternLists {
  filter?: { topics?: TopicPatternSpec | undefined } | undefined;
  groups?: TopicPatternSpec | undefined;
}

const listsOf = (x: PatternLists): [string, TopicPatternSpec][] => [
  ...(x.filter?.topics ? [['filter.topics', x.filter.topics] as [string, TopicPatternSpec]] : []),
  ...(x.groups ? [['groups', x.groups] as [string, TopicPatternSpec]] : []),
];

/** VALIDATION_FAILED naming the first unsafe pattern (`filter.topics.include.2`), or one left unchecked when the budget ran out. */
export async function refuseUnsafePatterns(x: PatternLists, deadline = patternCheckDeadline()): Promise<void> {
  const lists = listsOf(x);
  const failures = await Promise.all(
    lists.map(([, spec]) =>
      checkTopicPatternsSafety(spec, deadline).then(
        () => undefined,
        (err: unknown) => err,
      ),
    ),
  );
  for (const [i, err] of failures.entries()) {
    if (err === undefined) continue;
    if (!(err instanceof FilterPatternError)) throw err;
    const field = `${lists[i]![0]}.${err.list}.${err.index}`;
    throw new FerryError('VALIDATION_FAILED', `${field}: ${err.message}`, field);
  }
}

/** Every pattern of the lists was checked safe before (an edit re-planned inside its transaction relies on it). */
export const patternsKnownSafe = (x: PatternLists): boolean => listsOf(x).every(([, spec]) => topicPatternsKnownSafe(spec));

// Errors of the message filters. Both carry where the problem is, so an API can point at it
// (`filter.expression.value` column, `filter.topics.include[3]`) instead of echoing a parser's stack.

export type FilterLanguage = 'SQL92' | 'TAG';

export interface FilterSyntaxErrorDetails {
  language: FilterLanguage;
  /** 1-based position in the expression text (UTF-16 code units, the whole text as one line). */
  column: number;
  /** What would have been accepted there, e.g. "a value after '='". */
  expected: string;
  /** What was there instead, e.g. "end of input", "'AND'". */
  found: string;
}

export class FilterSyntaxError extends Error {
  readonly language: FilterLanguage;
  readonly column: number;
  readonly expected: string;
  readonly found: string;

  constructor(details: FilterSyntaxErrorDetails) {
    super(`${details.language} filter invalid at column ${details.column}: expected ${details.expected}, found ${details.found}`);
    this.name = 'FilterSyntaxError';
    this.language = details.language;
    this.column = details.column;
    this.expected = details.expected;
    this.found = details.found;
  }
}

export type TopicPatternList = 'include' | 'exclude';

/** `invalid`: not a usable regular expression (or over the limits); `unsafe`: may backtrack catastrophically. */
export type FilterPatternProblem = 'invalid' | 'unsafe';

export class FilterPatternError extends Error {
  constructor(
    readonly list: TopicPatternList,
    /** Position of the offending pattern in its list (0-based). */
    readonly index: number,
    readonly reason: FilterPatternProblem,
    detail: string,
  ) {
    super(`topic ${list} pattern #${index + 1} is ${reason === 'unsafe' ? 'unsafe' : 'invalid'}: ${detail}`);
    this.name = 'FilterPatternError';
  }
}

// Is a regular expression safe to run against topic names? Decided by recheck (automata analysis
// with a fuzzing fallback), which finds exponential AND polynomial backtracking and its degree.
// safe-regex2 was the first candidate but only measures star height: it misses `(a|a)*$` and
// `(\w|\d)+$` (both exponential) and refuses the everyday `[a-z]+(-[a-z]+)*` and any lookbehind.
//
// We load recheck's self-contained build: the package main pulls in synckit, which crashes at
// import inside an ESM bundle (it needs __dirname), and runs the check in a native binary, a JVM or
// a worker thread unless told otherwise through the environment; the self-contained build checks
// in-process, synchronously, and loads nothing else.
//
// That build is megabytes of code: it is loaded when a pattern is first checked, not at start-up, so
// the replicator and metadata sync (which never check patterns) do not pay for it on a cold start.
import { createRequire } from 'node:module';
import type { Diagnostics } from 'recheck';

type Recheck = typeof import('recheck/lib/browser.js').default;
let recheck: Recheck | undefined;

/**
 * Loads the analyser ahead of the synchronous checks. A bundled function (no node_modules beside it)
 * must await this before checking; elsewhere a check without it loads the analyser synchronously.
 */
export async function loadRegexAnalyser(): Promise<void> {
  recheck ??= (await import('recheck/lib/browser.js')).default;
}

function analyser(): Recheck {
  recheck ??= createRequire(import.meta.url)('recheck/lib/browser.js') as Recheck;
  return recheck;
}

/**
 * Topic names are at most 127 characters (RocketMQ's TopicValidator), where n^3 backtracking costs
 * well under a millisecond but n^4 tens of milliseconds per name; `.*-.*` (degree 2) is common.
 */
const MAX_POLYNOMIAL_DEGREE = 3;
/** recheck's own wall-clock limit for one pattern; beyond it the verdict is "unknown", so unsafe. */
export const CHECK_TIMEOUT_MS = 2000;

export type SafetyVerdict = { safe: true } | { safe: false; reason: string };

/** `^(?:a|b-c|d_1)$` as topic-pattern.ts anchors it: literal names only, no quantifier or class. */
const LITERAL_ALTERNATION = /^\^\(\?:[A-Za-z0-9_%-]+(?:\|[A-Za-z0-9_%-]+)*\)\$$/;
const cache = new Map<string, SafetyVerdict>();
/** The first check of a process also pays for warming recheck up (seconds on a busy machine). */
let warm = false;
const CACHE_LIMIT = 1000;

function verdictOf(d: Diagnostics, timeoutMs: number): SafetyVerdict {
  switch (d.status) {
    case 'safe':
      return { safe: true };
    case 'vulnerable':
      if (d.complexity.type === 'polynomial' && d.complexity.degree <= MAX_POLYNOMIAL_DEGREE) return { safe: true };
      return {
        safe: false,
        reason:
          d.complexity.type === 'exponential'
            ? 'it can backtrack exponentially (catastrophically) on some names'
            : `its backtracking grows with the name's length to the power ${d.complexity.degree} (at most ${MAX_POLYNOMIAL_DEGREE} ` +
              `is allowed)`,
      };
    case 'unknown':
      return {
        safe: false,
        reason:
          d.error.kind === 'timeout'
            ? `it could not be proven safe within ${timeoutMs} ms; simplify it`
            : `it could not be checked for safety (${d.error.kind}${'message' in d.error ? `: ${d.error.message}` : ''})`,
      };
  }
}

/** Checks `source` (compiled without flags, as it will run), synchronously. */
export function checkRegexSafety(source: string, timeoutMs = CHECK_TIMEOUT_MS): SafetyVerdict {
  // Topic names and alternations of them (the everyday filter) cannot backtrack: no analysis, so
  // a busy machine cannot time the check out.
  if (LITERAL_ALTERNATION.test(source)) return { safe: true };
  const cached = cache.get(source);
  if (cached) return cached;
  // A fixed seed makes the fuzzing fallback give the same verdict every time.
  const check = () => analyser().checkSync(source, '', { timeout: timeoutMs, randomSeed: 42 });
  let diagnostics = check();
  // A timeout of the cold first check says nothing about the pattern: check it again, warm.
  if (!warm && diagnostics.status === 'unknown' && diagnostics.error.kind === 'timeout') diagnostics = check();
  warm = true;
  const verdict = verdictOf(diagnostics, timeoutMs);
  // Timeouts depend on the machine's load at the time; only lasting verdicts are remembered.
  if (diagnostics.status !== 'unknown') {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(source, verdict);
  }
  return verdict;
}

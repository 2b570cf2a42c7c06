// One rule for every string the API takes in (body fields, their names, query parameters): no
// control characters and well-formed Unicode. A NUL cannot be stored in PostgreSQL text, and a lone
// surrogate has no UTF-8 form, so either would otherwise fail deep in the store as a 500.
import { FerryError } from '../errors.ts';

// A lone surrogate is one code point of category Cs in a Unicode-mode regex; a proper pair is not.
const LONE_SURROGATE = /\p{Cs}/u;

/** Why `s` breaks the rule, or undefined. Never quotes `s` (it may be a secret). */
export function textProblem(s: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return 'must not contain control characters';
  }
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (it holds a lone surrogate)';
  return undefined;
}

/** Identifiers (cluster ids, regions, VPC and subnet ids, dedicated line ids): what clouds use, nothing else. */
export const ID_RE = /^[A-Za-z0-9._:-]+$/;
export const ID_RULE = 'may contain only letters, digits and "._:-"';

/**
 * Every string in a parsed JSON value, keys included, checked: VALIDATION_FAILED naming the first
 * offending field (`source.acl.secretKey`, `filter.topics.include.0`).
 */
export function checkText(value: unknown, path: string[] = []): void {
  const field = () => path.join('.') || 'body';
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem) throw new FerryError('VALIDATION_FAILED', `${field()}: ${problem}`, field());
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkText(v, [...path, String(i)]);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const problem = textProblem(k);
      if (problem) throw new FerryError('VALIDATION_FAILED', `${field()}: a field name ${problem}`, field());
      checkText(v, [...path, k]);
    }
  }
}

/** Query parameters under the same rule, each named as itself. */
export function checkQueryText(query: Record<string, string>): void {
  for (const [k, v] of Object.entries(query)) {
    const badName = textProblem(k);
    if (badName) throw new FerryError('VALIDATION_FAILED', `query: a parameter name ${badName}`, 'query');
    const problem = textProblem(v);
    if (problem) throw new FerryError('VALIDATION_FAILED', `${k}: ${problem}`, k);
  }
}

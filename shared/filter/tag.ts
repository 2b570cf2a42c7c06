// RocketMQ TAG filter expressions: `*` (or nothing) takes every message, otherwise `a || b || c`
// takes messages whose tag is exactly one of those. Brokers pre-select by the tag's hash code and
// clients then compare the text, so the end result is exact, case-sensitive equality.
//
// RocketMQ (FilterAPI.buildSubscriptionData) is lax where we are strict, because its leniency
// hides typos: it drops empty tags (`a || || b`), and a blank or padded expression (`' '`,
// `' * '`) silently selects nothing or only the literal tag "*". We refuse those, and a lone '|'.
import { FilterSyntaxError } from './errors.ts';
import { javaTrim } from './java-value.ts';

export type TagExpression = { readonly kind: 'all' } | { readonly kind: 'tags'; readonly tags: ReadonlySet<string> };

const SEPARATOR = '||';

function fail(column: number, expected: string, found: string): never {
  throw new FilterSyntaxError({ language: 'TAG', column, expected, found });
}

export function parseTagExpression(text: string): TagExpression {
  if (text === '' || text === '*') return { kind: 'all' };
  const tags = new Set<string>();
  let segmentStart = 0;
  for (;;) {
    const sep = text.indexOf(SEPARATOR, segmentStart);
    const segmentEnd = sep < 0 ? text.length : sep;
    const raw = text.slice(segmentStart, segmentEnd);
    const tag = javaTrim(raw);
    const tagStart = segmentStart + raw.indexOf(tag);
    if (tag === '') {
      if (sep >= 0) fail(sep + 1, segmentStart === 0 ? "a tag before '||'" : "a tag between '||' separators", "'||'");
      fail(text.length + 1, segmentStart === 0 ? "'*' or tags separated by '||'" : "a tag after '||'", 'end of input');
    }
    if (tag === '*') fail(tagStart + 1, "a tag name ('*' selects every tag only when it is the whole expression)", "'*'");
    const pipe = tag.indexOf('|');
    if (pipe >= 0) fail(tagStart + pipe + 1, "'||' between tags", "'|'");
    tags.add(tag);
    if (sep < 0) return { kind: 'tags', tags };
    segmentStart = sep + SEPARATOR.length;
  }
}

export function matchesTag(expr: TagExpression, tag: string | undefined): boolean {
  return expr.kind === 'all' || (tag !== undefined && expr.tags.has(tag));
}

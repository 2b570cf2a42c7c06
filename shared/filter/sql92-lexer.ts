// Tokens of RocketMQ's SQL92 filter, as its JavaCC grammar (SelectorParser.jj) defines them:
// longest match wins, keywords beat names of the same length, and only ASCII letters, digits,
// '_' and '$' make a name (so `a.b` is not one). Tokens are read on demand, so the first
// problem in the text is the one reported.
import { FilterSyntaxError } from './errors.ts';

export const SQL92_KEYWORDS = [
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'IN',
  'TRUE',
  'FALSE',
  'NULL',
  'IS',
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
] as const;
export type Sql92Keyword = (typeof SQL92_KEYWORDS)[number];

export type Sql92Operator = '=' | '<>' | '>' | '>=' | '<' | '<=' | '(' | ')' | ',' | '+' | '-';

export type Token =
  | { readonly kind: 'eof'; readonly start: number; readonly text: '' }
  | { readonly kind: 'keyword'; readonly keyword: Sql92Keyword; readonly start: number; readonly text: string }
  | { readonly kind: 'operator'; readonly operator: Sql92Operator; readonly start: number; readonly text: string }
  | { readonly kind: 'name'; readonly start: number; readonly text: string }
  /** An integer literal as written, `L` suffix included. */
  | { readonly kind: 'decimal'; readonly start: number; readonly text: string }
  | { readonly kind: 'float'; readonly start: number; readonly text: string }
  /** `value` is the decoded text: quotes removed, '' turned into '. */
  | { readonly kind: 'string'; readonly value: string; readonly start: number; readonly text: string };

const KEYWORDS: ReadonlyMap<string, Sql92Keyword> = new Map(SQL92_KEYWORDS.map((k) => [k, k]));
// Two-character operators first so `<>`, `<=`, `>=` win over `<` and `>`.
const OPERATORS: readonly Sql92Operator[] = ['<>', '<=', '>=', '=', '<', '>', '(', ')', ',', '+', '-'];

const NAME = /[A-Za-z_$][A-Za-z0-9_$]*/y;
const DECIMAL = /(?:0|[1-9][0-9]*[lL]?)/y;
const FLOAT = /(?:[0-9]+\.[0-9]*(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)/y;

// The grammar's white space: nothing else (no vertical tab, no Unicode spaces).
const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';

function stickyMatch(re: RegExp, text: string, at: number): string {
  re.lastIndex = at;
  return re.exec(text)?.[0] ?? '';
}

/** Quotes a bit of the text for a message, shortened so a long literal can't flood it. */
export function quoteForMessage(text: string): string {
  const short = text.length > 32 ? `${text.slice(0, 29)}...` : text;
  return `'${short}'`;
}

export class Sql92Lexer {
  private pos = 0;

  constructor(private readonly text: string) {}

  next(): Token {
    this.skipBlanksAndComments();
    const { text } = this;
    const start = this.pos;
    if (start >= text.length) return { kind: 'eof', start, text: '' };
    const c = text[start]!;

    if (c === "'") return this.stringLiteral(start);

    const isDigit = c >= '0' && c <= '9';
    if (isDigit || (c === '.' && /[0-9]/.test(text[start + 1] ?? ''))) {
      const asFloat = stickyMatch(FLOAT, text, start);
      const asDecimal = stickyMatch(DECIMAL, text, start);
      const image = asFloat.length > asDecimal.length ? asFloat : asDecimal;
      this.pos += image.length;
      return { kind: asFloat.length > asDecimal.length ? 'float' : 'decimal', start, text: image };
    }

    const name = stickyMatch(NAME, text, start);
    if (name) {
      this.pos += name.length;
      const keyword = KEYWORDS.get(name.toUpperCase());
      return keyword ? { kind: 'keyword', keyword, start, text: name } : { kind: 'name', start, text: name };
    }

    for (const op of OPERATORS) {
      if (text.startsWith(op, start)) {
        this.pos += op.length;
        return { kind: 'operator', operator: op, start, text: op };
      }
    }

    throw new FilterSyntaxError({
      language: 'SQL92',
      column: start + 1,
      expected: 'a property name, a value, an operator or a parenthesis',
      found: `the character ${quoteForMessage(String.fromCodePoint(text.codePointAt(start)!))}`,
    });
  }

  private stringLiteral(start: number): Token {
    const { text } = this;
    let value = '';
    let i = start + 1;
    for (;;) {
      const close = text.indexOf("'", i);
      if (close < 0) {
        throw new FilterSyntaxError({
          language: 'SQL92',
          column: start + 1,
          expected: "a closing quote (') for this string",
          found: 'end of input',
        });
      }
      value += text.slice(i, close);
      if (text[close + 1] === "'") {
        value += "'";
        i = close + 2;
        continue;
      }
      this.pos = close + 1;
      return { kind: 'string', value, start, text: text.slice(start, this.pos) };
    }
  }

  private skipBlanksAndComments(): void {
    const { text } = this;
    for (;;) {
      const c = text[this.pos];
      if (isBlank(c)) {
        this.pos++;
      } else if (c === '-' && text[this.pos + 1] === '-') {
        // Java needs a line break to end the comment; at the very end of the text it instead
        // ignores whatever follows the expression, so both readings accept `a = 1 -- note`.
        const eol = text.slice(this.pos).search(/[\r\n]/);
        this.pos = eol < 0 ? text.length : this.pos + eol + 1;
      } else if (c === '/' && text[this.pos + 1] === '*') {
        const end = text.indexOf('*/', this.pos + 2);
        if (end < 0) {
          throw new FilterSyntaxError({
            language: 'SQL92',
            column: this.pos + 1,
            expected: "'*/' to close this comment",
            found: 'end of input',
          });
        }
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }
}

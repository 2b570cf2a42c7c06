// The values RocketMQ's SQL92 filter computes with, modelled on the Java types it really uses,
// because its results depend on them: `a = 5` converts the property with Integer.valueOf, while
// `a = 3000000000` uses Long.valueOf and `a = 5.0` Double.valueOf, and each accepts different text.

export interface JavaInt {
  readonly type: 'int';
  /** A 32-bit signed integer. */
  readonly value: number;
}
export interface JavaLong {
  readonly type: 'long';
  /** A 64-bit signed integer. */
  readonly value: bigint;
}
export interface JavaDouble {
  readonly type: 'double';
  readonly value: number;
}
export type JavaNumber = JavaInt | JavaLong | JavaDouble;

/** null is SQL's unknown (a missing property); strings are property values and string literals. */
export type JavaValue = null | boolean | string | JavaNumber;

export const javaInt = (value: number): JavaInt => ({ type: 'int', value });
export const javaLong = (value: bigint): JavaLong => ({ type: 'long', value });
export const javaDouble = (value: number): JavaDouble => ({ type: 'double', value });

export const isJavaNumber = (v: JavaValue): v is JavaNumber => typeof v === 'object' && v !== null;

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Java's Character.digit(c, 10): any Unicode decimal digit of the BMP counts, not only 0-9. */
function decimalDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code < 0x80 || (code >= 0xd800 && code <= 0xdfff)) return -1;
  const isDigit = (c: number) => /\p{Nd}/u.test(String.fromCharCode(c));
  if (!isDigit(code)) return -1;
  // Unicode lays decimal digits out in runs of ten starting at zero.
  let zero = code;
  while (isDigit(zero - 1)) zero--;
  return (code - zero) % 10;
}

/** Integer.parseInt / Long.parseLong: optional sign, digits only, no blanks; undefined when Java would throw. */
function parseJavaInteger(text: string, min: bigint, max: bigint): bigint | undefined {
  let i = 0;
  let negative = false;
  if (text[0] === '+' || text[0] === '-') {
    negative = text[0] === '-';
    i = 1;
  }
  if (i >= text.length) return undefined;
  let n = 0n;
  for (; i < text.length; i++) {
    const d = decimalDigit(text.charCodeAt(i));
    if (d < 0) return undefined;
    n = n * 10n + BigInt(d);
    if (n > max + 1n) return undefined; // stop early on long digit strings
  }
  const v = negative ? -n : n;
  return v < min || v > max ? undefined : v;
}

export function parseJavaIntValue(text: string): JavaInt | undefined {
  const v = parseJavaInteger(text, INT_MIN, INT_MAX);
  return v === undefined ? undefined : javaInt(Number(v));
}

export function parseJavaLongValue(text: string): JavaLong | undefined {
  const v = parseJavaInteger(text, LONG_MIN, LONG_MAX);
  return v === undefined ? undefined : javaLong(v);
}

const DECIMAL_FLOAT = /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;
const HEX_FLOAT = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?()|([0-9a-fA-F]*)\.([0-9a-fA-F]+))[pP]([+-]?[0-9]+)[fFdD]?$/;

/** Trims like Java's String.trim(): every char up to U+0020, nothing else. */
export function javaTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) <= 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) <= 0x20) end--;
  return text.slice(start, end);
}

function hexFloat(m: RegExpExecArray): number {
  const digits = (m[2] ?? m[4] ?? '') + (m[3] ?? m[5] ?? '');
  let mantissa = digits === '' ? 0n : BigInt(`0x${digits}`);
  let exponent = Number(m[6]) - 4 * (m[5] ?? '').length;
  const sign = m[1] === '-' ? -1 : 1;
  if (mantissa === 0n) return sign * 0;
  // Keep the mantissa within what a double holds exactly, moving the excess into the exponent.
  const excess = mantissa.toString(2).length - 60;
  if (excess > 0) {
    mantissa >>= BigInt(excess);
    exponent += excess;
  }
  let v = Number(mantissa);
  // Scale in steps so neither factor overflows to Infinity or underflows to 0 on its own.
  exponent = Math.max(-2200, Math.min(2200, exponent));
  while (exponent > 0) {
    const step = Math.min(exponent, 1000);
    v *= 2 ** step;
    exponent -= step;
  }
  while (exponent < 0) {
    const step = Math.max(exponent, -1000);
    v *= 2 ** step;
    exponent -= step;
  }
  return sign * v;
}

/** Double.valueOf(String): trims, accepts NaN/Infinity, a f/F/d/D suffix and hex floats; undefined when Java would throw. */
export function parseJavaDoubleValue(text: string): JavaDouble | undefined {
  const t = javaTrim(text);
  if (DECIMAL_FLOAT.test(t)) return javaDouble(Number(t.replace(/[fFdD]$/, '')));
  const hex = HEX_FLOAT.exec(t);
  return hex ? javaDouble(hexFloat(hex)) : undefined;
}

/** Double.compare: NaN equals itself and is above everything, -0.0 is below 0.0. */
export function compareDoubles(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN && bNaN ? 0 : aNaN ? 1 : -1;
  if (a === 0 && b === 0) {
    const aNeg = Object.is(a, -0);
    return aNeg === Object.is(b, -0) ? 0 : aNeg ? -1 : 1;
  }
  return 0;
}

export function toJavaDouble(n: JavaNumber): JavaDouble {
  return n.type === 'double' ? n : javaDouble(Number(n.value));
}

/** Java's unary minus on a boxed number: int and long wrap around like the JVM's. */
export function negateJavaNumber(n: JavaNumber): JavaNumber {
  switch (n.type) {
    case 'int':
      return javaInt(-n.value | 0);
    case 'long':
      return javaLong(BigInt.asIntN(64, -n.value));
    case 'double':
      return javaDouble(-n.value);
  }
}

/** Object.equals between two values: same Java class and same value (Double by bits). */
export function javaEquals(a: JavaValue, b: JavaValue): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (a.type !== b.type) return false;
  if (a.type === 'double') return compareDoubles(a.value, b.value as number) === 0;
  return a.value === b.value;
}

export function describeJavaValue(v: JavaValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return `'${v.replaceAll("'", "''")}'`;
  return String(v.value);
}

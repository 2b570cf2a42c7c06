// Parsers for option values. A bad value is a usage error (commander's InvalidArgumentError → exit 2),
// caught before any request is sent.
import { InvalidArgumentError } from 'commander';

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds, or ISO-8601; without a zone offset the time is local (a date alone: local midnight). */
export function parseTime(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('epoch milliseconds must be a positive whole number.');
    return n;
  }
  const m = ISO.exec(v);
  // JavaScript reads a bare date as UTC but a bare date-time as local; make both local.
  const ms = m ? Date.parse(m[2] ? v.replace(' ', 'T') : `${m[1]}T00:00:00`) : NaN;
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected ISO-8601 (e.g. 2025-06-01T10:00:00Z) or epoch milliseconds.');
  return ms;
}

export function parseTimeoutSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) throw new InvalidArgumentError('expected a number of seconds greater than 0.');
  return n;
}

export function parseUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:3000.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:3000.');
  return value;
}

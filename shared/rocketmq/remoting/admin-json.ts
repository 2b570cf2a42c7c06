// Tolerant reading of the JSON brokers answer to admin requests (fastjson output: lenient syntax,
// numbers and booleans sometimes as strings, fields a version lacks simply absent). Shared by
// admin-codec.ts (topics, groups) and acl-codec.ts (ACL 1.0 and 2.0).
import { parseLenientJson } from './codec.ts';
import { RemotingError } from './errors.ts';

/** Canonical text of a DataVersion for equality between pages (field order can differ). */
export function parseDataVersionJson(v: unknown): string {
  if (!isObject(v)) return JSON.stringify(v ?? null);
  return JSON.stringify(Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))));
}

export function parseJson(text: string, what: string): unknown {
  try {
    return parseLenientJson(text);
  } catch (err) {
    throw new RemotingError(`${what}: broker answered malformed JSON`, { cause: err });
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asObject(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new RemotingError(`${what}: expected a JSON object`);
  return v;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return undefined;
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

export function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  let allStrings = true;
  for (const k in v) if (Object.hasOwn(v, k) && typeof v[k] !== 'string') allStrings = false;
  // JSON.parse made it, so it is a fresh object of this answer's own.
  if (allStrings) return v as Record<string, string>;
  return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export function oneOf<T extends string>(v: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new RemotingError(`unexpected ${what} "${v}" from broker (known: ${allowed.join(', ')})`);
}

/** Drops undefined values so spreading over defaults keeps the defaults. */
export function definedOnly<T extends object>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

// How one zod issue reads as an API error: the field path, and a message that starts with it.
// The API (parseInput) and the console's inline validation both use this, so they say the same words.
import type { z } from 'zod';
import { FerryError } from '../errors.ts';
import { checkText } from './text.ts';

export interface FieldProblem {
  /** Dotted path of the offending field (`source.nameServer`, `filter.topics.include.0`); undefined for the whole body. */
  field: string | undefined;
  message: string;
}

export function describeIssue(issue: z.core.$ZodIssue, prefix = ''): FieldProblem {
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  const field = path || undefined;
  const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}` : issue.message;
  return { field, message: field ? `${field}: ${message}` : message };
}

/** Parses with zod after the text rule (text.ts); the first issue becomes a VALIDATION_FAILED naming its field path. */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown, prefix = ''): z.output<S> {
  checkText(body, prefix ? prefix.split('.') : []);
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const { field, message } = describeIssue(r.error.issues[0]!, prefix);
  throw new FerryError('VALIDATION_FAILED', message, field);
}

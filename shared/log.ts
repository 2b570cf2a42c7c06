// Structured JSON logs (one object per line) for every function and the local runtime.
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * What a database error carries beyond its code and message that may hold data: the statement and
 * its parameters (PGlite attaches them), the values of the offending row (`detail`), the context.
 */
const STATEMENT_FIELDS = ['query', 'params', 'parameters', 'queryOptions', 'detail', 'where', 'internalQuery', 'values'];

/** pino's error serializer, then the statement fields dropped at every depth of `cause`. */
export function serializeError(err: unknown): unknown {
  const out = pino.stdSerializers.err(err as Error) as unknown;
  const strip = (value: unknown, depth: number): unknown => {
    if (typeof value !== 'object' || value === null || depth > 8) return value;
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const f of STATEMENT_FIELDS) delete copy[f];
    // A data exception (SQLSTATE class 22) quotes the offending parameter in its message.
    if (typeof copy.code === 'string' && /^22[0-9A-Z]{3}$/.test(copy.code)) {
      copy.message = `data exception (SQLSTATE ${copy.code})`;
      if (typeof copy.stack === 'string') copy.stack = copy.stack.split('\n').slice(1).join('\n');
    }
    if (copy.cause !== undefined) copy.cause = strip(copy.cause, depth + 1);
    if (Array.isArray(copy.aggregateErrors)) copy.aggregateErrors = copy.aggregateErrors.map((e) => strip(e, depth + 1));
    return copy;
  };
  return strip(out, 0);
}

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ferry' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      // Defence in depth: secrets are never logged on purpose, and are blanked if one slips into a field.
      redact: {
        paths: ['*.secretKey', '*.*.secretKey', '*.password', 'authorization', '*.authorization', 'token', '*.token'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

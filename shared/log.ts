// Structured JSON logs (one object per line) for every function and the local runtime.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'ferry' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Defence in depth: secrets are never logged on purpose, and are blanked if one slips into a field.
      redact: { paths: ['*.secretKey', '*.*.secretKey', '*.password', 'authorization', '*.authorization'], censor: '[redacted]' },
    },
    destination as pino.DestinationStream | undefined,
  );
}

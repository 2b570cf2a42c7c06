// What handlers read from the platform's invocation context, on Lambda and SCF alike.
export interface InvocationContext {
  getRemainingTimeInMillis?: () => number;
  /** Tencent SCF: the function's timeout. */
  time_limit_in_ms?: number;
}

/** Milliseconds this invocation may still run, or `fallbackMs` when the platform does not say. */
export function remainingMs(context: unknown, fallbackMs: number): number {
  const c = (context ?? {}) as InvocationContext;
  if (typeof c.getRemainingTimeInMillis === 'function') return c.getRemainingTimeInMillis();
  if (typeof c.time_limit_in_ms === 'number') return c.time_limit_in_ms;
  return fallbackMs;
}

// What handlers read from the platform's invocation context, on Lambda and SCF alike.
export interface InvocationContext {
  /** Lambda (and SCF runtimes that offer it): what is left of this invocation. */
  getRemainingTimeInMillis?: () => number;
  /**
   * Tencent SCF: the function's configured timeout — the whole allowance, not what is left of it.
   * What is left is this minus the time since the invocation started.
   */
  time_limit_in_ms?: number;
}

/**
 * When this invocation must be done (epoch ms), or undefined when the platform does not say.
 * Call it first thing in a handler: SCF gives only the timeout, so the handler's entry stands for
 * the invocation's start, and every later step (opening the store at a cold start) is then counted.
 */
export function invocationDeadline(context: unknown, now: number = Date.now()): number | undefined {
  const c = (context ?? {}) as InvocationContext;
  if (typeof c.getRemainingTimeInMillis === 'function') return now + c.getRemainingTimeInMillis();
  if (typeof c.time_limit_in_ms === 'number' && c.time_limit_in_ms > 0) return now + c.time_limit_in_ms;
  return undefined;
}

/** Milliseconds left until `deadline` (never negative). */
export const msUntil = (deadline: number, now: number = Date.now()): number => Math.max(0, deadline - now);

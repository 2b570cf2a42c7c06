// The idempotency port: the first answer to a mutating request that carried an Idempotency-Key,
// kept per tenant for a day so a retried request gets that answer again instead of acting twice.

/** A stored answer. */
export interface IdempotentAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type IdempotencyClaim =
  /** The key is this caller's now: run the request, then complete() or release() it. */
  | { state: 'claimed' }
  /** The key was used with another request (method, path or body): a conflict. */
  | { state: 'mismatch' }
  /** The first request with this key is still running. */
  | { state: 'in-flight' }
  /** The first request finished: its answer, to send again. */
  | { state: 'done'; answer: IdempotentAnswer };

export interface IdempotencyStore {
  /**
   * Claims `key` for a request with this fingerprint, unless a live claim exists: answers within
   * `ttlMs` count, and an unfinished claim older than `staleMs` (a crashed process) is taken over.
   */
  claimIdempotencyKey(
    tenant: string,
    key: string,
    fingerprint: string,
    opts: { ttlMs: number; staleMs: number },
  ): Promise<IdempotencyClaim>;
  /** Stores the answer of a claimed key. */
  completeIdempotencyKey(tenant: string, key: string, answer: IdempotentAnswer): Promise<void>;
  /** Drops an unfinished claim (the request failed in a way worth retrying). */
  releaseIdempotencyKey(tenant: string, key: string): Promise<void>;
  /** Deletes keys older than `ttlMs`; returns how many. */
  pruneIdempotencyKeys(ttlMs: number): Promise<number>;
}

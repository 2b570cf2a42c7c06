// Request preconditions of api.md: `If-Match: "<version>"` on changes to a task (stale → CONFLICT),
// `ETag: "<version>"` on answers that carry a task, and `Idempotency-Key` on every mutating request
// (the same key with the same request within 24 h → the first answer again; with another request →
// CONFLICT), kept per tenant in the store.
import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { FerryError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IdempotencyStore } from '../store/store.ts';
import { errorResponse } from './errors.ts';
import type { ApiRequest, ApiResponse } from './http.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** A claim with no answer this old belongs to a process that died mid-request: the key is free again. */
const ABANDONED_MS = 5 * 60_000;
const PRUNE_EVERY_MS = 10 * 60_000;
// Visible ASCII, as a header value carries it; long enough for a UUID or a hash and a prefix.
const KEY_RE = /^[\x21-\x7e]{1,255}$/;
/** What a stored answer keeps of its headers (never Retry-After: that one is about its moment). */
const KEPT_HEADERS = ['content-type', 'etag', 'location'];

/** The version an `If-Match` header names: undefined when absent or `*`; VALIDATION_FAILED when not `"<version>"`. */
export function ifMatchVersion(headers: Record<string, string>): number | undefined {
  const raw = headers['if-match']?.trim();
  if (raw === undefined || raw === '' || raw === '*') return undefined;
  const m = /^(?:W\/)?"(\d{1,15})"$/.exec(raw);
  const version = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new FerryError('VALIDATION_FAILED', 'If-Match must be one task version in quotes, as ETag gives it: "7"', 'If-Match');
  }
  return version;
}

/** `"<version>"` for an answer that is a task (it has a numeric version), else undefined. */
export function taskEtag(body: unknown): string | undefined {
  const version = typeof body === 'object' && body !== null ? (body as { version?: unknown }).version : undefined;
  return typeof version === 'number' ? `"${version}"` : undefined;
}

const lastPrune = new WeakMap<IdempotencyStore, number>();

/**
 * Runs a mutating request under its Idempotency-Key, if it has one. Answers below 500 are kept (a
 * refusal is an answer too); a failure of Ferry's own releases the key so a retry runs again.
 * `replayable: false` (a minted token, shown only once) keeps no body: a retry is a CONFLICT.
 */
export async function idempotent(
  store: IdempotencyStore,
  p: Principal,
  req: ApiRequest,
  log: Logger,
  opts: { replayable: boolean },
  run: () => Promise<ApiResponse>,
): Promise<ApiResponse> {
  const key = req.headers['idempotency-key'];
  if (key === undefined || req.method === 'GET') return run();
  if (!KEY_RE.test(key)) {
    throw new FerryError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 visible ASCII characters', 'Idempotency-Key');
  }
  prune(store, log);
  const fingerprint = createHash('sha256')
    .update(`${req.method} ${req.path}\n${req.body ?? ''}`, 'utf8')
    .digest('hex');
  const claim = await store.claimIdempotencyKey(p.tenant, key, fingerprint, { ttlMs: IDEMPOTENCY_TTL_MS, staleMs: ABANDONED_MS });
  if (claim.state === 'mismatch') {
    throw new FerryError('CONFLICT', 'this Idempotency-Key was used with another request (method, path or body)', 'Idempotency-Key');
  }
  if (claim.state === 'in-flight') {
    throw new FerryError('CONFLICT', 'a request with this Idempotency-Key is still being answered; retry shortly', 'Idempotency-Key');
  }
  if (claim.state === 'done') {
    if (!opts.replayable && claim.answer.status < 300) {
      throw new FerryError('CONFLICT', 'this Idempotency-Key already minted a token, which is shown only once', 'Idempotency-Key');
    }
    return { status: claim.answer.status, headers: { ...claim.answer.headers, 'idempotent-replayed': 'true' }, body: claim.answer.body };
  }
  let answer: ApiResponse;
  try {
    answer = await run();
  } catch (err) {
    if (!(err instanceof FerryError) || err.code === 'INTERNAL') {
      await store.releaseIdempotencyKey(p.tenant, key).catch(() => undefined);
      throw err;
    }
    answer = errorResponse(err);
  }
  if (answer.status >= 500) {
    await store.releaseIdempotencyKey(p.tenant, key).catch(() => undefined);
    return answer;
  }
  const headers = Object.fromEntries(Object.entries(answer.headers).filter(([k]) => KEPT_HEADERS.includes(k.toLowerCase())));
  await store.completeIdempotencyKey(p.tenant, key, {
    status: answer.status,
    headers,
    body: opts.replayable || answer.status >= 300 ? answer.body : '',
  });
  return answer;
}

/** Keys older than a day go, at most every ten minutes per store, off the request's path. */
function prune(store: IdempotencyStore, log: Logger): void {
  const now = Date.now();
  if (now - (lastPrune.get(store) ?? 0) < PRUNE_EVERY_MS) return;
  lastPrune.set(store, now);
  store.pruneIdempotencyKeys(IDEMPOTENCY_TTL_MS).catch((err: unknown) => log.warn({ err }, 'pruning idempotency keys failed'));
}

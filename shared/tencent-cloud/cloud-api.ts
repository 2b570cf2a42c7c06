// Calling the Tencent Cloud API (the SDK signs each request, TC3): which host serves a product, what
// its errors mean, retries of rate-limited calls, and Offset/Limit pagination. Whose keys sign a
// call is credentials.ts's business.
export type TencentService = 'tdmq' | 'trocket';

/** Which product administers a Tencent cluster, from its id: `rmq-…` 5.x (trocket), `rocketmq-…` 4.x (tdmq). */
export function tencentServiceFor(clusterId: string): TencentService | undefined {
  if (clusterId.startsWith('rmq-')) return 'trocket';
  if (clusterId.startsWith('rocketmq-')) return 'tdmq';
  return undefined;
}

/**
 * The SDK's `endpoint` (a host) and `protocol` for a service. `override` is a host or URL in which
 * `{service}` stands for the service name; without the placeholder every service goes there.
 */
export function serviceEndpoint(service: TencentService, override?: string): { endpoint: string; protocol: string } {
  if (!override) return { endpoint: `${service}.tencentcloudapi.com`, protocol: 'https://' };
  return sdkEndpoint(override.replaceAll('{service}', service));
}

/** A host (https) or URL as the SDK wants it: a host and a protocol prefix ("https://") apart. */
export function sdkEndpoint(target: string): { endpoint: string; protocol: string } {
  if (!target.includes('://')) return { endpoint: target, protocol: 'https://' };
  const url = new URL(target);
  return { endpoint: url.host, protocol: `${url.protocol}//` };
}

/** What a failed call means to the caller. */
export type CloudApiFailure =
  /** Keys refused or not allowed (AuthFailure.*, UnauthorizedOperation.*): fix the task's or deployment's keys. */
  | 'auth'
  /** ResourceNotFound.*: the item (or the cluster) is not there. */
  | 'gone'
  /** RequestLimitExceeded.* (rate) or LimitExceeded.* (quota): try again later. */
  | 'throttled'
  /** ResourceInUse.* / ResourceExisted.*: e.g. created meanwhile by someone else. */
  | 'conflict'
  /** InvalidParameter*, MissingParameter: the request was refused as written. */
  | 'invalid'
  /** UnsupportedOperation.*: the cluster cannot do this at all (a capability gap, not worth retrying). */
  | 'unsupported'
  /** No Cloud API answer (network, timeout, non-200 HTTP status). */
  | 'unavailable'
  | 'failed';

export class TencentCloudApiError extends Error {
  readonly failure: CloudApiFailure;
  /** The Cloud API's error code (`AuthFailure.SignatureFailure`, …); undefined without an answer. */
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly action: string;
  readonly clusterId: string;
  /** Worth trying again later (the next cycle) without changing anything. */
  readonly retryable: boolean;

  constructor(fields: {
    failure: CloudApiFailure;
    code?: string | undefined;
    requestId?: string | undefined;
    action: string;
    clusterId: string;
    message: string;
    cause?: unknown;
  }) {
    super(fields.message, { cause: fields.cause });
    this.name = 'TencentCloudApiError';
    this.failure = fields.failure;
    this.code = fields.code;
    this.requestId = fields.requestId;
    this.action = fields.action;
    this.clusterId = fields.clusterId;
    this.retryable = fields.failure === 'throttled' || fields.failure === 'unavailable' || fields.code === 'InternalError';
  }
}

export interface CallContext {
  clusterId: string;
  region: string;
}

function failureOf(code: string): CloudApiFailure {
  const head = code.split('.')[0]!;
  switch (head) {
    case 'AuthFailure':
    case 'UnauthorizedOperation':
      return 'auth';
    case 'ResourceNotFound':
      return 'gone';
    case 'RequestLimitExceeded':
    case 'LimitExceeded':
      return 'throttled';
    case 'ResourceInUse':
    case 'ResourceExisted':
      return 'conflict';
    case 'InvalidParameter':
    case 'InvalidParameterValue':
    case 'MissingParameter':
    case 'UnknownParameter':
      return 'invalid';
    default:
      return 'failed';
  }
}

/**
 * The SDK's TencentCloudSDKHttpException (`code` and `requestId` for a Cloud API error, `httpCode`
 * for a non-200 answer, neither for a network failure) as an error naming the cluster and action.
 */
function toCloudApiError(err: unknown, action: string, ctx: CallContext): TencentCloudApiError {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & { code?: unknown; requestId?: unknown; httpCode?: unknown };
  const code = typeof e.code === 'string' && e.code ? e.code : undefined;
  const requestId = typeof e.requestId === 'string' && e.requestId ? e.requestId : undefined;
  const where = `cluster ${ctx.clusterId} (${ctx.region})`;
  const rid = requestId ? `; request id ${requestId}` : '';
  if (!code) {
    const status = typeof e.httpCode === 'number' ? `HTTP ${e.httpCode}` : 'no answer';
    return new TencentCloudApiError({
      failure: 'unavailable',
      requestId,
      action,
      clusterId: ctx.clusterId,
      message: `Tencent Cloud API ${action} for ${where}: ${status}: ${e.message}`,
      cause: err,
    });
  }
  if (code.startsWith('UnsupportedOperation')) {
    return new TencentCloudApiError({
      failure: 'unsupported',
      code,
      requestId,
      action,
      clusterId: ctx.clusterId,
      message: `${where}: the Cloud API does not support ${action} here (${code}: ${e.message}${rid})`,
      cause: err,
    });
  }
  const failure = failureOf(code);
  const message =
    failure === 'auth'
      ? `Tencent Cloud API refused the keys for ${where}: ${code}: ${e.message} (check the task's cloudApi keys or ` +
        `TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY, and their CAM permissions${rid})`
      : `Tencent Cloud API ${action} for ${where} failed: ${code}: ${e.message}${rid ? ` (${rid.slice(2)})` : ''}`;
  return new TencentCloudApiError({ failure, code, requestId, action, clusterId: ctx.clusterId, message, cause: err });
}

export interface RetryOptions {
  /** Attempts per call when the Cloud API rate-limits it (RequestLimitExceeded). Default 4. */
  attempts?: number;
  /** First wait; doubles per attempt. Default 500 ms. */
  delayMs?: number;
}

/**
 * One Cloud API call, mapped errors, rate limits retried with backoff: a snapshot of a large
 * cluster pages through hundreds of Describe calls, and the API's per-action rate limit is low.
 */
export async function callCloudApi<T>(ctx: CallContext, action: string, call: () => Promise<T>, retry: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, retry.attempts ?? 4);
  let delay = retry.delayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const mapped = toCloudApiError(err, action, ctx);
      const rateLimited = mapped.code?.startsWith('RequestLimitExceeded') === true;
      if (!rateLimited || attempt >= attempts) throw mapped;
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
}

/**
 * Every item of a Describe… list: pages of `pageSize` from Offset 0 until TotalCount items are in
 * (or a page comes back short when the API gives no total). Offsets advance by what each page held,
 * so an API that caps Limit below `pageSize` is still read to the end.
 */
export async function paginate<T>(
  pageSize: number,
  fetchPage: (offset: number, limit: number) => Promise<{ total?: number | undefined; items?: T[] | null | undefined }>,
): Promise<T[]> {
  const all: T[] = [];
  for (;;) {
    const page = await fetchPage(all.length, pageSize);
    const items = page.items ?? [];
    all.push(...items);
    if (items.length === 0) return all;
    if (page.total !== undefined && page.total !== null) {
      if (all.length >= page.total) return all;
    } else if (items.length < pageSize) {
      return all;
    }
  }
}

/** A call bound to one cluster's context and retry settings. */
export type Caller = <T>(action: string, call: () => Promise<T>) => Promise<T>;

/** Resolves when the call succeeded or found nothing to act on (ResourceNotFound). */
export async function ignoreGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TencentCloudApiError && err.failure === 'gone') return;
    throw err;
  }
}

/** Like Promise.all, but settles every call before failing with the first error: nothing is left in flight. */
export async function allSettledOrThrow<T extends readonly unknown[]>(calls: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(calls);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

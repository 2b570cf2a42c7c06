// The one client of the Ferry HTTP API (../shared/design/api.md), used by the CLI (shared/cli) and
// the web console (console/src/api.ts). It only speaks HTTP and JSON on the platform's fetch — no
// Node APIs — so it runs in both. Its types come from the API contract (contract.ts), imported as
// types only: the client itself carries no zod, and checking answers against the schemas is
// something a user plugs in (`check`; the CLI does, the console relies on the types).
import type {
  AuditList,
  ErrorBody,
  FailureList,
  Health,
  MetadataList,
  OffsetSyncList,
  MetricsSeries,
  OpenApiDocument,
  OperationId,
  ResponseOf,
  RetryRequested,
  TaskDetails,
  TaskPage,
  TaskPreview,
  TaskView,
  TokenIssued,
  TokenList,
  operations,
} from './contract.ts';

/** The API answered with `{error: {code, message, field}}` (or something that is not Ferry). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** No HTTP answer at all: refused, DNS, TLS, or no answer within the request timeout. */
export class UnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`cannot reach the Ferry API at ${url} (${reason})`);
    this.name = 'UnreachableError';
  }
}

/**
 * The code of an ApiError for an answer that is not Ferry's: a non-Ferry error is `HTTP_<status>`
 * (a proxy, a wrong URL, a gateway error page); a success whose body breaks the contract is this.
 */
export const UNEXPECTED_RESPONSE = 'UNEXPECTED_RESPONSE';

/** Why a successful answer's body is not what the operation answers with, or undefined when it is. */
export type ResponseCheck = (operation: OperationId, body: unknown) => string | undefined | Promise<string | undefined>;

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ApiClientOptions {
  /** The API's origin (and base path, if any); '' for the page's own origin in a browser. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`: a fixed token, or a function asked on every request. */
  token?: string | null | undefined | (() => string | null | undefined);
  /** Per request (default 30 s); a server that accepts the connection but never answers is as good as unreachable. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Called when the API refuses a token with 401, with the token that was sent (the request still throws). */
  onUnauthorized?: (error: ApiError, token: string | undefined) => void;
  /** Checks every successful answer against the contract (contract.ts checkResponse). */
  check?: ResponseCheck;
}

export interface ListTasksQuery {
  status?: string | undefined;
  name?: string | undefined;
  /** 1..1000; the API's default is 50. */
  limit?: number | undefined;
  cursor?: string | undefined;
}

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  path: string;
  body?: unknown;
  query?: Query;
  /** Statuses besides 2xx whose body is the operation's answer (health's 503). */
  alsoOk?: number[];
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** One page of the tenant's tasks, newest first. */
  listTasks(q: ListTasksQuery = {}): Promise<TaskPage> {
    return this.call('listTasks', { path: '/v1/tasks', query: { status: q.status, name: q.name, limit: q.limit, cursor: q.cursor } });
  }

  /** Every task of the tenant: follows the cursor page by page. */
  async listAllTasks(q: Omit<ListTasksQuery, 'limit' | 'cursor'> = {}): Promise<TaskView[]> {
    const items: TaskView[] = [];
    let cursor: string | null = null;
    do {
      const page: TaskPage = await this.listTasks({ ...q, limit: 1000, cursor: cursor ?? undefined });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  /** The task with the latest minute of each flow. */
  getTask(id: string): Promise<TaskDetails> {
    return this.call('getTask', { path: `/v1/tasks/${enc(id)}` });
  }

  createTask(body: unknown): Promise<TaskView> {
    return this.call('createTask', { path: '/v1/tasks', body });
  }

  /** What a task body's filters would take from its source cluster(s) now; nothing is created. */
  previewTask(body: unknown): Promise<TaskPreview> {
    return this.call('previewTask', { path: '/v1/tasks/preview', body });
  }

  /**
   * PATCH: a JSON merge patch of the task's definition (rename; while stopped or start_failed also
   * endpoints, filter, tpsLimit, shards). `version` in the body makes it fail with CONFLICT if the
   * task changed since. A patch that changes nothing answers the task unchanged (same version).
   */
  updateTask(id: string, patch: Record<string, unknown>): Promise<TaskView> {
    return this.call('updateTask', { path: `/v1/tasks/${enc(id)}`, body: patch });
  }

  /** A rename; `version` makes it fail with CONFLICT if the task changed since. */
  renameTask(id: string, name: string, version?: number): Promise<TaskView> {
    return this.updateTask(id, version === undefined ? { name } : { name, version });
  }

  startTask(id: string): Promise<TaskView> {
    return this.call('startTask', { path: `/v1/tasks/${enc(id)}/start` });
  }

  stopTask(id: string): Promise<TaskView> {
    return this.call('stopTask', { path: `/v1/tasks/${enc(id)}/stop` });
  }

  failover(id: string, body: { mode: 'planned' | 'unplanned'; reverse: boolean }): Promise<TaskView> {
    return this.call('failoverTask', { path: `/v1/tasks/${enc(id)}/failover`, body });
  }

  resetOffset(id: string, timestamp: number): Promise<TaskView> {
    return this.call('resetOffset', { path: `/v1/tasks/${enc(id)}/reset-offset`, body: { timestamp } });
  }

  async deleteTask(id: string): Promise<void> {
    await this.call('deleteTask', { path: `/v1/tasks/${enc(id)}` });
  }

  /** Per-minute series for [from, to) in epoch milliseconds (default: the last hour). */
  metrics(id: string, q: { from?: number | undefined; to?: number | undefined } = {}): Promise<MetricsSeries> {
    return this.call('getMetrics', { path: `/v1/tasks/${enc(id)}/metrics`, query: { from: q.from, to: q.to } });
  }

  metadata(id: string): Promise<MetadataList> {
    return this.call('getMetadata', { path: `/v1/tasks/${enc(id)}/metadata` });
  }

  /** Consumer offset translation: each group's latest outcome per source queue. */
  offsets(id: string): Promise<OffsetSyncList> {
    return this.call('getOffsets', { path: `/v1/tasks/${enc(id)}/offsets` });
  }

  failures(id: string, q: { limit?: number | undefined; includePayload?: boolean | undefined } = {}): Promise<FailureList> {
    return this.call('getFailures', { path: `/v1/tasks/${enc(id)}/failures`, query: { limit: q.limit, includePayload: q.includePayload } });
  }

  retryFailures(id: string): Promise<RetryRequested> {
    return this.call('retryFailures', { path: `/v1/tasks/${enc(id)}/failures/retry` });
  }

  events(id: string): Promise<AuditList> {
    return this.call('getEvents', { path: `/v1/tasks/${enc(id)}/events` });
  }

  /** A new token in the caller's tenant (admins only); role defaults to reader. */
  createToken(body: { role?: 'admin' | 'reader'; label?: string; expiresInDays?: number } = {}): Promise<TokenIssued> {
    return this.call('createToken', { path: '/v1/tokens', body });
  }

  /** The tenant's tokens (admins only): ids, never the tokens. */
  listTokens(): Promise<TokenList> {
    return this.call('listTokens', { path: '/v1/tokens' });
  }

  /** Revokes a token of the tenant by its id (admins only). */
  async deleteToken(id: string): Promise<void> {
    await this.call('deleteToken', { path: `/v1/tokens/${enc(id)}` });
  }

  async revokeToken(token: string): Promise<void> {
    await this.call('revokeToken', { path: '/v1/tokens/revoke', body: { token } });
  }

  /** Liveness and store reachability; an unreachable store is an answer too (503, status "unavailable"). */
  health(): Promise<Health> {
    return this.call('health', { path: '/v1/health', alsoOk: [503] });
  }

  openApi(): Promise<OpenApiDocument> {
    return this.call('getOpenApi', { path: '/v1/openapi.json' });
  }

  private async call<K extends OperationId>(operation: K, c: Call): Promise<ResponseOf<K>> {
    const method = METHODS[operation];
    const qs = new URLSearchParams(
      Object.entries(c.query ?? {})
        .filter((e): e is [string, string | number | boolean] => e[1] !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    ).toString();
    const url = `${this.base}${c.path}${qs ? `?${qs}` : ''}`;
    const token = (typeof this.opts.token === 'function' ? this.opts.token() : this.opts.token) || undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    // Called unbound: a browser's fetch refuses to run with a `this` other than the window.
    const fetchFn = this.fetchFn;
    let res: Response;
    let text: string;
    try {
      res = await fetchFn(url, {
        method,
        headers,
        body: c.body === undefined ? undefined : JSON.stringify(c.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(this.base || 'this origin', networkReason(err, this.timeoutMs));
    }
    const parsed = parseJson(text);
    if (res.ok || c.alsoOk?.includes(res.status)) {
      const problem = this.opts.check ? await this.opts.check(operation, parsed) : undefined;
      if (problem !== undefined) {
        throw new ApiError(
          res.status,
          UNEXPECTED_RESPONSE,
          `unexpected answer from ${this.base || 'the API'} to ${method} ${c.path} (HTTP ${res.status}): ${problem}`,
        );
      }
      return parsed as ResponseOf<K>;
    }
    const e = errorBody(parsed);
    if (e) {
      const err = new ApiError(res.status, e.code, e.message, e.field);
      if (res.status === 401) this.opts.onUnauthorized?.(err, token);
      throw err;
    }
    // Not Ferry's error shape: a proxy, a wrong URL, a gateway error page.
    const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    const err = new ApiError(
      res.status,
      `HTTP_${res.status}`,
      `unexpected answer from ${this.base || 'the API'} (HTTP ${res.status}${snippet ? `: ${snippet}` : ''})`,
    );
    if (res.status === 401) this.opts.onUnauthorized?.(err, token);
    throw err;
  }
}

// The contract's methods as plain data (importing the contract's values would bring zod along);
// the type makes sure they are the contract's.
const METHODS = {
  createTask: 'POST',
  previewTask: 'POST',
  listTasks: 'GET',
  getTask: 'GET',
  updateTask: 'PATCH',
  deleteTask: 'DELETE',
  startTask: 'POST',
  stopTask: 'POST',
  resetOffset: 'POST',
  failoverTask: 'POST',
  getMetrics: 'GET',
  getMetadata: 'GET',
  getOffsets: 'GET',
  getFailures: 'GET',
  retryFailures: 'POST',
  getEvents: 'GET',
  getOpenApi: 'GET',
  listTokens: 'GET',
  createToken: 'POST',
  deleteToken: 'DELETE',
  revokeToken: 'POST',
  health: 'GET',
} as const satisfies { [K in OperationId]: (typeof operations)[K]['method'] };

const enc = encodeURIComponent;

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorBody(v: unknown): ErrorBody['error'] | undefined {
  if (typeof v !== 'object' || v === null || !('error' in v)) return undefined;
  const e = (v as { error: unknown }).error;
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, message, field } = e as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  return typeof field === 'string' ? { code, message, field } : { code, message };
}

/** fetch hides the socket error in `cause` (undici); name what happened without a stack. */
function networkReason(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${timeoutMs / 1000}s`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

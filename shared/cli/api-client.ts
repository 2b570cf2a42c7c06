// A small client for the Ferry HTTP API (../shared/design/api.md) on the platform's fetch. It only
// speaks HTTP and JSON — no Node APIs — so other front ends may reuse it; the CLI is its first user.
import type { TaskView } from '../tasks/model.ts';

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

export interface TaskDetails extends TaskView {
  /** The latest minute of each flow, from GET /v1/tasks/{id}. */
  summary: { flow: string; minuteMs: number; lag: number | null; delayP99Ms: number | null; replicated: number; failed: number }[];
}

export interface MetricsPoint {
  flow: string;
  minuteMs: number;
  consumed: number;
  replicated: number;
  filtered: number;
  loopSkipped: number;
  failed: number;
  throttled: number;
  lag: number | null;
  delayP50Ms: number | null;
  delayP99Ms: number | null;
  delayMaxMs: number | null;
}

export interface MetricsSeries {
  from: number;
  to: number;
  stepMs: number;
  points: MetricsPoint[];
}

export interface ApiClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Per request; a server that accepts the connection but never answers is as good as unreachable. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ApiClientOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.fetchFn = opts.fetch ?? fetch;
  }

  async listTasks(q: { status?: string | undefined; name?: string | undefined } = {}): Promise<TaskView[]> {
    const items: TaskView[] = [];
    let cursor: string | null = null;
    // Follow the cursor: a CLI listing shows every task, not the first page.
    do {
      const page: { items: TaskView[]; nextCursor: string | null } = await this.request('GET', '/v1/tasks', undefined, { ...q, limit: '1000', cursor: cursor ?? undefined });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }

  getTask(id: string): Promise<TaskDetails> {
    return this.request('GET', `/v1/tasks/${enc(id)}`);
  }

  createTask(body: unknown): Promise<TaskView> {
    return this.request('POST', '/v1/tasks', body);
  }

  startTask(id: string): Promise<TaskView> {
    return this.request('POST', `/v1/tasks/${enc(id)}/start`);
  }

  stopTask(id: string): Promise<TaskView> {
    return this.request('POST', `/v1/tasks/${enc(id)}/stop`);
  }

  renameTask(id: string, name: string): Promise<TaskView> {
    return this.request('PATCH', `/v1/tasks/${enc(id)}`, { name });
  }

  resetOffset(id: string, timestamp: number): Promise<TaskView> {
    return this.request('POST', `/v1/tasks/${enc(id)}/reset-offset`, { timestamp });
  }

  async deleteTask(id: string): Promise<void> {
    await this.request('DELETE', `/v1/tasks/${enc(id)}`);
  }

  metrics(id: string, q: { from?: number | undefined; to?: number | undefined } = {}): Promise<MetricsSeries> {
    return this.request('GET', `/v1/tasks/${enc(id)}/metrics`, undefined, { from: q.from?.toString(), to: q.to?.toString() });
  }

  async request<T>(method: string, path: string, body?: unknown, query: Record<string, string | undefined> = {}): Promise<T> {
    const qs = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    const url = `${this.base}${path}${qs ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(this.base, networkReason(err, this.opts.timeoutMs ?? 30_000));
    }
    const parsed = parseJson(text);
    if (res.ok) return (parsed ?? undefined) as T;
    const e = errorBody(parsed);
    if (e) throw new ApiError(res.status, e.code, e.message, e.field);
    // Not Ferry's error shape: a proxy, a wrong --url, a gateway error page.
    const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
    throw new ApiError(res.status, `HTTP_${res.status}`, `unexpected answer from ${this.base} (HTTP ${res.status}${snippet ? `: ${snippet}` : ''}) — is --url a Ferry API?`);
  }
}

const enc = encodeURIComponent;

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorBody(v: unknown): { code: string; message: string; field?: string } | undefined {
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

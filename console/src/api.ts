// The console's HTTP client: the token lives in sessionStorage only (gone with the tab), every call
// sends it, a 401 anywhere sends the user back to token entry, and API errors keep code and field.
import type { MetadataItem, MetricsRow, ParkedMessage } from '../../shared/store/store.ts';
import type { TaskView } from '../../shared/tasks/model.ts';

const TOKEN_KEY = 'ferry.token';

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

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

let onUnauthorized: (message: string) => void = () => {};
export function setUnauthorizedHandler(handler: (message: string) => void): void {
  onUnauthorized = handler;
}

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

/** Calls the API with the stored token (or `token`); JSON in and out. */
export async function api<T>(method: string, path: string, body?: unknown, token: string | null = tokenStore.get()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = (parsed as ErrorBody | undefined)?.error;
    const err = new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `${method} ${path} failed with HTTP ${res.status}`, e?.field);
    if (res.status === 401 && token === tokenStore.get()) {
      tokenStore.clear();
      onUnauthorized(err.message);
    }
    throw err;
  }
  return parsed as T;
}

export type Task = TaskView;
export interface FlowSummary {
  flow: string;
  minuteMs: number;
  lag: number | null;
  delayP99Ms: number | null;
  replicated: number;
  failed: number;
}
export type TaskDetails = TaskView & { summary: FlowSummary[] };
export type MetricsPoint = Omit<MetricsRow, 'taskId'>;
export interface Metrics {
  from: number;
  to: number;
  stepMs: number;
  points: MetricsPoint[];
}
export type MetadataRow = Omit<MetadataItem, 'taskId' | 'syncedAt'> & { syncedAt: string };
export type ParkedRow = Omit<ParkedMessage, 'payload' | 'parkedAt' | 'retryRequestedAt' | 'resolvedAt'> & {
  parkedAt: string;
  retryRequestedAt: string | null;
  resolvedAt: string | null;
};
export interface AuditRow {
  id: number;
  actor: string;
  action: string;
  at: string;
  before: unknown;
  after: unknown;
}

const enc = encodeURIComponent;
export const tasksApi = {
  list: () => api<{ items: Task[]; nextCursor: string | null }>('GET', '/v1/tasks?limit=1000'),
  describe: (id: string) => api<TaskDetails>('GET', `/v1/tasks/${enc(id)}`),
  create: (body: unknown) => api<Task>('POST', '/v1/tasks', body),
  rename: (id: string, name: string, version: number) => api<Task>('PATCH', `/v1/tasks/${enc(id)}`, { name, version }),
  start: (id: string) => api<Task>('POST', `/v1/tasks/${enc(id)}/start`),
  stop: (id: string) => api<Task>('POST', `/v1/tasks/${enc(id)}/stop`),
  resetOffset: (id: string, timestamp: number) => api<Task>('POST', `/v1/tasks/${enc(id)}/reset-offset`, { timestamp }),
  remove: (id: string) => api<undefined>('DELETE', `/v1/tasks/${enc(id)}`),
  metrics: (id: string, from: number, to: number) => api<Metrics>('GET', `/v1/tasks/${enc(id)}/metrics?from=${from}&to=${to}`),
  metadata: (id: string) => api<{ items: MetadataRow[] }>('GET', `/v1/tasks/${enc(id)}/metadata`),
  failures: (id: string) => api<{ items: ParkedRow[] }>('GET', `/v1/tasks/${enc(id)}/failures`),
  retryFailures: (id: string) => api<{ requested: number }>('POST', `/v1/tasks/${enc(id)}/failures/retry`),
  events: (id: string) => api<{ items: AuditRow[] }>('GET', `/v1/tasks/${enc(id)}/events`),
};

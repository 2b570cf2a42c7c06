// `ferry apply -f task.json`: the file is the task as it should be. No task of that name → it is
// created (as `tasks create` would); one exists → the file is sent as a PATCH of it, with the
// version it was read at, and fields the file leaves out of an endpoint removed. The API decides
// what changed (secrets included, compared in the clear on the server) and writes nothing when
// nothing did, so applying the same file twice says "unchanged" — even while the task runs.
import { ApiError, type ApiClient } from '../api/client.ts';
import type { EndpointView, TaskView } from '../api/contract.ts';
import type { TaskInput } from '../tasks/schema.ts';

export interface Applied {
  action: 'created' | 'updated' | 'unchanged';
  task: TaskView;
  /** What an update changed, as far as the task's view shows it (secrets show as `secrets`). */
  changed: string[];
}

/** A task that must be stopped before the file can be applied. */
export class MustStop extends Error {
  constructor(readonly task: TaskView) {
    super(
      `task ${task.name} (${task.id}) is ${task.status}: a running task cannot be edited; ` +
        `stop it first (ferry tasks stop ${task.id}), apply again, then start it`,
    );
  }
}

/** `body` is the file as written, `input` the same checked with the API's schema (defaults applied). */
export async function applyTask(api: ApiClient, body: Record<string, unknown>, input: TaskInput): Promise<Applied> {
  // The name filter is a substring match; names are unique per tenant, so at most one is this one.
  const existing = (await api.listAllTasks({ name: input.name })).find((t) => t.name === input.name);
  if (!existing) return { action: 'created', task: await api.createTask(body), changed: [] };
  const { start: _start, ...definition } = input;
  let task: TaskView;
  try {
    task = await api.updateTask(existing.id, {
      ...definition,
      source: { ...removed(existing.source, definition.source), ...definition.source },
      target: { ...removed(existing.target, definition.target), ...definition.target },
      version: existing.version,
    });
  } catch (err) {
    if (err instanceof ApiError && err.code === 'TASK_RUNNING') throw new MustStop(existing);
    throw err;
  }
  if (task.version === existing.version) return { action: 'unchanged', task, changed: [] };
  const changed = differences(existing, task);
  return { action: 'updated', task, changed: changed.length ? changed : ['secrets'] };
}

/** `null` (remove) for each field of the stored endpoint the file does not state: the file is the whole endpoint. */
function removed(stored: EndpointView, wanted: object): Record<string, null> {
  return Object.fromEntries(Object.keys(stored).flatMap((k) => (k in wanted ? [] : [[k, null]])));
}

const DEFINITION = ['name', 'source', 'target', 'filter', 'tpsLimit', 'shards'] as const;

function differences(before: TaskView, after: TaskView): string[] {
  const leaves = (a: unknown, b: unknown, path: string): string[] => {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
      return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().flatMap((k) => leaves(a[k], b[k], `${path}.${k}`));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path];
  };
  return DEFINITION.flatMap((k) => leaves(before[k], after[k], k));
}

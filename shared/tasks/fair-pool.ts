// Work on many tenants' tasks at once without one tenant holding the rest up: tasks are taken
// round-robin across tenants (one of each tenant in turn, in their listed order) by a bounded
// number of workers, and no tenant has more than its share of them busy while another tenant waits.
// Twenty tasks of one tenant pointing at a silent name server then delay another tenant's task by
// at most one of them being started ahead of it, not by twenty deadlines.

export interface FairPoolOptions {
  /** Tasks in progress at once, over every tenant. */
  concurrency: number;
  /** Tasks of one tenant in progress at once while other tenants have tasks waiting. */
  perTenant: number;
}

/** Runs `work` for every item, at most `concurrency` at once and fairly across `tenantOf`; never rejects (work handles its errors). */
export async function runFairly<T>(
  items: readonly T[],
  tenantOf: (item: T) => string,
  opts: FairPoolOptions,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const waiting = new Map<string, T[]>();
  for (const item of items) {
    const key = tenantOf(item);
    const list = waiting.get(key);
    if (list) list.push(item);
    else waiting.set(key, [item]);
  }
  const busy = new Map<string, number>();
  const order = [...waiting.keys()];
  let turn = 0;
  /** The next item: the next tenant in turn with work waiting and a free share (or any, once only one tenant waits). */
  const next = (): [string, T] | undefined => {
    const tenants = order.filter((t) => (waiting.get(t)?.length ?? 0) > 0);
    if (tenants.length === 0) return undefined;
    for (let i = 0; i < order.length; i++) {
      const t = order[(turn + i) % order.length]!;
      const list = waiting.get(t)!;
      if (list.length === 0) continue;
      if ((busy.get(t) ?? 0) >= opts.perTenant && tenants.length > 1) continue;
      turn = (turn + i + 1) % order.length;
      return [t, list.shift()!];
    }
    return undefined;
  };
  await new Promise<void>((resolve) => {
    let running = 0;
    const fill = () => {
      while (running < opts.concurrency) {
        const got = next();
        if (!got) break;
        const [tenant, item] = got;
        running++;
        busy.set(tenant, (busy.get(tenant) ?? 0) + 1);
        void work(item)
          .catch(() => undefined)
          .finally(() => {
            running--;
            busy.set(tenant, (busy.get(tenant) ?? 1) - 1);
            fill();
          });
      }
      if (running === 0) resolve();
    };
    fill();
  });
}

/**
 * `work`'s result, or `late()`'s once `ms` have passed — so one task's silent clusters hold its
 * worker for at most its deadline. The signal tells `work` to close what it waits on; whatever it
 * still does after that is no longer awaited.
 */
export async function withinDeadline<T>(ms: number, work: (signal: AbortSignal) => Promise<T>, late: () => T): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      resolve(late());
      abort.abort();
    }, ms);
  });
  try {
    return await Promise.race([work(abort.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

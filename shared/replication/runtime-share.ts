// Several self-hosted runtimes (`npm start` on several machines, one database) each run the
// reconciler; without a rule the first to tick would dispatch every unheld shard to its own
// replicators. Each run, a runtime announces itself and learns every live runtime's load (the live
// leases its replicators hold), then takes an unheld shard only while it holds no more than the
// least loaded other runtime — so shards spread evenly, and a runtime that dies (its heartbeat and
// leases expire) leaves its shards to the others. A shard left unheld for `takeoverMs` is taken by
// whoever sees it, so one runtime that announces itself but cannot start replicators stalls nothing.
import type { RuntimeLoad } from '../store/store.ts';

export interface RuntimeShareOptions {
  /** This runtime's id. */
  self: string;
  /** A runtime not seen for this long counts as gone. */
  heartbeatTtlMs: number;
  /** A shard unheld this long is taken by any runtime, its share notwithstanding. */
  takeoverMs: number;
}

/** Shards first seen unheld, by key (per process: each runtime judges what it has seen). */
const unheldSince = new Map<string, number>();

/** One reconciler run's view of the runtimes' loads; `take` decides and counts each dispatch. */
export class RuntimeShare {
  private readonly loads: Map<string, number>;

  constructor(
    private readonly opts: RuntimeShareOptions,
    live: readonly RuntimeLoad[],
    private readonly now = Date.now(),
  ) {
    this.loads = new Map(live.map((r) => [r.id, r.leases]));
    if (!this.loads.has(opts.self)) this.loads.set(opts.self, 0);
  }

  /** Whether this runtime dispatches the unheld shard `key` now; a yes counts as one more lease held. */
  take(key: string): boolean {
    const since = unheldSince.get(key) ?? this.now;
    unheldSince.set(key, since);
    const mine = this.loads.get(this.opts.self) ?? 0;
    const others = [...this.loads].filter(([id]) => id !== this.opts.self).map(([, n]) => n);
    const yes = others.length === 0 || mine <= Math.min(...others) || this.now - since >= this.opts.takeoverMs;
    if (yes) {
      this.loads.set(this.opts.self, mine + 1);
      unheldSince.delete(key);
    }
    return yes;
  }

  /** A shard seen held is no longer waiting. */
  held(key: string): void {
    unheldSince.delete(key);
  }
}

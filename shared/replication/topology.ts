// Forwarding across several tasks. Ferry knows every running task of a tenant, so a replica is
// carried onward only along the route a message from its origin takes to each cluster: the
// shortest one over the tasks whose filters take the message, ties broken by the smaller cluster
// id. A full mesh then delivers each message once per cluster (directly from its origin), while
// rings and chains, which have no direct route, still reach every cluster. FERRY_PATH keeps
// stopping cycles on top of this.
import type { StoredMessage } from '../rocketmq/message.ts';
import type { TaskRow } from '../store/store.ts';
import { replicatedTopics } from '../tasks/replicated-topics.ts';
import { flowsOf } from './flows.ts';
import { messageFilter } from './message-filter.ts';

/** One flow of a running task: what it takes from `from` to `to`. */
export interface Route {
  from: string;
  to: string;
  topics: (topic: string) => boolean;
  /** The flow's TAG/SQL92 filter, when it has one that may refuse a message. */
  accepts?: (m: StoredMessage) => boolean;
}

export class Topology {
  private readonly out = new Map<string, Route[]>();
  private readonly conditional: boolean;
  /** Parent of every reachable cluster on the routes from an origin, per origin and topic (unconditional routes only). */
  private readonly memo = new Map<string, Map<string, string>>();

  constructor(routes: readonly Route[]) {
    for (const r of [...routes].sort((a, b) => a.to.localeCompare(b.to))) {
      let list = this.out.get(r.from);
      if (!list) this.out.set(r.from, (list = []));
      list.push(r);
    }
    this.conditional = routes.some((r) => r.accepts);
  }

  /**
   * Whether message m, which came from `origin` and is now on cluster `at`, is carried on to
   * `to` from here. A cluster no route leads to (a view that is not current) is served anyway:
   * a duplicate is better than a loss.
   */
  carries(m: StoredMessage, origin: string, at: string, to: string): boolean {
    if (origin === at) return true;
    const parent = this.parentsFrom(origin, m).get(to);
    return parent === undefined || parent === at;
  }

  /** Breadth-first from the origin, each level in cluster-id order: a cluster's parent is its first (smallest) predecessor. */
  private parentsFrom(origin: string, m: StoredMessage): Map<string, string> {
    const key = `${origin}\u0000${m.topic}`;
    const known = this.conditional ? undefined : this.memo.get(key);
    if (known) return known;
    const parents = new Map<string, string>();
    const seen = new Set([origin]);
    let level = [origin];
    while (level.length) {
      const next: string[] = [];
      for (const u of level.sort()) {
        for (const r of this.out.get(u) ?? []) {
          if (seen.has(r.to) || !r.topics(m.topic) || (r.accepts && !r.accepts(m))) continue;
          seen.add(r.to);
          parents.set(r.to, u);
          next.push(r.to);
        }
      }
      level = next;
    }
    if (!this.conditional) this.memo.set(key, parents);
    return parents;
  }
}

/** The routes of a tenant's running tasks, one per flow. */
export function routesOf(tasks: readonly TaskRow[]): Route[] {
  const out: Route[] = [];
  for (const t of tasks) {
    if (t.desiredState !== 'running' || t.status !== 'running') continue;
    const spec = t.spec;
    // Cluster and broker names do not matter here: no message is ever read from such a topic.
    const topics = replicatedTopics(spec, new Set());
    const accepts = messageFilter(spec);
    for (const f of flowsOf(spec)) out.push({ from: f.from.clusterId, to: f.to.clusterId, topics, ...(accepts ? { accepts } : {}) });
  }
  return out;
}

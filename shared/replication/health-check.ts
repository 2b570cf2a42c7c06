// The reconciler's health pass over a running task: probes both clusters (every name server and
// master broker answers, the credentials are accepted), reads its shards' leases and plans, and
// stores the record tasks/health.ts computes from them whenever it changed.
import { isDeepStrictEqual } from 'node:util';
import type { SecretCipher } from '../secrets/cipher.ts';
import type { LeaseStore, TaskRow, TaskStore } from '../store/store.ts';
import {
  DEFAULT_HEALTH_WINDOWS,
  decodeHealthRecord,
  evaluateHealth,
  type FlowSignals,
  type HealthRecord,
  type HealthWindows,
} from '../tasks/health.ts';
import type { StoredEndpoint } from '../tasks/model.ts';
import { flowsOf } from './flows.ts';
import { endpointProblem } from './start-checks.ts';

export interface HealthOptions extends Partial<HealthWindows> {
  /** A cluster's probe answer is reused this long (default 10 s, at most a third of unreachableAfterMs). */
  probeEveryMs?: number;
}

export interface HealthDeps {
  store: TaskStore & LeaseStore;
  cipher: SecretCipher;
}

// Probe answers by side and stored endpoint (sealed secrets included, so per task when ACL is on).
const probes = new Map<string, { at: number; problem: Promise<string | null> }>();

function probe(side: 'source' | 'target', e: StoredEndpoint, cipher: SecretCipher, now: number, everyMs: number) {
  const key = JSON.stringify([side, e]);
  const cached = probes.get(key);
  if (cached && now - cached.at < everyMs) return cached.problem;
  for (const [k, p] of probes) if (now - p.at >= everyMs) probes.delete(k);
  const problem = endpointProblem(side, e, cipher).then(
    (p) => p ?? null,
    (err: unknown) => `the ${side} cluster ${e.clusterId} could not be checked: ${(err as Error).message}`,
  );
  probes.set(key, { at: now, problem });
  return problem;
}

/**
 * Evaluates a running task's health and stores the record if it changed; returns it. A lease that
 * ended less than `handOverGraceMs` ago still counts as held (its successor is about to take it).
 */
export async function checkHealth(task: TaskRow, deps: HealthDeps, opts: HealthOptions, handOverGraceMs: number): Promise<HealthRecord> {
  const spec = task.spec;
  const started = Date.now();
  const windows: HealthWindows = { ...DEFAULT_HEALTH_WINDOWS, ...definedOnly(opts) };
  const every = opts.probeEveryMs ?? Math.min(10_000, windows.unreachableAfterMs / 3);
  const [source, target, leases, plans] = await Promise.all([
    probe('source', spec.source, deps.cipher, started, every),
    probe('target', spec.target, deps.cipher, started, every),
    deps.store.listLeases(task.id),
    deps.store.getShardPlans(task.id),
  ]);
  const now = Date.now();
  const flows: FlowSignals[] = flowsOf(spec).map((flow) => {
    const live = leases.filter((l) => l.flow === flow.id && l.expiresAtMs > now - handOverGraceMs);
    const plan = plans.find((p) => p.flow === flow.id);
    const generation = plan?.generation ?? 0;
    const current = live.filter((l) => l.generation === generation);
    // While a new layout replaces the old one its shards wait for the old holders: not a stall.
    const resharding = live.some((l) => l.generation !== generation);
    const unheld: number[] = [];
    if (plan && !resharding) for (let s = 0; s < plan.shardCount; s++) if (!current.some((l) => l.shard === s)) unheld.push(s);
    const lags = current.filter((l) => l.lag !== null);
    const rates = current.filter((l) => l.rate !== null);
    return {
      flow: `${flow.from.clusterId}->${flow.to.clusterId}`,
      unheld,
      lag: lags.length ? lags.reduce((a, l) => a + (l.lag ?? 0), 0) : null,
      rate: rates.length ? rates.reduce((a, l) => a + (l.rate ?? 0), 0) : null,
    };
  });
  const clusters = [
    { clusterId: spec.source.clusterId, problem: source },
    { clusterId: spec.target.clusterId, problem: target },
  ];
  const prev = decodeHealthRecord(spec.health);
  const next = evaluateHealth(prev, { now, clusters, flows }, windows);
  if (!isDeepStrictEqual(prev, next)) await deps.store.setTaskHealth(task.id, next);
  return next;
}

function definedOnly(opts: HealthOptions): Partial<HealthWindows> {
  const out: Partial<HealthWindows> = {};
  if (opts.unreachableAfterMs !== undefined) out.unreachableAfterMs = opts.unreachableAfterMs;
  if (opts.lagWithoutProgressMs !== undefined) out.lagWithoutProgressMs = opts.lagWithoutProgressMs;
  if (opts.stallAfterIntervals !== undefined) out.stallAfterIntervals = opts.stallAfterIntervals;
  return out;
}

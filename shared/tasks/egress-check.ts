// A task whose name server list holds an IP literal outside the egress policy is refused when it is
// written, naming the field. Hostnames pass here: what they resolve to is checked when Ferry
// connects (the start checks then fail the task with the policy's reason).
import { egressPolicy, normalizeIp, type EgressPolicy } from '../egress/policy.ts';
import { FerryError } from '../errors.ts';

interface Sides {
  source: { clusterType: string; nameServer?: string };
  target: { clusterType: string; nameServer?: string };
}

export function refuseDeniedAddresses(sides: Sides, policy: EgressPolicy = egressPolicy()): void {
  for (const side of ['source', 'target'] as const) {
    const e = sides[side];
    if (e.clusterType !== 'self-built' || e.nameServer === undefined) continue;
    for (const part of e.nameServer.split(';').map((p) => p.trim())) {
      const i = part.lastIndexOf(':');
      if (i <= 0) continue;
      const host = part.slice(0, i);
      const ip = normalizeIp(host);
      if (ip !== undefined && !policy.allows(ip)) {
        const shown = ip === host || `[${ip}]` === host ? host : `${host} (${ip})`;
        throw new FerryError('EGRESS_DENIED', `${side}.nameServer: ${shown} is not allowed by the egress policy`, `${side}.nameServer`);
      }
    }
  }
}

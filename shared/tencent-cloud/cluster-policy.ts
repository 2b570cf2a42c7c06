// Which Tencent clusters the deployment's own Cloud API keys (TENCENTCLOUD_SECRETID/SECRETKEY, the
// SCF execution role's inside SCF) may be used for. Without this, a task naming any cluster id
// without its own `cloudApi` keys — another customer's included — would have it resolved and its
// metadata read and written with the deployment's keys.
//
// FERRY_TENCENT_CLUSTERS lists them per tenant: entries separated by `;`, each `<tenant>:<ids>`,
// ids separated by `,`; `*` as the tenant stands for every tenant, `*` as an id for every cluster.
//   tenantA:rmq-abc,rmq-def;tenantB:*        tenantA on two clusters, tenantB on any
//   *:rocketmq-shared1;ops:*                 every tenant on one shared cluster, ops on any
// Unset or empty: the deployment's keys serve no task; each Tencent endpoint brings its own keys.
// A task with its own `cloudApi` keys is never restricted by this list.

import { tencentDeploymentEnv, type TencentDeploymentEnv } from '../config.ts';
import { FerryError } from '../errors.ts';
import { configuredKeys } from './credentials.ts';

export type TencentClusterPolicy = ReadonlyMap<string, ReadonlySet<string>>;

/** The deployment's list (nothing allowed when unset) and whether it has keys at all, read from the environment at each use. */
export function deploymentKeysPolicy(env: TencentDeploymentEnv = tencentDeploymentEnv()): {
  policy: TencentClusterPolicy;
  deploymentKeys: boolean;
} {
  return { policy: parseTencentClusters(env.FERRY_TENCENT_CLUSTERS) ?? new Map(), deploymentKeys: configuredKeys({}, env) !== undefined };
}

const TENANT = /^(\*|[A-Za-z0-9._:-]{1,128})$/;
const CLUSTER = /^(\*|[A-Za-z0-9._-]{1,128})$/;

/** The list parsed; undefined (with nothing allowed) for text that does not follow the syntax. */
export function parseTencentClusters(text: string | undefined): TencentClusterPolicy | undefined {
  const policy = new Map<string, Set<string>>();
  for (const entry of (text ?? '').split(';')) {
    if (entry.trim() === '') continue;
    // A tenant id may hold ':' itself: the last ':' splits tenant from ids.
    const split = entry.lastIndexOf(':');
    if (split < 0) return undefined;
    const tenant = entry.slice(0, split).trim();
    const ids = entry
      .slice(split + 1)
      .split(',')
      .map((s) => s.trim());
    if (!TENANT.test(tenant) || ids.length === 0 || !ids.every((id) => CLUSTER.test(id))) return undefined;
    const set = policy.get(tenant) ?? new Set<string>();
    for (const id of ids) set.add(id);
    policy.set(tenant, set);
  }
  return policy;
}

/** Whether the deployment's keys may serve `tenant`'s task on cluster `clusterId`. */
export function deploymentKeysAllowed(policy: TencentClusterPolicy, tenant: string, clusterId: string): boolean {
  return [policy.get(tenant), policy.get('*')].some((ids) => ids !== undefined && (ids.has('*') || ids.has(clusterId)));
}

/** The endpoint as far as this rule looks at it. */
export interface TencentEndpointKeys {
  clusterType: string;
  clusterId: string;
  /** Present (sealed or not) when the endpoint brings its own Cloud API keys. */
  cloudApi?: unknown;
}

/**
 * Why `tenant` may not use this endpoint as it is, as a sentence naming the field; undefined when it
 * may (self-built, own keys, or listed). `deploymentKeys`: whether the deployment has keys at all
 * (without them there is nothing to protect, and the missing keys are reported where they are needed).
 */
export function deploymentKeysRefusal(
  field: string,
  e: TencentEndpointKeys,
  tenant: string,
  policy: TencentClusterPolicy,
  deploymentKeys: boolean,
): string | undefined {
  if (e.clusterType !== 'tencent' || e.cloudApi || !deploymentKeys) return undefined;
  if (deploymentKeysAllowed(policy, tenant, e.clusterId)) return undefined;
  return (
    `${field}: Tencent cluster ${e.clusterId} is not one this deployment's Cloud API keys may be used for ` +
    `(FERRY_TENCENT_CLUSTERS); give the endpoint its own cloudApi {secretId, secretKey}, or ask the operator to list it`
  );
}

/** The first side of a stored task that may no longer use the deployment's keys (the list is read at each call). */
export function taskKeysRefusal(
  tenant: string,
  sides: { source: TencentEndpointKeys; target: TencentEndpointKeys },
  env: TencentDeploymentEnv = tencentDeploymentEnv(),
): { field: string; reason: string } | undefined {
  const { policy, deploymentKeys } = deploymentKeysPolicy(env);
  for (const side of ['source', 'target'] as const) {
    const field = `${side}.clusterId`;
    const reason = deploymentKeysRefusal(field, sides[side], tenant, policy, deploymentKeys);
    if (reason) return { field, reason };
  }
  return undefined;
}

/**
 * FORBIDDEN naming `source.clusterId` / `target.clusterId` when a side would use the deployment's keys
 * for a cluster not listed for the tenant.
 */
export function refuseUnlistedTencentClusters(
  tenant: string,
  sides: { source: TencentEndpointKeys; target: TencentEndpointKeys },
  env: TencentDeploymentEnv = tencentDeploymentEnv(),
): void {
  const refused = taskKeysRefusal(tenant, sides, env);
  if (refused) throw new FerryError('FORBIDDEN', refused.reason, refused.field);
}

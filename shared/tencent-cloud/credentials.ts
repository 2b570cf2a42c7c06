// Whose keys sign a Tencent Cloud API call, and where the deployment runs. A call made for a task's
// endpoint is signed with the endpoint's own keys when it has them (unsealed by shared/clusters);
// otherwise, and for Ferry's own calls (the SCF invoker), with the deployment's: inside SCF the
// execution role's temporary keys, which SCF refreshes in the environment — read them at each use.

import { tencentDeploymentEnv, type TencentDeploymentEnv } from '../config.ts';

export interface CloudApiKeys {
  secretId: string;
  secretKey: string;
  token?: string;
}

/**
 * Keys given field by field (the SCF invoker's options); each missing one is the deployment's
 * (TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY), the session token (TENCENTCLOUD_SESSIONTOKEN)
 * only with the deployment's SecretId.
 */
export function configuredKeys(
  given: { secretId?: string | undefined; secretKey?: string | undefined; token?: string | undefined },
  env: TencentDeploymentEnv = tencentDeploymentEnv(),
): CloudApiKeys | undefined {
  const secretId = given.secretId ?? env.TENCENTCLOUD_SECRETID;
  const secretKey = given.secretKey ?? env.TENCENTCLOUD_SECRETKEY;
  if (!secretId || !secretKey) return undefined;
  const token = given.secretId ? given.token : (given.token ?? env.TENCENTCLOUD_SESSIONTOKEN);
  return { secretId, secretKey, ...(token ? { token } : {}) };
}

/**
 * A cluster's own keys (a task endpoint's `cloudApi`, in the clear), else the deployment's
 * (TENCENTCLOUD_SECRETID / SECRETKEY / SESSIONTOKEN).
 */
export const cloudApiKeys = (own: CloudApiKeys | undefined, env: TencentDeploymentEnv = tencentDeploymentEnv()): CloudApiKeys | undefined =>
  own ?? configuredKeys({}, env);

/** The region the deployment runs in: TENCENTCLOUD_REGION (set inside SCF). */
export const deploymentRegion = (env: TencentDeploymentEnv = tencentDeploymentEnv()): string | undefined => env.TENCENTCLOUD_REGION;

/** The SCF namespace the deployment runs in: SCF_NAMESPACE (set inside SCF). */
export const deploymentNamespace = (env: TencentDeploymentEnv = tencentDeploymentEnv()): string | undefined => env.SCF_NAMESPACE;

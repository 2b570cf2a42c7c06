// What `npm run deploy:tencent` deploys, from its options (and the deployer's TENCENTCLOUD_REGION):
// the four functions' names, sizes, environment, network, role and logging, and their triggers.
// Secrets are references — Tencent Cloud SSM secret names — resolved only when applying, and their
// values are never printed.
import { parseArgs } from 'node:util';
import { deploymentRegion } from '../../shared/tencent-cloud/credentials.ts';
import type { ScfFunctionKey } from './package.ts';

export interface SecretRef {
  /** SSM secret name. */
  name: string;
  /** SSM version id (SSM has no "latest" for user secrets: bump it to roll out a new value). */
  version: string;
}

export interface DeploySettings {
  region: string;
  namespace: string;
  stage: string;
  /** SCF runtime, e.g. Nodejs18.15 (the newest the SCF API lists); fixed once a function exists. */
  runtime: string;
  vpc?: { vpcId: string; subnetId: string } | undefined;
  /** CAM role the functions run as: its temporary keys invoke the replicator and call TDMQ. */
  role?: string | undefined;
  cls?: { logsetId: string; topicId: string } | undefined;
  databaseUrl: SecretRef;
  secretKey: SecretRef;
  /** Older keys still opening what they sealed (key rotation), as an SSM secret; optional. */
  previousSecretKeys?: SecretRef | undefined;
  memory: Record<ScfFunctionKey, number>;
  /** Extra environment for every function (FERRY_* settings), KEY=VALUE. */
  env: Record<string, string>;
  /** Tests only: the Cloud API host or URL instead of <service>.tencentcloudapi.com. */
  endpoint?: string | undefined;
  plan: boolean;
  /** A directory of prebuilt <function>.zip files instead of building. */
  zips?: string | undefined;
}

export const USAGE = `usage: npm run deploy:tencent -- [--plan] --region R [--namespace default] [--stage dev]
  [--vpc-id vpc-… --subnet-id subnet-…] [--role ROLE] [--cls-logset-id … --cls-topic-id …]
  [--database-url-secret NAME[@VERSION]] [--secret-key-secret NAME[@VERSION]] [--previous-secret-keys-secret NAME[@VERSION]]
  [--memory FUNCTION=MB]… [--env KEY=VALUE]… [--runtime Nodejs18.15]
Keys: TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY (/ TENCENTCLOUD_SESSIONTOKEN); --plan needs none.`;

const DEFAULT_MEMORY: Record<ScfFunctionKey, number> = { api: 512, reconciler: 512, replicator: 1024, 'metadata-sync': 512 };

function secretRef(text: string): SecretRef {
  const at = text.lastIndexOf('@');
  return at > 0 ? { name: text.slice(0, at), version: text.slice(at + 1) } : { name: text, version: 'v1' };
}

function pairs(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list ?? []) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`${what} takes KEY=VALUE, not ${p}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function both<T>(a: string | undefined, b: string | undefined, names: string, make: (a: string, b: string) => T): T | undefined {
  if (!a && !b) return undefined;
  if (!a || !b) throw new Error(`give both ${names}, or neither`);
  return make(a, b);
}

export function parseDeploySettings(args: string[], defaultRegion: string | undefined = deploymentRegion()): DeploySettings {
  const { values } = parseArgs({
    args,
    options: {
      plan: { type: 'boolean', default: false },
      region: { type: 'string' },
      namespace: { type: 'string', default: 'default' },
      stage: { type: 'string', default: 'dev' },
      runtime: { type: 'string', default: 'Nodejs18.15' },
      'vpc-id': { type: 'string' },
      'subnet-id': { type: 'string' },
      role: { type: 'string' },
      'cls-logset-id': { type: 'string' },
      'cls-topic-id': { type: 'string' },
      'database-url-secret': { type: 'string' },
      'secret-key-secret': { type: 'string' },
      'previous-secret-keys-secret': { type: 'string' },
      memory: { type: 'string', multiple: true },
      env: { type: 'string', multiple: true },
      endpoint: { type: 'string' },
      zips: { type: 'string' },
    },
  });
  const region = values.region ?? defaultRegion;
  if (!region) throw new Error('a region is required: --region or TENCENTCLOUD_REGION');
  const stage = values.stage!;
  if (!/^[a-z][a-z0-9-]{0,20}$/.test(stage)) throw new Error('--stage must be lower-case letters, digits and dashes');
  const memory = { ...DEFAULT_MEMORY };
  for (const [fn, mb] of Object.entries(pairs(values.memory, '--memory'))) {
    if (!(fn in memory)) throw new Error(`--memory: no function ${fn} (one of ${Object.keys(memory).join(', ')})`);
    const n = Number(mb);
    if (!Number.isInteger(n) || n < 128 || n > 3072 || n % 128 !== 0) throw new Error(`--memory ${fn}: 128 to 3072 MB in steps of 128`);
    memory[fn as ScfFunctionKey] = n;
  }
  const extraEnv = pairs(values.env, '--env');
  for (const k of Object.keys(extraEnv))
    if (k === 'DATABASE_URL' || k.startsWith('FERRY_SECRET_KEY') || k === 'FERRY_PREVIOUS_SECRET_KEYS')
      throw new Error(`--env ${k}: secrets are given by reference (--database-url-secret, --secret-key-secret)`);
  return {
    region,
    namespace: values.namespace!,
    stage,
    runtime: values.runtime!,
    vpc: both(values['vpc-id'], values['subnet-id'], '--vpc-id and --subnet-id', (vpcId, subnetId) => ({ vpcId, subnetId })),
    role: values.role,
    cls: both(values['cls-logset-id'], values['cls-topic-id'], '--cls-logset-id and --cls-topic-id', (logsetId, topicId) => ({
      logsetId,
      topicId,
    })),
    databaseUrl: secretRef(values['database-url-secret'] ?? `ferry-${stage}-database-url`),
    secretKey: secretRef(values['secret-key-secret'] ?? `ferry-${stage}-secret-key`),
    previousSecretKeys: values['previous-secret-keys-secret'] ? secretRef(values['previous-secret-keys-secret']) : undefined,
    memory,
    env: extraEnv,
    endpoint: values.endpoint,
    plan: values.plan!,
    zips: values.zips,
  };
}

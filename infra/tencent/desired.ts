// The deployment as it should be: four SCF functions and their triggers, from DeploySettings.
// Secret values are filled in by the caller (resolved from SSM when applying, references in a plan).
import type { DeploySettings } from './settings.ts';
import type { ScfFunctionKey } from './package.ts';

export interface FunctionSpec {
  key: ScfFunctionKey;
  name: string;
  handler: string;
  runtime: string;
  memory: number;
  timeout: number;
  description: string;
  /** Every variable the function gets (secrets included: never print these values). */
  env: Record<string, string>;
  /** Names of `env` entries that hold secrets. */
  secretVars: string[];
  vpc: { vpcId: string; subnetId: string } | undefined;
  role: string | undefined;
  cls: { logsetId: string; topicId: string } | undefined;
}

export interface TriggerSpec {
  function: string;
  name: string;
  /** timer (reconciler, metadata sync) or http (the api's function URL). */
  type: 'timer' | 'http';
  desc: string;
}

/** Every minute, at second 0 (SCF timers take 7 fields: second minute hour day month weekday year). */
export const EVERY_MINUTE = '0 */1 * * * * *';
/** A public function URL without SCF's own authentication: the API checks its bearer tokens itself. */
export const FUNCTION_URL_DESC = JSON.stringify({ AuthType: 'NONE', NetConfig: { EnableIntranet: false, EnableExtranet: true } });

const TIMEOUT_S: Record<ScfFunctionKey, number> = { api: 30, reconciler: 60, replicator: 900, 'metadata-sync': 300 };
const ROLE: Record<ScfFunctionKey, string> = {
  api: 'Ferry HTTP API and web console',
  reconciler: 'Ferry reconciler: dispatches replicators every minute',
  replicator: 'Ferry replicator: copies one shard until its time budget is spent',
  'metadata-sync': 'Ferry metadata sync: topics, groups and ACLs every minute',
};

export const functionName = (s: Pick<DeploySettings, 'stage'>, key: ScfFunctionKey): string => `ferry-${s.stage}-${key}`;

/** `secrets`: the values (or, in a plan, stand-ins) of DATABASE_URL, FERRY_SECRET_KEY and FERRY_PREVIOUS_SECRET_KEYS. */
export function desiredFunctions(s: DeploySettings, secrets: Record<string, string>): FunctionSpec[] {
  const env = {
    ...s.env,
    FERRY_INVOKER: 'tencent-scf',
    FERRY_REPLICATOR_FUNCTION: functionName(s, 'replicator'),
    FERRY_INVOKER_REGION: s.region,
    ...secrets,
  };
  const keys: ScfFunctionKey[] = ['api', 'reconciler', 'replicator', 'metadata-sync'];
  return keys.map((key) => ({
    key,
    name: functionName(s, key),
    handler: 'index.main_handler',
    runtime: s.runtime,
    memory: s.memory[key],
    timeout: TIMEOUT_S[key],
    description: ROLE[key],
    env,
    secretVars: Object.keys(secrets),
    vpc: s.vpc,
    role: s.role,
    cls: s.cls,
  }));
}

export function desiredTriggers(s: DeploySettings): TriggerSpec[] {
  return [
    { function: functionName(s, 'api'), name: 'ferry-url', type: 'http', desc: FUNCTION_URL_DESC },
    { function: functionName(s, 'reconciler'), name: 'ferry-every-minute', type: 'timer', desc: EVERY_MINUTE },
    { function: functionName(s, 'metadata-sync'), name: 'ferry-every-minute', type: 'timer', desc: EVERY_MINUTE },
  ];
}

// Create-or-update of Ferry's SCF deployment: each function is read first and only what differs is
// sent — a missing function is created, changed settings go in one UpdateFunctionConfiguration
// naming just those fields, changed code (by SHA-256) in one UpdateFunctionCode, a missing or
// changed trigger in CreateTrigger / UpdateTrigger. A second run with the same settings sends
// nothing that changes anything. Triggers Ferry did not create are left alone.
import type {
  CreateFunctionRequest,
  UpdateFunctionConfigurationRequest,
} from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models.js';
import { desiredFunctions, desiredTriggers, type FunctionSpec, type TriggerSpec } from './desired.ts';
import type { CodePackage, ScfFunctionKey } from './package.ts';
import type { GetFunctionResponse, ScfDeployApi, TriggerInfo } from './scf-api.ts';
import type { DeploySettings, SecretRef } from './settings.ts';

export interface DeployAction {
  action:
    | 'CreateFunction'
    | 'UpdateFunctionCode'
    | 'UpdateFunctionConfiguration'
    | 'UpdateFunctionEventInvokeConfig'
    | 'CreateTrigger'
    | 'UpdateTrigger';
  function: string;
  trigger?: string;
  /** The configuration fields an update changes. */
  fields?: string[];
}

/** The plan's closing JSON line: what the deployment consists of, secrets as references only. */
export function planSummary(s: DeploySettings, code?: Partial<Record<ScfFunctionKey, CodePackage>>): Record<string, unknown> {
  const fns = desiredFunctions(s, secretStandIns(s));
  return {
    region: s.region,
    namespace: s.namespace,
    functions: fns.map((f) => ({
      name: f.name,
      handler: f.handler,
      runtime: f.runtime,
      memory: f.memory,
      timeout: f.timeout,
      env: Object.fromEntries(Object.entries(f.env).filter(([k]) => !f.secretVars.includes(k))),
      secrets: Object.fromEntries(f.secretVars.map((k) => [k, f.env[k]])),
      vpc: f.vpc ?? null,
      role: f.role ?? null,
      cls: f.cls ?? null,
      ...(code?.[f.key] ? { codeSha256: code[f.key]!.sha256, codeBytes: code[f.key]!.zip.length } : {}),
    })),
    triggers: desiredTriggers(s),
  };
}

const refText = (r: SecretRef) => `ssm:${r.name}@${r.version}`;

function secretRefs(s: DeploySettings): Record<string, SecretRef> {
  return {
    DATABASE_URL: s.databaseUrl,
    FERRY_SECRET_KEY: s.secretKey,
    ...(s.previousSecretKeys ? { FERRY_PREVIOUS_SECRET_KEYS: s.previousSecretKeys } : {}),
  };
}

const secretStandIns = (s: DeploySettings) => Object.fromEntries(Object.entries(secretRefs(s)).map(([k, r]) => [k, refText(r)]));

/** The secrets' values from SSM (read once per run; never logged). */
export async function resolveSecrets(s: DeploySettings, api: ScfDeployApi): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, r] of Object.entries(secretRefs(s))) out[k] = (await api.secretValue(r.name, r.version)).trim();
  return out;
}

const envMap = (f: GetFunctionResponse) => Object.fromEntries((f.Environment?.Variables ?? []).map((v) => [v.Key ?? '', v.Value ?? '']));
const sameMap = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
const variables = (env: Record<string, string>) => ({
  Variables: Object.keys(env)
    .sort()
    .map((Key) => ({ Key, Value: env[Key]! })),
});

/** The configuration fields whose deployed value differs from the wanted one, as an update request's fields. */
export function configDiff(want: FunctionSpec, have: GetFunctionResponse): Partial<UpdateFunctionConfigurationRequest> {
  if (have.Runtime && have.Runtime !== want.runtime)
    throw new Error(
      `${want.name} runs ${have.Runtime}; SCF cannot change a function's runtime (delete it, or deploy with --runtime ${have.Runtime})`,
    );
  const d: Partial<UpdateFunctionConfigurationRequest> = {};
  if (have.MemorySize !== want.memory) d.MemorySize = want.memory;
  if (have.Timeout !== want.timeout) d.Timeout = want.timeout;
  if ((have.Description ?? '') !== want.description) d.Description = want.description;
  if (!sameMap(envMap(have), want.env)) d.Environment = variables(want.env);
  const vpc = { VpcId: want.vpc?.vpcId ?? '', SubnetId: want.vpc?.subnetId ?? '' };
  if ((have.VpcConfig?.VpcId ?? '') !== vpc.VpcId || (have.VpcConfig?.SubnetId ?? '') !== vpc.SubnetId) d.VpcConfig = vpc;
  if ((have.Role ?? '') !== (want.role ?? '')) d.Role = want.role ?? '';
  // Without CLS settings SCF keeps whatever logset it chose itself; with them, they are enforced.
  if (want.cls && (have.ClsLogsetId !== want.cls.logsetId || have.ClsTopicId !== want.cls.topicId)) {
    d.ClsLogsetId = want.cls.logsetId;
    d.ClsTopicId = want.cls.topicId;
  }
  return d;
}

/** A timer's cron or an http trigger's settings, however the API spells them back. */
function sameTriggerDesc(want: TriggerSpec, have: TriggerInfo): boolean {
  const raw = have.TriggerDesc ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (want.type === 'timer')
    return (typeof (parsed as { cron?: unknown })?.cron === 'string' ? (parsed as { cron: string }).cron : raw) === want.desc;
  const wanted = JSON.parse(want.desc) as Record<string, unknown>;
  const got = (parsed ?? {}) as Record<string, unknown>;
  return Object.entries(wanted).every(([k, v]) => JSON.stringify(got[k]) === JSON.stringify(v));
}

/** How long SCF keeps an asynchronous event it could not yet run (its maximum, 6 hours). */
const ASYNC_MSG_TTL_S = 21_600;

export interface ApplyOptions {
  /** Waits between status polls while a function is being created or updated. */
  pollMs?: number;
  /** Gives up waiting for a function to become Active after this long. */
  waitMs?: number;
  log?: (line: string) => void;
}

export async function applyDeployment(
  s: DeploySettings,
  api: ScfDeployApi,
  code: Record<ScfFunctionKey, CodePackage>,
  opts: ApplyOptions = {},
): Promise<DeployAction[]> {
  const log = opts.log ?? (() => {});
  const actions: DeployAction[] = [];
  const done = (a: DeployAction) => {
    actions.push(a);
    log(`${a.action} ${a.function}${a.trigger ? ` trigger ${a.trigger}` : ''}${a.fields ? ` (${a.fields.join(', ')})` : ''}`);
  };
  const ready = (name: string) => waitActive(api, name, s.namespace, opts);
  const secrets = await resolveSecrets(s, api);
  for (const f of desiredFunctions(s, secrets)) {
    const pkg = code[f.key];
    const have = await api.getFunction(f.name, s.namespace);
    if (!have) {
      const req: CreateFunctionRequest = {
        FunctionName: f.name,
        Namespace: s.namespace,
        Code: { ZipFile: pkg.zip.toString('base64') },
        CodeSource: 'ZipFile',
        Handler: f.handler,
        Runtime: f.runtime,
        MemorySize: f.memory,
        Timeout: f.timeout,
        Description: f.description,
        Type: 'Event',
        Environment: variables(f.env),
        ...(f.vpc ? { VpcConfig: { VpcId: f.vpc.vpcId, SubnetId: f.vpc.subnetId } } : {}),
        ...(f.role ? { Role: f.role } : {}),
        ...(f.cls ? { ClsLogsetId: f.cls.logsetId, ClsTopicId: f.cls.topicId } : {}),
      };
      await api.createFunction(req);
      done({ action: 'CreateFunction', function: f.name });
      await ready(f.name);
      continue;
    }
    const deployedSha = (await api.codeSha256(f.name, s.namespace)) ?? '';
    const sameCode = deployedSha.toLowerCase() === pkg.sha256 || deployedSha === Buffer.from(pkg.sha256, 'hex').toString('base64');
    if (!sameCode) {
      await ready(f.name);
      await api.updateFunctionCode({
        FunctionName: f.name,
        Namespace: s.namespace,
        Handler: f.handler,
        ZipFile: pkg.zip.toString('base64'),
        CodeSource: 'ZipFile',
      });
      done({ action: 'UpdateFunctionCode', function: f.name });
    }
    const diff = configDiff(f, have);
    if (Object.keys(diff).length > 0) {
      await ready(f.name);
      await api.updateFunctionConfiguration({ FunctionName: f.name, Namespace: s.namespace, ...diff });
      done({ action: 'UpdateFunctionConfiguration', function: f.name, fields: Object.keys(diff) });
    }
    if (!sameCode || Object.keys(diff).length > 0) await ready(f.name);
  }
  // SCF retries a failed asynchronous invocation twice by default; a retried replicator run only
  // waits for a lease the reconciler re-dispatches anyway (as on Lambda: maximumRetryAttempts 0).
  const replicator = desiredFunctions(s, secrets).find((f) => f.key === 'replicator')!;
  const asyncConfig = await api.eventInvokeConfig(replicator.name, s.namespace);
  if (asyncConfig?.RetryConfig?.[0]?.RetryNum !== 0) {
    await api.updateEventInvokeConfig({
      FunctionName: replicator.name,
      Namespace: s.namespace,
      AsyncTriggerConfig: { RetryConfig: [{ RetryNum: 0 }], MsgTTL: asyncConfig?.MsgTTL ?? ASYNC_MSG_TTL_S },
    });
    done({ action: 'UpdateFunctionEventInvokeConfig', function: replicator.name, fields: ['RetryNum'] });
  }
  for (const t of desiredTriggers(s)) {
    const have = (await api.listTriggers(t.function, s.namespace)).find((x) => x.TriggerName === t.name && x.Type === t.type);
    const req = {
      FunctionName: t.function,
      Namespace: s.namespace,
      TriggerName: t.name,
      Type: t.type,
      TriggerDesc: t.desc,
      Enable: 'OPEN',
    };
    if (!have) {
      await api.createTrigger(req);
      done({ action: 'CreateTrigger', function: t.function, trigger: t.name });
    } else if (!sameTriggerDesc(t, have) || have.Enable === 0) {
      await api.updateTrigger(req);
      done({ action: 'UpdateTrigger', function: t.function, trigger: t.name });
    }
  }
  return actions;
}

/** SCF refuses changes while a function is Creating/Updating: wait until it is Active again. */
async function waitActive(api: ScfDeployApi, name: string, namespace: string, opts: ApplyOptions): Promise<void> {
  const until = Date.now() + (opts.waitMs ?? 180_000);
  for (;;) {
    const f = await api.getFunction(name, namespace);
    const status = f?.Status ?? 'Active';
    if (status === 'Active') return;
    if (/Failed$/.test(status)) throw new Error(`${name} is ${status}: ${f?.StatusDesc ?? ''}`);
    if (Date.now() > until) throw new Error(`${name} is still ${status} after ${opts.waitMs ?? 180_000} ms`);
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}

// The Cloud API calls the deployment makes — SCF 2018-04-16 and SSM 2019-09-23 — through the
// Tencent Cloud SDK (which signs each request, TC3-HMAC-SHA256), behind a narrow port.
import type {
  AsyncTriggerConfig,
  CreateFunctionRequest,
  CreateTriggerRequest,
  GetFunctionResponse,
  TriggerInfo,
  UpdateFunctionCodeRequest,
  UpdateFunctionConfigurationRequest,
  UpdateFunctionEventInvokeConfigRequest,
  UpdateTriggerRequest,
} from 'tencentcloud-sdk-nodejs-scf/tencentcloud/services/scf/v20180416/scf_models.js';
import { sdkEndpoint } from '../../shared/tencent-cloud/cloud-api.ts';
import type { CloudApiKeys } from '../../shared/tencent-cloud/credentials.ts';

export type { GetFunctionResponse, TriggerInfo };

export interface ScfDeployApi {
  /** undefined when the function does not exist. */
  getFunction(name: string, namespace: string): Promise<GetFunctionResponse | undefined>;
  /** The deployed code's SHA-256 (GetFunctionAddress). */
  codeSha256(name: string, namespace: string): Promise<string | undefined>;
  createFunction(req: CreateFunctionRequest): Promise<void>;
  updateFunctionCode(req: UpdateFunctionCodeRequest): Promise<void>;
  updateFunctionConfiguration(req: UpdateFunctionConfigurationRequest): Promise<void>;
  listTriggers(name: string, namespace: string): Promise<TriggerInfo[]>;
  createTrigger(req: CreateTriggerRequest): Promise<void>;
  updateTrigger(req: UpdateTriggerRequest): Promise<void>;
  /** Retries and retention of asynchronous invocations. */
  eventInvokeConfig(name: string, namespace: string): Promise<AsyncTriggerConfig | undefined>;
  updateEventInvokeConfig(req: UpdateFunctionEventInvokeConfigRequest): Promise<void>;
  /** An SSM secret's value (SecretString). */
  secretValue(name: string, version: string): Promise<string>;
}

/** A Cloud API error as the SDK reports it: `code` for an API error. */
export function cloudApiCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code ? code : undefined;
}

export async function sdkScfDeployApi(opts: { keys: CloudApiKeys; region: string; endpoint?: string | undefined }): Promise<ScfDeployApi> {
  const [{ scf }, { Client: SsmClient }] = await Promise.all([
    import('tencentcloud-sdk-nodejs-scf'),
    import('tencentcloud-sdk-nodejs/tencentcloud/services/ssm/v20190923/ssm_client.js'),
  ]);
  const profile = (service: string) => ({
    httpProfile: { reqTimeout: 60, ...(opts.endpoint ? sdkEndpoint(opts.endpoint.replaceAll('{service}', service)) : {}) },
  });
  const credential = {
    secretId: opts.keys.secretId,
    secretKey: opts.keys.secretKey,
    ...(opts.keys.token ? { token: opts.keys.token } : {}),
  };
  const client = new scf.v20180416.Client({ credential, region: opts.region, profile: profile('scf') });
  const ssm = new SsmClient({ credential, region: opts.region, profile: profile('ssm') });
  return {
    async getFunction(name, namespace) {
      try {
        return await client.GetFunction({ FunctionName: name, Namespace: namespace });
      } catch (err) {
        if (cloudApiCode(err)?.startsWith('ResourceNotFound')) return undefined;
        throw err;
      }
    },
    async codeSha256(name, namespace) {
      return (await client.GetFunctionAddress({ FunctionName: name, Namespace: namespace })).CodeSha256;
    },
    async createFunction(req) {
      await client.CreateFunction(req);
    },
    async updateFunctionCode(req) {
      await client.UpdateFunctionCode(req);
    },
    async updateFunctionConfiguration(req) {
      await client.UpdateFunctionConfiguration(req);
    },
    async listTriggers(name, namespace) {
      const all: TriggerInfo[] = [];
      for (;;) {
        const page = await client.ListTriggers({ FunctionName: name, Namespace: namespace, Offset: all.length, Limit: 100 });
        all.push(...(page.Triggers ?? []));
        if ((page.Triggers ?? []).length === 0 || all.length >= (page.TotalCount ?? 0)) return all;
      }
    },
    async createTrigger(req) {
      await client.CreateTrigger(req);
    },
    async updateTrigger(req) {
      await client.UpdateTrigger(req);
    },
    async eventInvokeConfig(name, namespace) {
      return (await client.GetFunctionEventInvokeConfig({ FunctionName: name, Namespace: namespace })).AsyncTriggerConfig;
    },
    async updateEventInvokeConfig(req) {
      await client.UpdateFunctionEventInvokeConfig(req);
    },
    async secretValue(name, version) {
      const r = await ssm.GetSecretValue({ SecretName: name, VersionId: version });
      if (!r.SecretString) throw new Error(`SSM secret ${name}@${version} has no SecretString`);
      return r.SecretString;
    },
  };
}

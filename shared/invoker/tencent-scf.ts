// Tencent Cloud SCF adapter: the Cloud API `Invoke` action (scf 2018-04-16) with InvocationType
// "Event", the job as ClientContext (the function's event). The API answers once the event is
// queued; the replicator's outcome is never seen here.
import type { scf } from 'tencentcloud-sdk-nodejs-scf';
import { sdkEndpoint } from '../tencent-cloud/cloud-api.ts';
import { configuredKeys, deploymentNamespace, deploymentRegion, type CloudApiKeys } from '../tencent-cloud/credentials.ts';
import { InvokeError } from './invoke-error.ts';
import type { Invoker, ReplicatorJob } from './invoker.ts';

export interface TencentScfInvokerOptions {
  functionName: string;
  /** Defaults to TENCENTCLOUD_REGION. */
  region?: string | undefined;
  /** Defaults to SCF_NAMESPACE (the caller's own namespace inside SCF), then `default`. */
  namespace?: string | undefined;
  /** Version or alias; SCF's default is $LATEST. */
  qualifier?: string | undefined;
  /**
   * Without these, each call reads TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY /
   * TENCENTCLOUD_SESSIONTOKEN: inside SCF they hold the execution role's temporary keys.
   */
  secretId?: string | undefined;
  secretKey?: string | undefined;
  token?: string | undefined;
  /** Tests only: `http://127.0.0.1:port` or a bare host (https) instead of scf.tencentcloudapi.com. */
  endpoint?: string | undefined;
}

// An Event invoke only queues the job: a stalled connection must not hold up a reconcile run for
// the SDK's default 60 s.
const REQUEST_TIMEOUT_S = 10;

export class TencentScfInvoker implements Invoker {
  readonly functionName: string;
  private readonly namespace: string;
  private readonly qualifier: string | undefined;
  private readonly region: string;
  private client: Promise<InstanceType<typeof scf.v20180416.Client>> | undefined;

  constructor(private readonly opts: TencentScfInvokerOptions) {
    this.functionName = opts.functionName;
    this.namespace = opts.namespace ?? deploymentNamespace() ?? 'default';
    this.qualifier = opts.qualifier;
    const region = opts.region ?? deploymentRegion();
    if (!region) throw new Error('tencent-scf invoker: a region is required (FERRY_INVOKER_REGION or TENCENTCLOUD_REGION)');
    this.region = region;
  }

  /** The SDK is loaded at the first invoke: only SCF deployments use it (AWS bundles leave it out). */
  private sdkClient(): Promise<InstanceType<typeof scf.v20180416.Client>> {
    this.client ??= import('tencentcloud-sdk-nodejs-scf').then(({ scf }) => {
      const target = this.opts.endpoint ? sdkEndpoint(this.opts.endpoint) : undefined;
      return new scf.v20180416.Client({
        // Read at each call: SCF refreshes the role's temporary keys in the environment.
        credential: { getCredential: async () => this.credentials() ?? {} },
        region: this.region,
        profile: { httpProfile: { reqTimeout: REQUEST_TIMEOUT_S, ...(target ?? {}) } },
      });
    });
    return this.client;
  }

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    if (!this.credentials()) {
      throw new InvokeError({
        platform: 'tencent-scf',
        functionName: this.functionName,
        code: 'CredentialsMissing',
        message: 'no SecretId/SecretKey (options or TENCENTCLOUD_SECRETID/TENCENTCLOUD_SECRETKEY)',
      });
    }
    try {
      const client = await this.sdkClient();
      await client.Invoke({
        FunctionName: this.functionName,
        Namespace: this.namespace,
        InvocationType: 'Event',
        ClientContext: JSON.stringify(job),
        ...(this.qualifier ? { Qualifier: this.qualifier } : {}),
      });
    } catch (err) {
      // The SDK throws TencentCloudSDKHttpException: `code` for a Cloud API error, `httpCode` for a
      // non-200 answer, neither for a network failure.
      const e = sdkError(err);
      throw new InvokeError({ platform: 'tencent-scf', functionName: this.functionName, ...e, cause: err });
    }
  }

  private credentials(): CloudApiKeys | undefined {
    return configuredKeys(this.opts);
  }
}

function sdkError(err: unknown): { message: string; code?: string; status?: number; requestId?: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; httpCode?: unknown; requestId?: unknown };
  return {
    message: err.message,
    ...(typeof e.code === 'string' && e.code ? { code: e.code } : {}),
    ...(typeof e.httpCode === 'number' ? { status: e.httpCode } : {}),
    ...(typeof e.requestId === 'string' && e.requestId ? { requestId: e.requestId } : {}),
  };
}

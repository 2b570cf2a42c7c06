// Tencent Cloud SCF adapter: `Invoke` with InvocationType "Event"; the job travels as ClientContext.
import { scf } from 'tencentcloud-sdk-nodejs-scf';
import type { Invoker, ReplicatorJob } from './invoker.ts';
import { InvokeError } from './aws-lambda.ts';

export interface ScfInvokerOptions {
  functionName: string;
  region: string;
  namespace?: string;
  secretId?: string;
  secretKey?: string;
  /** Host of the Cloud API endpoint (tests point it at a local server). */
  endpoint?: string;
  protocol?: 'https:' | 'http:';
}

export class TencentScfInvoker implements Invoker {
  private readonly client: InstanceType<typeof scf.v20180416.Client>;

  constructor(private readonly opts: ScfInvokerOptions) {
    this.client = new scf.v20180416.Client({
      credential: { secretId: opts.secretId ?? process.env.TENCENTCLOUD_SECRETID, secretKey: opts.secretKey ?? process.env.TENCENTCLOUD_SECRETKEY },
      region: opts.region,
      profile: { httpProfile: { ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...(opts.protocol ? { protocol: opts.protocol } : {}) } },
    });
  }

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    try {
      await this.client.Invoke({ FunctionName: this.opts.functionName, Namespace: this.opts.namespace ?? 'default', InvocationType: 'Event', ClientContext: JSON.stringify(job) });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new InvokeError(this.opts.functionName, `${e.code ?? 'error'}: ${e.message ?? String(err)}`);
    }
  }
}

// AWS Lambda adapter: an asynchronous ("Event") invoke of the replicator function.
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Invoker, ReplicatorJob } from './invoker.ts';

export class InvokeError extends Error {
  constructor(readonly functionName: string, message: string) {
    super(`invoking ${functionName}: ${message}`);
    this.name = 'InvokeError';
  }
}

export class AwsLambdaInvoker implements Invoker {
  private readonly client: LambdaClient;

  constructor(private readonly functionName: string, opts: { region?: string; endpoint?: string } = {}) {
    this.client = new LambdaClient({ ...(opts.region ? { region: opts.region } : {}), ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) });
  }

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    let res;
    try {
      res = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(job)) }));
    } catch (err) {
      throw new InvokeError(this.functionName, (err as Error).message);
    }
    // An Event invoke is accepted with 202; anything else did not queue the invocation.
    if (res.StatusCode !== 202 || res.FunctionError) throw new InvokeError(this.functionName, `status ${res.StatusCode}${res.FunctionError ? `, ${res.FunctionError}` : ''}`);
  }
}

// AWS Lambda adapter: an asynchronous ("Event") invoke of the replicator function, the job as the
// JSON payload. Lambda answers 202 once the event is queued; the replicator's outcome is never seen here.
import type { InvokeCommandOutput, LambdaClient, LambdaClientConfig } from '@aws-sdk/client-lambda';
import { InvokeError } from './invoke-error.ts';
import type { Invoker, ReplicatorJob } from './invoker.ts';

export interface AwsLambdaInvokerOptions {
  functionName: string;
  /** Defaults to the SDK's own resolution (AWS_REGION, which Lambda sets in every function). */
  region?: string | undefined;
  /** Tests only: send requests to this URL (e.g. `http://127.0.0.1:port`) instead of the regional endpoint. */
  endpoint?: string | undefined;
  /** Defaults to the SDK's default provider chain (the execution role's keys inside Lambda). */
  credentials?: LambdaClientConfig['credentials'];
  /** Attempts per invoke, including SDK retries of throttling and 5xx answers (SDK default 3). */
  maxAttempts?: number | undefined;
}

// An Event invoke only queues the job: a connection that stalls must not hold up a reconcile run
// for the SDK's default (no) timeout.
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 10_000;

type LambdaSdk = typeof import('@aws-sdk/client-lambda');

export class AwsLambdaInvoker implements Invoker {
  readonly functionName: string;
  private sdk: Promise<{ lib: LambdaSdk; client: LambdaClient }> | undefined;

  constructor(private readonly opts: AwsLambdaInvokerOptions) {
    this.functionName = opts.functionName;
  }

  /** The SDK is loaded at the first invoke, not at every cold start: the API and metadata sync never invoke. */
  private lambda(): Promise<{ lib: LambdaSdk; client: LambdaClient }> {
    const opts = this.opts;
    this.sdk ??= import('@aws-sdk/client-lambda').then((lib) => ({
      lib,
      client: new lib.LambdaClient({
        ...(opts.region ? { region: opts.region } : {}),
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(opts.credentials ? { credentials: opts.credentials } : {}),
        ...(opts.maxAttempts ? { maxAttempts: opts.maxAttempts } : {}),
        requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
      }),
    }));
    return this.sdk;
  }

  async invokeReplicator(job: ReplicatorJob): Promise<void> {
    const fail = (d: {
      message: string;
      code?: string | undefined;
      status?: number | undefined;
      requestId?: string | undefined;
      cause?: unknown;
    }) => new InvokeError({ platform: 'aws-lambda', functionName: this.functionName, ...d });
    const { lib, client } = await this.lambda();
    let res: InvokeCommandOutput;
    try {
      res = await client.send(
        new lib.InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'Event',
          Payload: new TextEncoder().encode(JSON.stringify(job)),
        }),
      );
    } catch (err) {
      if (err instanceof lib.LambdaServiceException) {
        throw fail({
          message: err.message,
          code: err.name,
          status: err.$metadata.httpStatusCode,
          requestId: err.$metadata.requestId,
          cause: err,
        });
      }
      // Network errors, timeouts, missing region or credentials: no answer from Lambda at all.
      const code = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.name) : undefined;
      throw fail({ message: err instanceof Error ? err.message : String(err), code, cause: err });
    }
    // 202 is Lambda's "event queued"; any other status (a 200 would mean a synchronous run) or a
    // FunctionError means the job was not handed over as intended.
    if (res.StatusCode !== 202 || res.FunctionError) {
      throw fail({
        message: res.FunctionError
          ? `function error ${res.FunctionError}`
          : `unexpected status ${String(res.StatusCode)} for an Event invoke`,
        code: res.FunctionError,
        status: res.StatusCode,
        requestId: res.$metadata.requestId,
      });
    }
  }
}

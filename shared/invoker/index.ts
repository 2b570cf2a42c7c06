// Chooses the Invoker adapter for this deployment: FERRY_INVOKER = local | aws-lambda | tencent-scf.
import type { FerryConfig } from '../config.ts';
import { AwsLambdaInvoker } from './aws-lambda.ts';
import type { Invoker } from './invoker.ts';
import { TencentScfInvoker } from './tencent-scf.ts';

export function createInvoker(config: FerryConfig, local?: () => Invoker): Invoker {
  const { invoker, replicatorFunction, invokerRegion, invokerEndpoint } = config;
  switch (invoker) {
    case 'aws-lambda':
      return new AwsLambdaInvoker(replicatorFunction, { region: invokerRegion, endpoint: invokerEndpoint });
    case 'tencent-scf':
      if (!invokerRegion) throw new Error('FERRY_INVOKER_REGION is required for tencent-scf');
      return new TencentScfInvoker({ functionName: replicatorFunction, region: invokerRegion, ...(invokerEndpoint ? { endpoint: invokerEndpoint } : {}) });
    case 'local':
      if (!local) throw new Error('FERRY_INVOKER=local runs replicators in-process: only the local runtime can do that');
      return local();
  }
}

// Chooses the Invoker adapter for this deployment: FERRY_INVOKER = local | process | aws-lambda | tencent-scf.
import type { FerryConfig } from '../config.ts';
import { AwsLambdaInvoker } from './aws-lambda.ts';
import type { Invoker } from './invoker.ts';
import { TencentScfInvoker } from './tencent-scf.ts';

// Handlers call createInvoker on every invocation; a warm function instance then reuses one SDK
// client (and its connections and resolved credentials) instead of building a new one each time.
const platformInvokers = new Map<string, Invoker>();

export function createInvoker(config: FerryConfig, local?: () => Invoker): Invoker {
  const { invoker, replicatorFunction: functionName, invokerRegion: region, invokerEndpoint: endpoint } = config;
  if (invoker === 'local' || invoker === 'process') {
    if (!local) throw new Error(`FERRY_INVOKER=${invoker} runs replicators from the local runtime: only the local runtime can do that`);
    return local();
  }
  const key = JSON.stringify([invoker, functionName, region, endpoint]);
  let found = platformInvokers.get(key);
  if (!found) {
    found =
      invoker === 'aws-lambda'
        ? new AwsLambdaInvoker({ functionName, region, endpoint })
        : new TencentScfInvoker({ functionName, region, endpoint });
    platformInvokers.set(key, found);
  }
  return found;
}

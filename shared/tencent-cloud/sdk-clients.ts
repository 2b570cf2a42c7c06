// The Tencent Cloud SDK clients Ferry uses, loaded on first call: the SDK and its HTTP stack cost
// start-up time in every function, and most deployments name no Tencent cluster at all.
import type { Client as TdmqSdkClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import type { Client as TrocketSdkClient } from 'tencentcloud-sdk-nodejs/tencentcloud/services/trocket/v20230308/trocket_client.js';

type ClientClass<C, A extends unknown[]> = new (...args: A) => C;

/**
 * A constructor whose instances load `load()`'s class at their first method call and forward every
 * call to a real instance. Every SDK client method is async, so the caller sees no difference.
 */
export function lazySdkClient<C extends object, A extends unknown[]>(load: () => Promise<ClientClass<C, A>>): ClientClass<C, A> {
  function Lazy(...args: A): C {
    let real: Promise<C> | undefined;
    const instance = () => {
      real ??= load().then((Real) => new Real(...args));
      return real;
    };
    const forward = (prop: string | symbol) =>
      // `then` stays undefined so that awaiting the client itself does not look like a promise.
      prop === 'then'
        ? undefined
        : async (...callArgs: unknown[]) => {
            const c = (await instance()) as Record<string | symbol, (...a: unknown[]) => unknown>;
            return c[prop]!(...callArgs);
          };
    return new Proxy({}, { get: (_target, prop) => forward(prop) }) as C;
  }
  return Lazy as unknown as ClientClass<C, A>;
}

export type { TdmqSdkClient, TrocketSdkClient };

export const TdmqClient = lazySdkClient(
  async () => (await import('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js')).Client,
);
export const TrocketClient = lazySdkClient(
  async () => (await import('tencentcloud-sdk-nodejs/tencentcloud/services/trocket/v20230308/trocket_client.js')).Client,
);

// The RocketMQ 5 gRPC client (rocketmq-client-nodejs), loaded only where a gRPC endpoint is used:
// it brings grpc-js and protobuf, which remoting-only code and bundles never need. Its log lines go
// to Ferry's structured log, not to the file under ~/logs it writes by default (absent on Lambda).
import { format } from 'node:util';
import type { Logger } from '../../log.ts';

type Library = typeof import('rocketmq-client-nodejs');

let loading: Promise<Library> | undefined;

/**
 * Imported by a name esbuild does not follow: the function bundles stay without the client (grpc-js,
 * protobuf and @node-rs/crc32's native addon, which esbuild cannot bundle). Where the package is not
 * installed (a deployed function), the reconciler and replicator load `grpc-client.mjs` from beside
 * their bundle instead: the client bundled on its own with a JavaScript CRC-32 (infra/aws/esbuild-plugins.cjs).
 */
const CLIENT_PACKAGE: string = 'rocketmq-client-nodejs';
const BUNDLED_CLIENT = './grpc-client.mjs';

interface BundledClient {
  client: Library;
  protos: ServiceProtos;
}

let bundled: Promise<BundledClient> | undefined;

/** The package, else the bundle beside this module; rejects with both reasons when neither loads. */
async function fromPackageOrBundle<T>(fromPackage: () => Promise<T>, pick: (b: BundledClient) => T): Promise<T> {
  try {
    return await fromPackage();
  } catch (packageErr) {
    bundled ??= import(new URL(BUNDLED_CLIENT, import.meta.url).href) as Promise<BundledClient>;
    try {
      return pick(await bundled);
    } catch {
      bundled = undefined;
      throw packageErr;
    }
  }
}

export function loadGrpcLibrary(): Promise<Library> {
  const unwrap = (m: Library | { default: Library }) =>
    // A CommonJS module seen from ESM: its exports may sit under `default`.
    ('Producer' in m ? m : (m as { default: Library }).default) as Library;
  loading ??= fromPackageOrBundle(
    async () => unwrap((await import(CLIENT_PACKAGE)) as Library | { default: Library }),
    (b) => unwrap(b.client),
  ).then(
    (lib) => {
      installGuards();
      return lib;
    },
    (err: unknown) => {
      loading = undefined;
      throw new GrpcClientMissingError(err);
    },
  );
  return loading;
}

/** The deployment has no gRPC client beside its bundle: a gRPC side cannot be reached here. */
export class GrpcClientMissingError extends Error {
  constructor(cause: unknown) {
    super(`the gRPC client (${CLIENT_PACKAGE}) is not installed in this deployment: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.name = 'GrpcClientMissingError';
  }
}

type ServiceProtos = typeof import('rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js');

/** The generated request classes (CommonJS without named exports: they sit under `default`). */
export function loadServiceProtos(): Promise<ServiceProtos> {
  const unwrap = (m: ServiceProtos | { default: ServiceProtos }) => ('SendMessageRequest' in m ? m : m.default) as ServiceProtos;
  return fromPackageOrBundle(
    async () =>
      unwrap((await import(`${CLIENT_PACKAGE}/proto/apache/rocketmq/v2/service_pb.js`)) as ServiceProtos | { default: ServiceProtos }),
    (b) => unwrap(b.protos),
  );
}

/** What the client logs, counted by level: a soak or a test reads client errors from here. */
export const clientLogCounts = { warn: 0, error: 0 };

/** The client's logger interface, writing to Ferry's log: its chatty info lines at debug level. */
export function clientLogger(log: Logger) {
  const line = (args: unknown[]) => format(...(args as [unknown, ...unknown[]]));
  return {
    info: (...args: unknown[]) => log.debug({ client: 'rocketmq-grpc' }, line(args)),
    debug: (...args: unknown[]) => log.trace({ client: 'rocketmq-grpc' }, line(args)),
    warn: (...args: unknown[]) => {
      clientLogCounts.warn++;
      log.warn({ client: 'rocketmq-grpc' }, line(args));
    },
    error: (...args: unknown[]) => {
      clientLogCounts.error++;
      log.warn({ client: 'rocketmq-grpc' }, line(args));
    },
    close: () => undefined,
  };
}

/**
 * The client runs timers (route refresh, heartbeat, settings sync) and telemetry streams whose
 * failures can surface as unhandled rejections or stream 'error' events with no listener once a
 * session was released. Node ends the process on either; a replicator must not die because a
 * proxy restarted. Only failures raised from inside the client are absorbed (and counted); anything
 * else keeps Node's default behaviour, rethrown as before.
 */
export const absorbed = { count: 0, last: undefined as string | undefined };

export function isClientFailure(err: unknown): boolean {
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  return (
    /rocketmq-client-nodejs|@grpc[\\/]grpc-js/.test(stack) || (err instanceof Error && err.name.endsWith('Exception') && 'code' in err)
  );
}

let guarded = false;

function installGuards(): void {
  if (guarded) return;
  guarded = true;
  process.on('unhandledRejection', onUnhandled);
}

function onUnhandled(reason: unknown, promise: Promise<unknown>): void {
  if (isClientFailure(reason)) {
    absorbed.count++;
    absorbed.last = reason instanceof Error ? reason.message : String(reason);
    return;
  }
  // Not ours to absorb: behave as Node does without a listener (the process ends).
  if (process.listenerCount('unhandledRejection') === 1) {
    process.off('unhandledRejection', onUnhandled);
    void promise;
    throw reason;
  }
}

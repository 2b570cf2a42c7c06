// What a task may ask of a gRPC (RocketMQ 5 proxy) endpoint. A gRPC consumer reads by subscription
// (SimpleConsumer: receive, then ack), not by queue offset, and a gRPC producer cannot read the
// target back; there is no admin channel. So a start position, a reset, idempotent resume, offset
// and metadata sync that need those are refused, naming the field, never silently dropped. Left at
// their defaults on a task with a gRPC side, the options that cannot work default to off instead.
import { FerryError } from '../errors.ts';
import type { TaskInput } from './schema.ts';

type Side = { protocol?: string; clusterType: string };
type Sides = { direction: string; source: Side; target: Side };
type Definition = Pick<
  TaskInput,
  'direction' | 'source' | 'target' | 'startOffset' | 'filter' | 'idempotentResume' | 'metadataSync' | 'offsetSync'
>;

const isGrpc = (s: Side) => s.protocol === 'grpc';

/** True when some flow of the task reads from a gRPC endpoint. */
export function readsGrpc(d: Sides): boolean {
  return isGrpc(d.source) || (d.direction === 'two-way' && isGrpc(d.target));
}

/** True when some flow of the task writes to a gRPC endpoint. */
export function writesGrpc(d: Sides): boolean {
  return isGrpc(d.target) || (d.direction === 'two-way' && isGrpc(d.source));
}

/** A literal topic name (no pattern characters): what a gRPC subscription can name. */
export const LITERAL_TOPIC = /^[A-Za-z0-9_%|-]+$/;

const refuse = (field: string, message: string): never => {
  throw new FerryError('VALIDATION_FAILED', message, field);
};

/**
 * The definition with the options a gRPC side cannot serve turned off where the body left them at
 * their defaults; VALIDATION_FAILED naming the field where the body asked for one explicitly (or
 * the stored definition holds one, on an edit: `explicit` is then the whole definition).
 */
export function fitGrpcCapabilities<T extends Definition>(d: T, explicit: Record<string, unknown>): T {
  if (!isGrpc(d.source) && !isGrpc(d.target)) return d;
  for (const side of ['source', 'target'] as const) {
    if (isGrpc(d[side]) && d[side].clusterType === 'tencent')
      refuse(`${side}.protocol`, `${side}: gRPC is supported for self-built clusters only; use remoting for a Tencent cluster`);
  }
  const out = { ...d };
  if (readsGrpc(d)) {
    if (d.startOffset.type !== 'latest')
      refuse(
        'startOffset',
        `startOffset ${d.startOffset.type} cannot be honoured on a gRPC source: a gRPC consumer group starts where the broker ` +
          'places a new group (the queue end); use "latest" or the remoting protocol',
      );
    d.filter.topics.include.forEach((t, i) => {
      if (!LITERAL_TOPIC.test(t))
        refuse(`filter.topics.include.${i}`, `a gRPC source subscribes to named topics: "${t}" is a pattern; list topic names`);
    });
  }
  if (writesGrpc(d) && d.idempotentResume) {
    if (explicit.idempotentResume === true)
      refuse(
        'idempotentResume',
        'idempotentResume needs the target read back by queue; a gRPC target cannot be: set it to false (resume is at-least-once)',
      );
    out.idempotentResume = false;
  }
  if (d.offsetSync.enabled) {
    if ((explicit.offsetSync as { enabled?: unknown } | undefined)?.enabled === true)
      refuse('offsetSync.enabled', 'consumer offset sync needs the admin (remoting) channel of both clusters; a gRPC side has none');
    out.offsetSync = { ...d.offsetSync, enabled: false };
  }
  if (d.metadataSync.kinds.length > 0) {
    if ((explicit.metadataSync as { kinds?: unknown } | undefined)?.kinds !== undefined)
      refuse('metadataSync.kinds', 'metadata sync needs the admin (remoting) channel of both clusters; a gRPC side has none: use []');
    out.metadataSync = { ...d.metadataSync, kinds: [] };
  }
  return out;
}

/** A reset replays from a time by queue offsets: a gRPC source has neither. */
export function refuseGrpcReset(d: Sides): void {
  if (readsGrpc(d))
    refuse('timestamp', 'reset-offset needs offsets by time on the source; a gRPC source (consumer group over the proxy) cannot replay');
}
